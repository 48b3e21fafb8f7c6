"""The runner's entry into isolation; runs inside the sandboxed interpreter (stdlib only).

``enter`` is called by the driver in each freshly forked runner, before any candidate code is
compiled or run. It puts the runner's fds in place and closes every other one, sets
no_new_privs, applies the rlimits, and then, by mode (``seer/sandbox/isolation.py``):

- "root": locks the securebits and empties the bounding set, drops to the run's leased uid (so
  the driver and the checkers, root, are out of its reach: no signal, no ptrace, no /proc files);
- "userns": the runner has the driver's uid (only one uid can be mapped without privileges), so
  it is kept from the driver, the checkers and everything else outside it another way. With
  Landlock's scoping (Linux 6.12+): a Landlock domain of its own, outside of which it may not
  send signals, ptrace or read /proc files (the run's /proc is mounted with ``hidepid=2``, so it
  does not even see those processes), nor connect to abstract unix sockets. On older kernels:
  the runner makes a user namespace of its own with new pid and mount namespaces; a small "init"
  process becomes pid 1 there, mounts a /proc that shows only that namespace and forbids further
  user namespaces, and the program runs in its child; the runner and the init only wait and
  pass the program's exit status on, and when the program ends, everything it started ends with
  the namespace. (Mode "root" gets the Landlock domain too, where there is one.)

Finally it drops every capability and installs a seccomp filter that refuses the system calls a
program has no use for and that would reach past the run's namespaces or limits (memfds,
keyrings, namespaces and mounts, ptrace, io_uring, bpf, ...).
"""
import ctypes
import errno
import os
import platform
import resource
import signal
import struct
import sys

REPORT_FD = 3  # runner -> driver reports
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_SECUREBITS = 1, 4, 24, 28
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
RUN_UID = 1000  # uid of driver and program in their user namespaces (mode "userns")
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
# the Landlock system calls have these numbers on every architecture
_SYS_LANDLOCK_CREATE_RULESET, _SYS_LANDLOCK_RESTRICT_SELF = 444, 446
LANDLOCK_CREATE_RULESET_VERSION, LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET, LANDLOCK_SCOPE_SIGNAL = 1, 1, 2
# NOROOT(+LOCKED): exec as uid 0 grants no capabilities; KEEP_CAPS_LOCKED; NO_CAP_AMBIENT_RAISE(+LOCKED)
SECUREBITS = 0x01 | 0x02 | 0x20 | 0x40 | 0x80
_libc = ctypes.CDLL(None, use_errno=True)  # ctypes is already loaded in the fork server
_prctl, _capset = _libc.prctl, _libc.capset  # resolved once, in the fork server

# --- seccomp: refused system calls (x86_64, aarch64; see the module docstring) --------------
# (numbers from the kernel's unistd headers; aarch64 uses the generic table, untested here)
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_DENY = {"x86_64": {
    319: "memfd_create", 447: "memfd_secret", 248: "add_key", 249: "request_key", 250: "keyctl",
    425: "io_uring_setup", 426: "io_uring_enter", 427: "io_uring_register", 323: "userfaultfd",
    321: "bpf", 298: "perf_event_open", 101: "ptrace", 310: "process_vm_readv",
    311: "process_vm_writev", 272: "unshare", 308: "setns", 165: "mount", 166: "umount2",
    155: "pivot_root", 428: "open_tree", 429: "move_mount", 430: "fsopen", 431: "fsconfig",
    432: "fsmount", 433: "fspick", 442: "mount_setattr", 246: "kexec_load", 320: "kexec_file_load",
    175: "init_module", 313: "finit_module", 176: "delete_module", 167: "swapon", 168: "swapoff",
    169: "reboot", 163: "acct", 179: "quotactl", 303: "name_to_handle_at", 304: "open_by_handle_at",
}, "aarch64": {
    279: "memfd_create", 447: "memfd_secret", 217: "add_key", 218: "request_key", 219: "keyctl",
    425: "io_uring_setup", 426: "io_uring_enter", 427: "io_uring_register", 282: "userfaultfd",
    280: "bpf", 241: "perf_event_open", 117: "ptrace", 270: "process_vm_readv",
    271: "process_vm_writev", 97: "unshare", 268: "setns", 40: "mount", 39: "umount2",
    41: "pivot_root", 428: "open_tree", 429: "move_mount", 430: "fsopen", 431: "fsconfig",
    432: "fsmount", 433: "fspick", 442: "mount_setattr", 104: "kexec_load", 294: "kexec_file_load",
    105: "init_module", 273: "finit_module", 106: "delete_module", 224: "swapon", 225: "swapoff",
    142: "reboot", 89: "acct", 60: "quotactl", 264: "name_to_handle_at", 265: "open_by_handle_at",
}}
_CLONE, _CLONE3 = {"x86_64": 56, "aarch64": 220}, {"x86_64": 435, "aarch64": 435}
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME
_CLONE_NS_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80
_X32_BIT = 0x40000000
_RET_ALLOW, _RET_KILL, _RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000


