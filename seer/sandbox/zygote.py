"""Warm fork server for sandbox runs; runs inside its own interpreter (stdlib only).

Started once per parent process by ``seer.sandbox.launcher`` (``python -S -P -c ...``, as the
caller's user, root here). It imports the driver and the stdlib modules programs commonly use,
then only ever forks: it never runs candidate code and holds no secret, so every run starts from
the same pristine interpreter state without paying for interpreter start-up and imports (about
20 ms a program). Per request (five fds + {uid, cwd}) it forks a session leader, which

- in mode "root": unshares network, pid and mount namespaces and forks the driver as pid 1 of the
  new pid namespace. The driver makes its mounts private, mounts a fresh /proc and a fresh small
  tmpfs on each world-writable directory (/tmp, the run's cwd, owned by the run's uid; /var/tmp;
  /run/lock; /dev/shm), so nothing a program writes outlives it, and then runs ``driver.main``.
  When the driver exits, the kernel kills whatever is left in the namespace.
- in mode "none" (no privileges): forks the driver in the given cwd, without namespaces.

The reply carries a pidfd of the session leader: killing it (the parent's last resort) kills the
driver (``PR_SET_PDEATHSIG``) and with it the namespace. pidfds, not pids: pid_max may be 32768.
"""
import ctypes
import gc
import marshal
import os
import signal
import socket

import driver

CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18
PR_SET_PDEATHSIG = 1
PRIVATE_DIRS = ("/tmp", "/var/tmp", "/run/lock", "/dev/shm")
TMPFS_OPTIONS = "size=128m,nr_inodes=8192"
# imported before forking so programs find them loaded (each run gets its own copy-on-write copy)
PRELOAD = ("typing", "re", "collections", "math", "itertools", "functools", "heapq", "bisect",
           "string", "random", "copy", "operator", "json", "decimal", "fractions", "datetime",
           "array", "cmath", "statistics", "hashlib", "dataclasses", "enum", "abc", "io",
           "textwrap", "unicodedata", "time")

_libc = ctypes.CDLL(None, use_errno=True)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(src: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    _check(_libc.mount(src.encode(), target.encode(), fstype.encode() if fstype else None,
                       ctypes.c_ulong(flags), data.encode() if data else None), f"mount {target}")


def serve(sock_fd: int, mode: str = "") -> None:
    """Answer run requests on ``sock_fd`` until the parent goes away. ``mode`` "none" forces the
    unprivileged mode (tests of the fallback); by default the best mode that works is used."""
    for name in PRELOAD:
        __import__(name)
    gc.freeze()  # the collector in a forked run leaves these objects (and their pages) alone
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # session leaders are reaped by the kernel
    sock = socket.socket(fileno=sock_fd)
    mode = mode or _probe()
    sock.send(mode.encode())
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 1 << 16, 8)
        except ConnectionError:
            return
        if not msg:
            return  # the parent is gone
        req = marshal.loads(msg)
        try:
            pid = os.fork()
        except OSError as e:
            for fd in fds:
                os.close(fd)
            socket.send_fds(sock, [f"fork failed: {e}".encode()], [])
            continue
        if pid == 0:
            try:
                sock.close()  # a program must never reach the fork server
                _leader(mode, req, fds)
            finally:
                os._exit(70)
        for fd in fds:
            os.close(fd)
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:  # already gone (and reaped)
            socket.send_fds(sock, [b"gone"], [])
            continue
        socket.send_fds(sock, [b"ok"], [pidfd])
        os.close(pidfd)


def _probe() -> str:
    """"root" if a session with namespaces and private mounts can be set up here, else "none"."""
    if os.geteuid() != 0:
        return "none"
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    pid = os.fork()
    if pid == 0:
        try:
            _unshare()
            child = os.fork()
            if child == 0:
                try:
                    _private_mounts(uid=65534)
                    s = socket.socket()
                    try:
                        s.connect(("127.0.0.1", 9))  # must fail: no network in the namespace
                        os._exit(3)
                    except OSError:
                        os._exit(0)
                finally:
                    os._exit(2)
            os._exit(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))
        finally:
            os._exit(1)
    ok = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    return "root" if ok else "none"


def _unshare() -> None:
    _check(_libc.unshare(CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWNS), "unshare")


def _private_mounts(uid: int) -> None:
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)  # nothing we mount leaks to the host
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    for d in PRIVATE_DIRS:
        if os.path.isdir(d):
            owner = f",uid={uid},gid={uid},mode=0700" if d == "/tmp" else ",mode=1777"
            _mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, TMPFS_OPTIONS + owner)


def _leader(mode: str, req: dict, fds: list) -> None:
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    if mode == "root":
        _unshare()
    pid = os.fork()
    if pid == 0:
        try:
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            for target, fd in enumerate(fds):  # stdin, stdout, stderr, results, control
                os.dup2(fd, 10 + target)
            for target in range(len(fds)):
                os.dup2(10 + target, target)
            os.closerange(len(fds), 1 << 16)
            try:
                if mode == "root":
                    _private_mounts(req["uid"])
                    cwd = "/tmp"
                else:
                    cwd = req["cwd"]
                os.chdir(cwd)
                os.environ["HOME"] = os.environ["TMPDIR"] = cwd
            except BaseException as e:  # the machine, not the program: tell the parent
                os.write(3, b"F " + driver.codec.dumps(f"session setup: {type(e).__name__}: {e}").encode() + b"\n")
                raise
            driver.main(["", "3", "4"])
        finally:
            os._exit(70)
    for fd in fds:  # only the driver holds the run's pipes: EOF means it is gone
        os.close(fd)
    os._exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) & 0xFF)
