"""What this machine lets the sandbox do, and the per-run resources that depend on it.

Two modes, found once per process by the fork server (``seer/sandbox/zygote.py``):

- ``root``: running as root. Each run gets new pid, network and mount namespaces; the driver is
  pid 1 there, so ending the run kills everything it started (fork bombs, ``setsid`` escapees,
  threads) and nothing else. Candidate code runs under a leased unprivileged uid (60000+k, one per
  concurrent run in any process, ``flock``-ed), so ``RLIMIT_NPROC`` applies to it alone and files
  outside its private tmpfs cwd are read-only to it. No network (loopback down, no interfaces).
  /tmp, /var/tmp, /run/lock and /dev/shm are fresh tmpfs mounts that vanish with the run.
- ``none`` (not root): no namespaces. Processes are killed by process group, so a program that
  calls ``setsid`` in a grandchild can leave it running; the network is open; the program runs as
  the caller and can read and write the caller's files; ``RLIMIT_NPROC`` counts every process of
  the caller, so it is set above the count found at start-up. The cwd is a temporary directory.
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import pwd
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

from seer.sandbox import launcher

UID_BASE, UID_COUNT = 60000, 256
NPROC = 32  # processes + threads a program may have at once (root mode)


@dataclass(frozen=True)
class Capabilities:
    mode: str  # "root" | "userns" | "weak"
    network_isolated: bool
    pid_namespace: bool
    drops_privileges: bool  # runs under a leased uid (mode "root")
    nproc: int  # RLIMIT_NPROC applied to programs
    memory_cgroup: bool = False  # one memory cgroup per run bounds all of its memory

    def describe(self) -> str:
        return (f"sandbox mode {self.mode}: network {'off' if self.network_isolated else 'ON'}, "
                f"pid namespace {'yes' if self.pid_namespace else 'no'}, "
                f"runs as {'an unprivileged uid' if self.drops_privileges else 'the caller' if self.mode == 'weak' else 'uid 0 of its own user namespace, without capabilities'}, "
                f"memory cgroup {'yes' if self.memory_cgroup else 'no'}")


@functools.lru_cache(maxsize=1)
def capabilities() -> Capabilities:
    """The mode of this process's fork server (starting it; raises SandboxError when neither
    root nor user namespaces are available and ``sandbox.allow_weak`` is not set)."""
    server = launcher.get()
    if server.mode == "root":
        return Capabilities("root", True, True, True, NPROC, server.memory_cgroup)
    if server.mode == "userns":
        # the run's own user namespace: RLIMIT_NPROC counts only this run's processes
        return Capabilities("userns", True, True, False, NPROC, server.memory_cgroup)
    return Capabilities("weak", False, False, False, _own_process_count() + 4 * NPROC)


def _own_process_count() -> int:
    uid, n = os.getuid(), 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            with contextlib.suppress(OSError):
                n += os.stat(f"/proc/{name}").st_uid == uid
    return n


@contextlib.contextmanager
def lease_uid(caps: Capabilities) -> Iterator[int]:
    """An unprivileged uid no other run (in any process) holds meanwhile; -1 unless mode "root"."""
    if not caps.drops_privileges:
        yield -1
        return
    lock_dir = os.path.join(tempfile.gettempdir(), "seer-sandbox-uids")
    os.makedirs(lock_dir, mode=0o700, exist_ok=True)
    for uid in _free_uids():
        fd = os.open(os.path.join(lock_dir, str(uid)), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            yield uid
        finally:
            os.close(fd)  # releases the lock
        return
    raise RuntimeError(f"all {UID_COUNT} sandbox uids from {UID_BASE} are in use")


@functools.lru_cache(maxsize=1)
def _free_uids() -> tuple[int, ...]:
    """Sandbox uids that belong to no account on this machine."""
    out = []
    for uid in range(UID_BASE, UID_BASE + UID_COUNT):
        try:
            pwd.getpwuid(uid)
        except KeyError:
            out.append(uid)
    return tuple(out)


@contextlib.contextmanager
def workdir(caps: Capabilities) -> Iterator[str | None]:
    """The run's cwd in mode "weak": an empty temporary directory, removed afterwards. Otherwise
    the run makes its own (a private tmpfs) and this yields None."""
    if caps.pid_namespace:
        yield None
        return
    d = tempfile.mkdtemp(prefix="seer-sbx-")
    try:
        yield d
    finally:
        _rmtree(d)


def _rmtree(path: str) -> None:
    def retry(func, p, _exc):  # type: ignore[no-untyped-def]
        # the program may have made its files read-only
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(p), stat.S_IRWXU)
            os.chmod(p, stat.S_IRWXU)
            func(p)

    shutil.rmtree(path, onerror=retry)
