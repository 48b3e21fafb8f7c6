"""Warm fork server for sandbox runs; runs inside its own interpreter (stdlib only).

Started once per parent process by ``seer.sandbox.launcher`` (``python -S -P -c ...``, as the
caller's user). It imports the driver and the stdlib modules programs commonly use, then only
ever forks: it never runs candidate code and holds no secret, so every run starts from the same
pristine interpreter state without paying for interpreter start-up and imports (about 20 ms a
program). It is not dumpable (nor is anything it forks, unless it makes itself so):
processes of the same user cannot ptrace it or read its /proc files.

Set-up, once (modes "root" and "userns"; see ``seer/sandbox/isolation.py``):
- "userns" only: a user namespace of its own where it is uid 0 (mapped to the caller's uid), so
  it may create the other namespaces and mount;
- a mount namespace of its own in which it pivots into the minimal read-only root
  (``rootfs.py``); the per-run memory cgroups' parent is opened before that (``memcg.py``).

Ahead of requests it keeps ``SPARES`` session leaders forked, each already in a fresh memory
cgroup of its own (when there is one; joining a cgroup v1 costs about 10 ms, a third of a run).
Per request (five fds + {uid, cwd, memory_mb}) it limits a spare's cgroup to the run's memory and
hands it the request; the leader unshares a pid namespace and forks the driver, pid 1 there.
The driver unshares mount, network, IPC and UTS namespaces, mounts a fresh /proc and one bounded
tmpfs (the run's memory size) that holds both /tmp (its cwd) and /dev/shm, bounds SysV IPC, sets
the host name, joins a new session keyring and volunteers for the OOM killer. In mode "userns" it
then unshares a user namespace of its own (uid ``RUN_UID`` there), where runners may create one
more each (``confine.py``), and drops every capability. Then it runs ``driver.main``. When the
driver exits, the kernel kills whatever is left in the namespace.

The reply carries a pidfd of the session leader: killing it (the parent's last resort) kills the
driver (``PR_SET_PDEATHSIG``) and with it the namespace. pidfds, not pids: pid_max may be 32768.
"""
import ctypes
import fcntl
import gc
import marshal
import os
import select
import signal
import socket

import confine
import driver
import memcg
import rootfs

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND = 2, 4, 8, 4096
PR_SET_PDEATHSIG, PR_SET_DUMPABLE = 1, 4
KEYCTL_JOIN_SESSION_KEYRING = 1
_SYS_KEYCTL = {"x86_64": 250, "aarch64": 219}
TRUSTED_MB = 64  # the driver's own share of a run's memory cgroup
DEFAULT_MEMORY_MB = 1024  # a request without memory_mb (SandboxConfig.memory_mb's default)
TMPFS_INODES = 4096
RUN_UID = confine.RUN_UID
SPARES = 2  # session leaders forked (and in their memory cgroups) ahead of requests
RUNNER_USERNS = 16  # user namespaces a run may hold at once (one per runner, freed lazily)
# imported before forking so programs find them loaded (each run gets its own copy-on-write copy)
PRELOAD = ("typing", "re", "collections", "math", "itertools", "functools", "heapq", "bisect",
           "string", "random", "copy", "operator", "json", "decimal", "fractions", "datetime",
           "array", "cmath", "statistics", "hashlib", "dataclasses", "enum", "abc", "io",
           "textwrap", "unicodedata", "time")
# SysV IPC of one run: shm pages (4 KiB) and message queue bytes; its IPC namespace dies with it
IPC_SYSCTLS = (("kernel/shmmni", "16"), ("kernel/msgmni", "16"), ("kernel/msgmnb", "65536"),
               ("kernel/sem", "32 256 32 16"))
ENABLE_USERNS = ("unprivileged user namespaces are not available here: enable them (sysctl "
                 "user.max_user_namespaces=15000; on Debian/Ubuntu kernels also "
                 "kernel.unprivileged_userns_clone=1; on Ubuntu 24.04+ "
                 "kernel.apparmor_restrict_unprivileged_userns=0), run as root, or set "
                 "sandbox.allow_weak=true to accept the weak mode")

