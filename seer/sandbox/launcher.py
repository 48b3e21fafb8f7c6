"""Parent side of the warm fork server (``seer/sandbox/zygote.py``): one per process, thread-safe.

The fork server is started lazily with a scrubbed environment, in its own session; it exits when
this process closes its end of the socket (e.g. on exit). A process that forks gets a fresh one.
The fork server reports the mode it could set up ("root", "userns" or "weak"; see
``seer/sandbox/isolation.py``); when it can set up neither "root" nor "userns", starting it raises
a SandboxError saying what to enable, unless ``configure(allow_weak=True)`` was called.
"""
from __future__ import annotations

import logging
import marshal
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

_DIR = Path(__file__).resolve().parent
BOOTSTRAP = (f"import sys;sys.path.insert(0,{str(_DIR)!r});import zygote;del sys.path[0];"
             "zygote.serve(int(sys.argv[1]),sys.argv[2])")


def environment(home: str) -> dict[str, str]:
    """The whole environment of sandboxed programs; nothing is inherited from the caller."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONHASHSEED": "0",  # deterministic set/dict-of-str order: results are cacheable
        "MALLOC_ARENA_MAX": "2",  # per-thread malloc arenas would eat RLIMIT_AS in a few threads
        "HOME": home,
        "TMPDIR": home,
    }


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the program): a driver crash, no processes left, ..."""


log = logging.getLogger(__name__)
_allow_weak = False


def configure(allow_weak: bool) -> None:
    """``sandbox.allow_weak``: without root and without user namespaces, run programs in the
    weak mode (logged as a warning) instead of refusing with a SandboxError. Takes effect for
    fork servers started afterwards."""
    global _allow_weak
    _allow_weak = bool(allow_weak)


class Launcher:
    def __init__(self, mode: str = "") -> None:
        """"" sets up the best mode available, falling back to "weak" only after
        ``configure(allow_weak=True)``. For tests: ``mode="weak"`` (or "none") forces the weak
        mode, "nested" the way mode "userns" isolates programs on kernels before Linux 6.12."""
        self._lock = threading.Lock()
        self._requested = "weak" if mode in ("weak", "none") else mode
        self._start()

    def _start(self) -> None:
        hello = self._start_server(self._requested)
        if hello.startswith("unavailable") and _allow_weak:
            self.close()
            hello = self._start_server("weak")
        mode, _, cgroup = hello.partition(" ")
        if mode not in ("root", "userns", "weak"):
            if hello.startswith("unavailable"):
                self.close()
                raise SandboxError(f"no sandbox: {hello.partition(': ')[2]}")
            raise SandboxError(f"the sandbox fork server did not start (exit {self.proc.wait()})")
        self.mode = mode
        self.memory_cgroup = cgroup == "memcg"
        if mode == "weak":
            log.warning("sandbox mode weak: programs run without namespaces, as this user: they can "
                        "read and write this user's files, reach the network and the harness, and "
                        "fake verdicts")

    def _start_server(self, mode: str) -> str:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # -S: no site-packages (only the stdlib); -P: nothing importable from the cwd
        self.proc = subprocess.Popen(
            [sys.executable, "-S", "-P", "-c", BOOTSTRAP, str(theirs.fileno()), mode],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            env=environment("/"), cwd="/", start_new_session=True)
        theirs.close()
        self.sock = mine
        return mine.recv(4096).decode(errors="replace")

    def spawn(self, uid: int, cwd: str | None, fds: list[int], memory_mb: int = 0) -> int:
        """Start one run with fds (stdin, stdout, stderr, results, control); returns a pidfd of
        its session leader. ``memory_mb`` (the program's limit)
        sizes the run's memory cgroup and tmpfs; 0 leaves them at their defaults."""
        msg = marshal.dumps({"uid": uid, "cwd": cwd, "memory_mb": int(memory_mb)})
        with self._lock:
            for attempt in (0, 1):
                try:
                    socket.send_fds(self.sock, [msg], fds)
                    reply, got, _, _ = socket.recv_fds(self.sock, 256, 1)
                    if reply == b"ok":
                        return got[0]
                    if reply:
                        raise SandboxError(reply.decode(errors="replace"))
                except (OSError, EOFError):
                    pass
                if attempt == 0:  # the fork server died (e.g. killed): start a new one once
                    self.close()
                    self._start()
        raise SandboxError("the sandbox fork server stopped answering")

    def close(self) -> None:
        self.sock.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_launcher: Launcher | None = None
_owner_pid = -1
_guard = threading.Lock()


def get() -> Launcher:
    global _launcher, _owner_pid
    with _guard:
        if _launcher is None or _owner_pid != os.getpid():
            if _launcher is not None:  # inherited across fork(): the fork server is the parent's
                _launcher.sock.close()
            _launcher, _owner_pid = Launcher(), os.getpid()
        return _launcher
