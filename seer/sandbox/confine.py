"""The runner's entry into isolation; runs inside the sandboxed interpreter (stdlib only).

``enter`` is called by the driver in each freshly forked runner, before any candidate code is
compiled or run: it puts the runner's fds in place and closes every other one, sets
no_new_privs, applies the rlimits, drops to the sandbox uid (mode "root"), drops every
capability and locks them out (securebits: uid 0 of the run's user namespace gains nothing from
exec), volunteers the runner for the OOM killer, and installs a seccomp filter that refuses the
system calls a program has no use for and that would reach past the run's namespaces or limits
(memfds, keyrings, namespaces and mounts, ptrace, io_uring, bpf, ...). ``MODE`` is set by the fork
server before it forks anything. See ``seer/sandbox/isolation.py`` for what each mode isolates.
"""
import ctypes
import errno
import os
import platform
import resource
import struct
import sys

REPORT_FD = 3  # runner -> driver reports; the re-opened sys.path directories follow it
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_SECUREBITS = 1, 4, 24, 28
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
# NOROOT(+LOCKED): exec as uid 0 grants no capabilities; KEEP_CAPS_LOCKED; NO_CAP_AMBIENT_RAISE(+LOCKED)
SECUREBITS = 0x01 | 0x02 | 0x20 | 0x40 | 0x80
MODE = "weak"  # "root" | "userns" | "weak": set by the fork server (zygote.py)
_libc = ctypes.CDLL(None, use_errno=True)  # ctypes is already loaded in the fork server
_prctl = _libc.prctl

# --- seccomp: refused system calls (x86_64; see the module docstring) -----------------------
_AUDIT_ARCH = {"x86_64": 0xC000003E}
_DENY = {"x86_64": {
    319: "memfd_create", 447: "memfd_secret", 248: "add_key", 249: "request_key", 250: "keyctl",
    425: "io_uring_setup", 426: "io_uring_enter", 427: "io_uring_register", 323: "userfaultfd",
    321: "bpf", 298: "perf_event_open", 101: "ptrace", 310: "process_vm_readv",
    311: "process_vm_writev", 272: "unshare", 308: "setns", 165: "mount", 166: "umount2",
    155: "pivot_root", 428: "open_tree", 429: "move_mount", 430: "fsopen", 431: "fsconfig",
    432: "fsmount", 433: "fspick", 442: "mount_setattr", 246: "kexec_load", 320: "kexec_file_load",
    175: "init_module", 313: "finit_module", 176: "delete_module", 167: "swapon", 168: "swapoff",
    169: "reboot", 163: "acct", 179: "quotactl", 303: "name_to_handle_at", 304: "open_by_handle_at",
}}
_CLONE, _CLONE3 = {"x86_64": 56}, {"x86_64": 435}
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME
_CLONE_NS_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80
_X32_BIT = 0x40000000
_RET_ALLOW, _RET_KILL, _RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000