_libc = ctypes.CDLL(None, use_errno=True)
_machine = os.uname().machine


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def serve(sock_fd: int, mode: str = "") -> None:
    """Answer run requests on ``sock_fd`` until the parent goes away. ``mode`` "weak" forces the
    weak mode; "" sets up the strongest mode this machine allows and reports "unavailable: why"
    when that is neither "root" nor "userns"; "nested" does too, but keeps programs from the
    driver as on kernels without Landlock scoping (for its tests)."""
    if mode == "nested":
        confine.LANDLOCK_SCOPES, mode = False, ""
    for name in PRELOAD:
        __import__(name)
    sock = socket.socket(fileno=sock_fd)
    cgroups = None
    if mode != "weak":
        try:
            mode = "root" if os.geteuid() == 0 else "userns"
            cgroups = memcg.RunCgroups()
            _enter_own_namespaces(mode)
            _probe(mode)
        except NoUserNamespaces as e:
            sock.send(f"unavailable: {ENABLE_USERNS} ({e})".encode())
            return
        except OSError as e:
            sock.send(f"unavailable: the {mode} sandbox could not be set up here: {e}".encode())
            return
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # only now: our own /proc/self/*_map were writable
    gc.freeze()  # the collector in a forked run leaves these objects (and their pages) alone
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # session leaders are reaped by the kernel
    sock.send(f"{mode} {'memcg' if cgroups and cgroups.available else 'nomemcg'}".encode())
    try:
        _serve_loop(sock, mode, cgroups)
    finally:
        if cgroups is not None:
            _drain(cgroups)


class _Spare:
    """A session leader forked ahead of a request, in its memory cgroup already (joining one is
    the slowest step of a run's set-up on cgroup v1), waiting on ``chan`` for the request."""

    def __init__(self, pid: int, pidfd: int, chan: socket.socket, cg: str) -> None:
        self.pid, self.pidfd, self.chan, self.cg = pid, pidfd, chan, cg


def _serve_loop(sock: socket.socket, mode: str, cgroups: "memcg.RunCgroups | None") -> None:
    spares: list = []
    try:
        while True:
            while len(spares) < SPARES:  # between requests: off the runs' critical path
                try:
                    spares.append(_fork_spare(sock, mode, cgroups, spares))
                except OSError:
                    break  # out of processes or cgroups for now: made on demand
            try:
                msg, fds, _, _ = socket.recv_fds(sock, 1 << 16, 8)
            except ConnectionError:
                return
            if not msg:
                return  # the parent is gone
            _handle(sock, mode, cgroups, spares, msg, fds)
    finally:
        for spare in spares:  # each ends on EOF
            spare.chan.close()
            _retire(cgroups, spare)


def _handle(sock: socket.socket, mode: str, cgroups: "memcg.RunCgroups | None", spares: list,
            msg: bytes, fds: list) -> None:
    if cgroups is not None:
        cgroups.reap()
    try:
        spare = _hand_over(sock, mode, cgroups, spares, msg, fds)
    except OSError as e:  # fork or cgroup
        socket.send_fds(sock, [f"fork failed: {e}".encode()], [])
        return
    finally:
        for fd in fds:  # only the driver holds the run's pipes: EOF means it is gone
            os.close(fd)
    socket.send_fds(sock, [b"ok"], [spare.pidfd])
    spare.chan.close()
    _retire(cgroups, spare)


def _hand_over(sock: socket.socket, mode: str, cgroups: "memcg.RunCgroups | None", spares: list,
               msg: bytes, fds: list) -> _Spare:
    """Give the request to a spare, limiting its cgroup to the run's memory (a fresh spare when
    none is left, or when they died: killed from outside)."""
    limit = (_memory_mb(marshal.loads(msg)) + TRUSTED_MB) << 20
    while True:
        fresh = not spares
        spare = spares.pop(0) if spares else _fork_spare(sock, mode, cgroups, spares)
        try:
            if spare.cg:
                cgroups.limit(spare.cg, limit)
            socket.send_fds(spare.chan, [msg], fds)
            return spare
        except OSError:
            spare.chan.close()
            _retire(cgroups, spare)
            if fresh:
                raise


def _retire(cgroups: "memcg.RunCgroups | None", spare: _Spare) -> None:
    """The fork server is done with ``spare``: its cgroup goes once it has exited."""
    if spare.cg:
        cgroups.remove_later(spare.pidfd, spare.cg)
    else:
        os.close(spare.pidfd)


