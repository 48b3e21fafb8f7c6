"""One memory cgroup per sandbox run, where the machine lets us make one (stdlib only; fork server).

A run's cgroup counts everything its processes make the kernel hold: heap, page tables, tmpfs and
/dev/shm files, memfds, SysV shared memory, pipe and socket buffers. ``RLIMIT_AS`` alone counts
only each process's mappings, so without a cgroup a run could hold several times its limit
(see ``seer/sandbox/isolation.py`` for what bounds it then).

cgroup v1 (``memory`` hierarchy): a child of the fork server's own memory cgroup with
``memory.limit_in_bytes`` (and ``memory.memsw.limit_in_bytes``). cgroup v2: ``memory.max`` (and
``memory.swap.max`` 0) on a child of the fork server's cgroup, or of its parent, whichever has the
``memory`` controller enabled for its children and is writable by us (a delegated subtree, e.g.
systemd's ``user@.service``; not exercised on the development machine, whose memory controller is
on v1). The directory fd is opened before the fork server leaves the host's file system; runs are
created relative to it, and removed once their session leader exited; a fork server that was
killed leaves its last ones, which the next one started in the same cgroup removes.
"""
import os
import select

V1_MOUNT, V2_MOUNTS = "/sys/fs/cgroup/memory", ("/sys/fs/cgroup", "/sys/fs/cgroup/unified")


class RunCgroups:
    """Creates, joins and removes per-run memory cgroups under one parent directory."""

    def __init__(self) -> None:
        self.dir_fd, self.limit_file = _find_parent()
        self.prefix = f"seer-run-{os.getpid()}-"
        self.n = 0
        if self.available:
            self._sweep()
        self.pending: list[tuple[int, str]] = []  # (pidfd of the run's session leader, cgroup)

    def _sweep(self) -> None:
        """Remove run cgroups left by fork servers that were killed before they could."""
        for name in os.listdir(self.dir_fd):
            parts = name.split("-")
            if len(parts) != 4 or parts[:2] != ["seer", "run"] or not parts[2].isdigit():
                continue
            try:
                os.kill(int(parts[2]), 0)
                continue  # its fork server is alive and removes it
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
            try:
                os.rmdir(name, dir_fd=self.dir_fd)
            except OSError:
                pass  # still in use

    @property
    def available(self) -> bool:
        return self.dir_fd >= 0

    def create(self) -> str:
        """A new run cgroup, not limited yet (``limit``)."""
        self.n += 1
        name = f"{self.prefix}{self.n}"
        os.mkdir(name, dir_fd=self.dir_fd)
        return name

    def limit(self, name: str, limit_bytes: int) -> None:
        """Limit ``name`` (memory, and memory + swap: swap must not extend the limit)."""
        _write(f"{name}/{self.limit_file}", str(limit_bytes), self.dir_fd)
        swap = ("memory.memsw.limit_in_bytes", str(limit_bytes)) if self.limit_file == "memory.limit_in_bytes" \
            else ("memory.swap.max", "0")
        try:
            _write(f"{name}/{swap[0]}", swap[1], self.dir_fd)
        except OSError:
            pass  # no swap accounting on this kernel

    def join(self, name: str) -> None:
        """Move the calling process (the run's session leader, before it forks) into ``name``.
        Slow on cgroup v1 (about 10 ms: the kernel waits for an RCU grace period), so the fork
        server has its leaders join ahead of the requests (``zygote.SPARES``)."""
        _write(f"{name}/cgroup.procs", "0", self.dir_fd)

    def remove_later(self, pidfd: int, name: str) -> None:
        """Remove ``name`` once the session leader ``pidfd`` (which owns the fd now) has exited."""
        self.pending.append((pidfd, name))

    def reap(self) -> None:
        """Remove the cgroups of runs whose session leader exited (an empty cgroup may be one
        whose leader has not joined it yet)."""
        keep = []
        for pidfd, name in self.pending:
            try:
                if not select.select([pidfd], [], [], 0)[0]:
                    raise BlockingIOError  # the leader is alive
                os.rmdir(name, dir_fd=self.dir_fd)
            except OSError:  # alive, or the run's last processes are still exiting
                keep.append((pidfd, name))
                continue
            os.close(pidfd)
        self.pending = keep


def _write(path: str, text: str, dir_fd: int) -> None:
    fd = os.open(path, os.O_WRONLY, dir_fd=dir_fd)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _find_parent() -> tuple[int, str]:
    """(dir fd, limit file name) of a memory cgroup we may create children in, or (-1, "")."""
    try:
        with open("/proc/self/cgroup") as f:
            lines = [line.rstrip("\n").split(":", 2) for line in f]
    except OSError:
        return -1, ""
    for _, controllers, path in lines:
        if "memory" in controllers.split(","):
            d = V1_MOUNT + path
            if _writable_dir(d, ""):  # a delegated directory: our children's files are ours
                return os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC), "memory.limit_in_bytes"
    for hier, controllers, path in lines:
        if hier != "0" or controllers != "":
            continue
        for mnt in V2_MOUNTS:
            own = mnt + path
            # our own cgroup holds processes, so runs go below it only if it is the root; else
            # they are siblings of it (e.g. systemd's delegated user@.service subtree)
            for d in (own, os.path.dirname(own)):
                try:
                    with open(d + "/cgroup.subtree_control") as f:
                        delegated = "memory" in f.read().split()
                except OSError:
                    continue
                if delegated and _writable_dir(d, "cgroup.procs"):
                    return os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC), "memory.max"
    return -1, ""


def _writable_dir(d: str, probe: str) -> bool:
    """``d`` takes new children and (``probe``: a file in it) ``probe`` is writable."""
    return os.access(d, os.W_OK | os.X_OK) and (not probe or os.access(os.path.join(d, probe), os.W_OK))