def enter(p: dict, report_w: int, stdio: tuple | None) -> None:
    """Confine the calling runner (see the module docstring); raises OSError if any step fails.
    In mode "userns" it returns in a new process (the program's); the caller's own process never
    returns from here."""
    if stdio is not None:
        os.dup2(stdio[0], 0)
        os.dup2(stdio[1], 1)
    os.dup2(os.dup2(report_w, 200), REPORT_FD)  # via 200: report_w may be 0 or 1 (the targets)
    os.closerange(REPORT_FD + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
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
    if p["uid"] >= 0:  # mode "root"
        lock_capabilities()
        os.setgroups([])
        os.setresgid(p["gid"], p["gid"], p["gid"])
        os.setresuid(p["uid"], p["uid"], p["uid"])
    elif p["pidns"] and not LANDLOCK_SCOPES:  # mode "userns" on kernels before 6.12
        _enter_own_pid_namespace()
        lock_capabilities()
    if p["pidns"] and LANDLOCK_SCOPES:
        _scope_with_landlock()
    _prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # the program may see its own children in /proc
    drop_capabilities()
    install_seccomp()
    sys.dont_write_bytecode = True
    sys.argv[:] = ["main.py"]


def _scope_with_landlock() -> None:
    """A Landlock domain of the runner's own: it and its descendants may not signal, trace or
    read /proc files of any process outside it, nor connect to abstract unix sockets made
    outside it."""
    attr = struct.pack("<QQQ", 0, 0, LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL)
    fd = _libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, attr, len(attr), 0)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
    try:
        if _libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, fd, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(fd)


def _landlock_abi() -> int:
    abi = _libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, 0, LANDLOCK_CREATE_RULESET_VERSION)
    return max(abi, 0)


def _enter_own_pid_namespace() -> None:
    """user + pid + mount namespaces of the runner's own; returns in the program's process."""
    _prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # /proc/self/*_map of a non-dumpable process: host root's
    if _libc.unshare(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(user, pid, mount) for the program")
    same = f"{RUN_UID} {RUN_UID} 1"
    for name, text in (("setgroups", "deny"), ("uid_map", same), ("gid_map", same)):
        write_file(f"/proc/self/{name}", text)
    _prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    _relay_exit(os.fork(), init=False)  # the runner: out of the program's pid namespace
    # pid 1 of the new namespace; its own /proc shows only this namespace, and not itself
    if _libc.mount(b"proc", b"/proc", b"proc", ctypes.c_ulong(MS_NOSUID | MS_NODEV | MS_NOEXEC), b"hidepid=2") != 0:
        raise OSError(ctypes.get_errno(), "mount /proc for the program")
    write_file("/proc/sys/user/max_user_namespaces", "0")
    _relay_exit(os.fork(), init=True)  # the program must not be init: signals would not reach it


def _relay_exit(child: int, init: bool) -> None:
    """In the parent (``child`` > 0): close everything, wait for ``child`` and end the same way
    (a signal as exit status 128 + signal from an init, which cannot signal itself); returns
    only in the child."""
    if child == 0:
        return
    try:
        os.closerange(0, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        _, status = os.waitpid(child, 0)
        code = os.waitstatus_to_exitcode(status)
        if code >= 128 and not init:  # from the init below: the program died of a signal
            code = -(code - 128)
        if code < 0:
            if init:
                os._exit(128 - code)
            signal.signal(-code, signal.SIG_DFL)
            os.kill(os.getpid(), -code)
        os._exit(code & 0xFF)
    finally:
        os._exit(70)


def write_file(path: str, text: str) -> None:
    """Write `text` to a /proc or /sys file (one write: these files take a value per write)."""
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)
    except OSError as e:
        raise OSError(e.errno, f"writing {text!r} to {path}: {e.strerror}") from None


def lock_capabilities() -> None:
    """While still privileged (in the run's user namespace): empty the bounding set and lock
    the securebits, so neither exec nor a uid change can give capabilities back."""
    cap = 0
    while _prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
        cap += 1
    if ctypes.get_errno() != errno.EINVAL or cap == 0:  # EINVAL: past the last capability
        raise OSError(ctypes.get_errno(), f"prctl(PR_CAPBSET_DROP, {cap}) failed")
    if _prctl(PR_SET_SECUREBITS, SECUREBITS, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECUREBITS) failed")


def drop_capabilities() -> None:
    header = struct.pack("<Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = bytes(24)  # effective, permitted, inheritable = 0 (two 32-bit words each)
    if _capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


LANDLOCK_SCOPES = _landlock_abi() >= 6  # signal and abstract unix socket scoping (Linux 6.12)


def seccomp_supported() -> bool:
    return _FILTER is not None


def install_seccomp() -> None:
    """Install ``_FILTER`` (see ``_build_filter``); sets no_new_privs, which it requires."""
    if _FILTER is None:
        return
    if _prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if _prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, _FILTER[0], 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def _build_filter(arch: str) -> tuple[bytes, object] | None:
    """The filter: refuse the system calls in ``_DENY`` (EPERM), namespace-creating ``clone``
    flags (EPERM) and ``clone3`` (ENOSYS: glibc then falls back to ``clone``); other ABIs' system
    call numbers (x32) are refused and a foreign audit arch kills the process. Built once, in the
    fork server; returns (struct sock_fprog, the buffer it points to) or None (no table here)."""
    if arch not in _DENY:
        return None
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
    buf = ctypes.create_string_buffer(b"".join(struct.pack("<HBBI", *i) for i in ins))
    return struct.pack("<HxxxxxxQ", len(ins), ctypes.addressof(buf)), buf


_FILTER = _build_filter(platform.machine())