def _fork_spare(sock: socket.socket, mode: str, cgroups: "memcg.RunCgroups | None",
                spares: list) -> _Spare:
    cg = cgroups.create() if cgroups is not None and cgroups.available else ""
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        pid = os.fork()
    except OSError:
        mine.close()
        theirs.close()
        if cg:
            os.rmdir(cg, dir_fd=cgroups.dir_fd)
        raise
    if pid == 0:
        try:
            for s in [sock, mine] + [other.chan for other in spares]:
                s.close()  # a program must never reach the fork server nor other runs
            _spare(mode, theirs, cgroups if cg else None, cg)
        finally:
            os._exit(70)
    theirs.close()
    try:  # it waits for its request: its pid cannot have been reaped and reused yet
        return _Spare(pid, os.pidfd_open(pid), mine, cg)
    except OSError:  # it failed already (e.g. joining its cgroup)
        mine.close()
        raise


def _spare(mode: str, chan: socket.socket, cgroups: "memcg.RunCgroups | None", cg: str) -> None:
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    if cgroups is not None:
        cgroups.join(cg)
    msg, fds, _, _ = socket.recv_fds(chan, 1 << 16, 8)
    chan.close()
    if msg:
        _leader(mode, marshal.loads(msg), fds)


def _drain(cgroups: "memcg.RunCgroups") -> None:
    """Remove the cgroups of the last runs once they ended (the parent is gone)."""
    for _ in range(50):
        cgroups.reap()
        if not cgroups.pending:
            return
        select.select([], [], [], 0.02)


class NoUserNamespaces(OSError):
    """This user may not create user namespaces here."""


def _enter_own_namespaces(mode: str) -> None:
    if mode == "userns":
        uid, gid = os.geteuid(), os.getegid()
        try:
            _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare(CLONE_NEWUSER)")
            confine.write_file("/proc/self/setgroups", "deny")
            confine.write_file("/proc/self/uid_map", f"0 {uid} 1")
            confine.write_file("/proc/self/gid_map", f"0 {gid} 1")
            # a namespace without capabilities (e.g. AppArmor's restriction) fails here
            rootfs.mount(None, "/", None, rootfs.MS_REC | rootfs.MS_PRIVATE)
        except OSError as e:
            raise NoUserNamespaces(e.errno, str(e)) from None
    else:
        _check(_libc.unshare(CLONE_NEWNS), "unshare(mount)")
        rootfs.mount(None, "/", None, rootfs.MS_REC | rootfs.MS_PRIVATE)
    rootfs.enter_minimal_root()