def enter(p: dict, report_w: int, stdio: tuple | None, path_fds: list, path_dirs: list) -> None:
    """Confine the calling runner (see the module docstring); raises OSError if any step fails."""
    if stdio is not None:
        os.dup2(stdio[0], 0)
        os.dup2(stdio[1], 1)
    keep = [report_w] + path_fds
    high = [os.dup2(fd, 200 + k) for k, fd in enumerate(keep)]  # out of the way of the targets
    for k, fd in enumerate(high):
        os.dup2(fd, REPORT_FD + k)
    os.closerange(REPORT_FD + len(keep), resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    if not p["pidns"]:  # no namespace to take everything down with the driver
        os.setpgid(0, 0)
        _prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)
    if _prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:  # setuid-root binaries stay unprivileged
        raise OSError("prctl(PR_SET_NO_NEW_PRIVS) failed")
    for name, value in p["limits"].items():
        res = getattr(resource, name)
        soft, hard = value if isinstance(value, tuple) else (value, value)
        cur_hard = resource.getrlimit(res)[1]
        if cur_hard != resource.RLIM_INFINITY:  # only ever lower a limit
            soft, hard = min(soft, cur_hard), min(hard, cur_hard)
        resource.setrlimit(res, (soft, hard))
    # under memory pressure, programs go first; /proc/self/* of a non-dumpable process belong
    # to the host's root, so be dumpable for the write (the program may set that itself anyway)
    _prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write("1000")
    _prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    if MODE != "weak":
        _lock_capabilities()
    if p["uid"] >= 0:
        os.setgroups([])
        os.setresgid(p["gid"], p["gid"], p["gid"])
        os.setresuid(p["uid"], p["uid"], p["uid"])
        dirs = [f"/proc/self/fd/{REPORT_FD + 1 + k}" for k in range(len(path_fds))]
        sys.path[:] = dirs
        for mod in list(sys.modules.values()):  # packages already imported keep importing submodules
            paths = getattr(mod, "__path__", None)
            if isinstance(paths, list):
                for j, d in enumerate(paths):
                    for o, n in zip(path_dirs, dirs):
                        if d.startswith(o + "/"):
                            paths[j] = n + d[len(o):]
        sys.path_importer_cache.clear()
    _drop_capabilities()
    install_seccomp()
    sys.dont_write_bytecode = True
    sys.argv[:] = ["main.py"]


def _lock_capabilities() -> None:
    """While still privileged in the run's user namespace: empty the bounding set and lock the
    securebits, so neither exec nor a later uid change can give capabilities back."""
    cap = 0
    while _prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
        cap += 1
    if ctypes.get_errno() != errno.EINVAL or cap == 0:  # EINVAL: past the last capability
        raise OSError(ctypes.get_errno(), f"prctl(PR_CAPBSET_DROP, {cap}) failed")
    if _prctl(PR_SET_SECUREBITS, SECUREBITS, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECUREBITS) failed")


def _drop_capabilities() -> None:
    header = struct.pack("<Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = bytes(24)  # effective, permitted, inheritable = 0 (two 32-bit words each)
    if _libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def seccomp_supported() -> bool:
    return platform.machine() in _DENY


def install_seccomp() -> None:
    """Refuse the system calls in ``_DENY`` (EPERM), namespace-creating ``clone`` flags (EPERM)
    and ``clone3`` (ENOSYS: glibc then falls back to ``clone``); other architectures' system
    call numbers (x32) are refused, a foreign audit arch kills the process."""
    arch = platform.machine()
    if arch not in _DENY:
        return
    ins: list[tuple[int, int, int, int]] = [
        (0x20, 0, 0, 4),  # ld arch
        (0x15, 1, 0, _AUDIT_ARCH[arch]),  # jeq -> skip the kill
        (0x06, 0, 0, _RET_KILL),
        (0x20, 0, 0, 0),  # ld nr
        (0x35, 0, 1, _X32_BIT),  # jge
        (0x06, 0, 0, _RET_ERRNO | errno.ENOSYS),
        (0x15, 0, 1, _CLONE3[arch]),
        (0x06, 0, 0, _RET_ERRNO | errno.ENOSYS),
    ]
    for nr in _DENY[arch]:
        ins += [(0x15, 0, 1, nr), (0x06, 0, 0, _RET_ERRNO | errno.EPERM)]
    ins += [
        (0x15, 0, 3, _CLONE[arch]),
        (0x20, 0, 0, 16),  # ld args[0] (low 32 bits: the flags)
        (0x45, 0, 1, _CLONE_NS_FLAGS),  # jset
        (0x06, 0, 0, _RET_ERRNO | errno.EPERM),
        (0x06, 0, 0, _RET_ALLOW),
    ]
    if _prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:  # required for an unprivileged filter
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    prog = b"".join(struct.pack("<HBBI", *i) for i in ins)
    buf = ctypes.create_string_buffer(prog)
    fprog = struct.pack("<HxxxxxxQ", len(ins), ctypes.addressof(buf))
    if _prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, fprog, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
