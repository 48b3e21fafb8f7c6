"""What this machine lets the sandbox do, and the per-run resources that depend on it.

Three modes; the fork server (``seer/sandbox/zygote.py``) sets up the strongest one it can, once
per process, and ``capabilities().mode`` tells which:

- ``root`` (running as root) and ``userns`` (not root; unprivileged user namespaces, which
  ``unshare -Ur true`` tests) give the same guarantees:

  * file system: the fork server pivots into a minimal read-only root (``rootfs.py``) holding the
    interpreter, its standard library (no site-packages) and the shared libraries they need,
    /dev/{null,zero,full,random,urandom}, /etc/ld.so.cache -- and nothing else: no /home, /root
    (beyond the interpreter prefix), /srv, /run, /etc, /usr/bin, no project, data, benchmark
    files or caches, no host unix sockets. No executable but the interpreter (programs cannot
    run ``sh``). Writable: one tmpfs per run, the size of the run's memory, holding /tmp (the
    cwd) and /dev/shm; it vanishes with the run.
  * namespaces per run: pid (the driver is pid 1: when it ends, every process of the run ends,
    ``setsid`` daemons and fork bombs included), network (no interface but a down loopback; no
    abstract unix socket of the host), mount, IPC (SysV shared memory, message queues and
    semaphores die with the run and are bounded by its memory: ``kernel.shmall``, ``shmmni``,
    ``msgmni``), UTS (host name "sandbox"), and a fresh session keyring.
  * the trusted processes (fork server, driver, checkers) are not dumpable, hold no inherited fd
    of the parent but their own pipes, and are out of the program's reach: in mode ``root`` they
    are root and the program runs under a leased unprivileged uid (60000+k, one per concurrent
    run in any process, ``flock``-ed); in mode ``userns`` only one uid exists (the caller's), so
    the program gets a Landlock domain of its own that scopes signals and abstract unix sockets
    (Linux 6.12+; on older kernels a user + pid + mount namespace of its own below the run's,
    ``confine.py``). The run's /proc is mounted with ``hidepid=2``. Either way the program cannot
    see, signal, trace or read /proc files of the driver, a checker, the fork server or the
    harness (the fork server and the harness are not even in its pid namespace).
  * the program holds no capability (bounding set empty, securebits locked, no_new_privs),
    ``RLIMIT_NPROC`` counts only its run's processes, and a seccomp filter (x86_64, aarch64) refuses
    memfd_create, the keyring calls, namespace creation, mount, ptrace, process_vm_*, io_uring,
    bpf, perf_event_open, userfaultfd and a few privileged calls (``confine._DENY``).
  * memory: with a memory cgroup each run has its own, limited to its memory + 64 MB, counting
    everything: heap, tmpfs, SysV shm, pipe and socket buffers. The fork server uses one
    automatically wherever it may create cgroups: as root; as a normal user, a memory cgroup
    delegated to that user (a cgroup v1 ``memory`` directory it owns, or a cgroup v2 subtree with
    the ``memory`` controller enabled, e.g. systemd's ``user@.service`` or
    ``systemd-run --user -p Delegate=yes``; ``memcg.py``). Without one
    (``capabilities().memory_cgroup`` false: mode ``userns`` on most machines): each process is
    limited by ``RLIMIT_AS`` (the run's memory), the tmpfs and SysV shm by the run's memory each,
    memfds are refused, and ``RLIMIT_NPROC`` is lowered to ``NPROC_NO_MEMCG`` (processes and
    threads of the run's uid, counting the driver, the checker and the runner: the program and
    its children are at most 6 processes or threads; 4 on kernels before 6.12, where two more
    relay its exit status). What remains: up to ``NPROC_NO_MEMCG - 2`` processes each up to
    ``RLIMIT_AS`` (about 6x the run's memory), plus the tmpfs and SysV shm (1x each), plus kernel
    buffers (pipes: the user's ``fs.pipe-user-pages-soft``; sockets: the run's network namespace
    defaults): about 8x the run's memory at worst, against 1x with a cgroup.
- ``weak``: no namespaces at all, only when neither of the above can be set up and the user
  opted in (``sandbox.allow_weak``; otherwise starting the sandbox raises a SandboxError naming
  the sysctl to enable). Every stage that uses it logs a warning. The program runs as the caller:
  it can read and write the caller's files, reach the network and the harness's processes, and
  fake verdicts. Processes are killed by process group (``setsid`` escapes); ``RLIMIT_NPROC``
  counts every process of the caller, so it is set above the count found at start-up; the cwd is
  a temporary directory.

Out of scope in modes ``root`` and ``userns``: the kernel's own attack surface (what the seccomp
filter allows); on architectures other than x86_64 and aarch64 no filter is installed, so memfds
are not refused and the keyrings of the program's uid are reachable (mode ``root``: the leased
uid's, shared with later runs under that uid; mode ``userns``: the caller's own keys); covert
channels between concurrent runs through shared kernel state (timing, CPU load, file locks on
the read-only root); reading public information about the machine (/proc/cpuinfo, the kernel
version, library versions).
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
NPROC = 32  # processes + threads of a run's uid at once, with a memory cgroup
NPROC_NO_MEMCG = 8  # without one: each may hold RLIMIT_AS, so fewer (see the docstring)


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
                f"runs as {'an unprivileged uid' if self.drops_privileges else 'the caller' if self.mode == 'weak' else 'the caller in user namespaces of its own, without capabilities'}, "
                f"memory cgroup {'yes' if self.memory_cgroup else 'no'}")


@functools.lru_cache(maxsize=1)
def capabilities() -> Capabilities:
    """The mode of this process's fork server (starting it; raises SandboxError when neither
    root nor user namespaces are available and ``sandbox.allow_weak`` is not set)."""
    server = launcher.get()
    nproc = NPROC if server.memory_cgroup else NPROC_NO_MEMCG
    if server.mode == "root":
        return Capabilities("root", True, True, True, nproc, server.memory_cgroup)
    if server.mode == "userns":
        # the run's own user namespace: RLIMIT_NPROC counts only this run's processes
        return Capabilities("userns", True, True, False, nproc, server.memory_cgroup)
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