def _probe(mode: str) -> None:
    """One run's whole set-up in a child, which also checks that the network is unreachable;
    raises OSError naming what failed."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            _check(_libc.unshare(CLONE_NEWPID), "unshare(pid)")
            child = os.fork()
            if child == 0:
                try:
                    w = os.dup2(w, confine.REPORT_FD)
                    _enter_run(mode, 65534 if mode == "root" else -1, 16)
                    confine.enter({"pidns": True, "limits": {}, "uid": 65534 if mode == "root" else -1,
                                   "gid": 65534}, w, None)
                    if confine.seccomp_supported():
                        try:
                            os.memfd_create("probe")
                            os.write(w, b"the seccomp filter did not refuse memfd_create")
                        except PermissionError:
                            pass
                    s = socket.socket()
                    try:
                        s.connect(("127.0.0.1", 9))
                        os.write(w, b"the network is reachable from a run")
                    except OSError:
                        pass
                except BaseException as e:  # noqa: BLE001 -- reported to the fork server
                    os.write(w, f"{type(e).__name__}: {e}".encode())
                finally:
                    os._exit(0)
            os.waitpid(child, 0)
        except BaseException as e:  # noqa: BLE001
            os.write(w, f"{type(e).__name__}: {e}".encode())
        finally:
            os._exit(0)
    os.close(w)
    err = b""
    while chunk := os.read(r, 4096):
        err += chunk
    os.close(r)
    os.waitpid(pid, 0)
    if err:
        raise OSError(err.decode(errors="replace"))


def _enter_run(mode: str, uid: int, memory_mb: int) -> None:
    """Driver side, as pid 1 of the run's pid namespace: the run's own namespaces, mounts and
    limits (see the module docstring); in mode "root", ``uid`` is the run's leased uid."""
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    # hidepid: a process sees in /proc only the processes it may ptrace, so not the driver,
    # the checkers or (mode "root") anything of root
    rootfs.mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2")
    # one tmpfs of the run's memory size holds both /tmp (the cwd) and /dev/shm, so that without
    # a memory cgroup their files together stay within it; its own root ends up hidden
    owner = f",uid={uid},gid={uid}" if uid >= 0 else ""
    rootfs.mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
                 f"size={memory_mb}m,nr_inodes={TMPFS_INODES},mode=0700{owner}")
    os.mkdir("/tmp/shm", 0o1777)
    os.chmod("/tmp/shm", 0o1777)  # not narrowed by the umask
    os.mkdir("/tmp/tmp", 0o700)
    if uid >= 0:
        os.chown("/tmp/tmp", uid, uid)
    rootfs.mount("/tmp/shm", "/dev/shm", None, MS_BIND)
    rootfs.mount("/tmp/tmp", "/tmp", None, MS_BIND)
    shm_pages = (memory_mb << 20) // os.sysconf("SC_PAGE_SIZE")
    for key, value in IPC_SYSCTLS + (("kernel/shmall", str(shm_pages)),
                                     ("kernel/shmmax", str(shm_pages * os.sysconf("SC_PAGE_SIZE")))):
        confine.write_file(f"/proc/sys/{key}", value)
    _check(_libc.sethostname(b"sandbox", 7), "sethostname")
    if _libc.syscall(_SYS_KEYCTL[_machine], KEYCTL_JOIN_SESSION_KEYRING, None) < 0:
        raise OSError(ctypes.get_errno(), "keyctl(JOIN_SESSION_KEYRING)")
    _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # /proc/self/* of a non-dumpable process: host root's
    confine.write_file("/proc/self/oom_score_adj", "1000")  # under memory pressure, a run goes first
    if mode == "userns":
        # a user namespace of the run's own, mapping only our uid (as RUN_UID: not 0, so that a
        # runner, without capabilities, may map it into its own namespace): a fresh set of keyrings and
        # process counts per run, and capabilities over nothing but itself. Each runner makes
        # one more inside it for its program (confine.py), and nothing below that.
        _check(_libc.unshare(CLONE_NEWUSER), "unshare(user)")
        confine.write_file("/proc/self/setgroups", "deny")
        confine.write_file("/proc/self/uid_map", f"{RUN_UID} 0 1")
        confine.write_file("/proc/self/gid_map", f"{RUN_UID} 0 1")
        confine.write_file("/proc/sys/user/max_user_namespaces",
                           "0" if confine.LANDLOCK_SCOPES else str(RUNNER_USERNS))
        confine.lock_capabilities()  # the driver needs none from here on
        confine.drop_capabilities()
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    os.chdir("/tmp")
    os.environ["HOME"] = os.environ["TMPDIR"] = "/tmp"


def _memory_mb(req: dict) -> int:
    return max(int(req.get("memory_mb") or DEFAULT_MEMORY_MB), 16)


def _leader(mode: str, req: dict, fds: list) -> None:
    if mode != "weak":
        _check(_libc.unshare(CLONE_NEWPID), "unshare(pid)")  # the driver is pid 1 there
    pid = os.fork()
    if pid == 0:
        try:
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # pid 1 gets only signals it handles
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in fds]
            for target, fd in enumerate(high):  # stdin, stdout, stderr, results, control
                os.dup2(fd, target)
            os.closerange(len(high), 1 << 16)
            try:
                if mode != "weak":
                    _enter_run(mode, req["uid"], _memory_mb(req))
                else:
                    os.chdir(req["cwd"])
                    os.environ["HOME"] = os.environ["TMPDIR"] = req["cwd"]
                _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
            except BaseException as e:  # the machine, not the program: tell the parent
                os.write(3, b"F " + driver.codec.dumps(f"session setup: {type(e).__name__}: {e}").encode() + b"\n")
                raise
            driver.main(["", "3", "4"])
        finally:
            os._exit(70)
    for fd in fds:  # only the driver holds the run's pipes: EOF means it is gone
        os.close(fd)
    os._exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) & 0xFF)
