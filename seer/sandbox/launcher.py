"""Parent side of the warm fork server (``seer/sandbox/zygote.py``): one per process, thread-safe.

The fork server is started lazily with a scrubbed environment, in its own session; it exits when
this process closes its end of the socket (e.g. on exit). A process that forks gets a fresh one.
"""
from __future__ import annotations

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


class Launcher:
    def __init__(self, mode: str = "") -> None:
        """``mode="none"`` forces the unprivileged fallback (for its tests); "" picks the best."""
        self._lock = threading.Lock()
        self._requested = mode
        self._start()

    def _start(self) -> None:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # -S: no site-packages (only the stdlib); -P: nothing importable from the cwd
        self.proc = subprocess.Popen(
            [sys.executable, "-S", "-P", "-c", BOOTSTRAP, str(theirs.fileno()), self._requested],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            env=environment("/"), cwd="/", start_new_session=True)
        theirs.close()
        self.sock = mine
        hello = mine.recv(64).decode()
        if hello not in ("root", "none"):
            raise SandboxError(f"the sandbox fork server did not start (exit {self.proc.wait()})")
        self.mode = hello

    def spawn(self, uid: int, cwd: str | None, fds: list[int]) -> int | None:
        """Start one run with fds (stdin, stdout, stderr, results, control); returns a pidfd of
        its session leader, or None if it already ended."""
        msg = marshal.dumps({"uid": uid, "cwd": cwd})
        with self._lock:
            for attempt in (0, 1):
                try:
                    socket.send_fds(self.sock, [msg], fds)
                    reply, got, _, _ = socket.recv_fds(self.sock, 256, 1)
                    if reply == b"ok":
                        return got[0]
                    if reply == b"gone":
                        return None
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
