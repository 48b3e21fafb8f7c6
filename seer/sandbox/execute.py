"""``run_tests``: one program in one fresh sandboxed process; per-test outcomes; a verdict the
program cannot fake. The sandbox side is ``seer/sandbox/driver.py``; the protocol is described there.

What comes back from the sandbox is text on one pipe only the driver holds. Return values of call
tests are decoded here by ``codec.loads`` (linear time, size / nesting / hash-collision caps) under
one deadline for the whole verdict (``decode_seconds``: a floor plus an allowance per MB, so that a
large honest answer is not judged by the machine's load), and compared with the expected outputs
(``seer.sandbox.compare``), which never leave this process. In a group of cases
(``payload.groups``) the first that does not pass fails the group: the rest of it is "fail" (not
run), as EvalPlus's ``fast_check`` stops there.
"""
from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
import selectors
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from seer.data.schemas import Tests
from seer.sandbox import codec, isolation, launcher
from seer.sandbox.compare import outputs_match, preview, stdout_match
from seer.sandbox.launcher import SandboxError
from seer.sandbox.payload import MISSING, Limits, Prepared, budget, prepare, serialize
from seer.sandbox.result import ExecResult, TestOutcome

GRACE = 2.0  # seconds past the program's limit before the parent kills the sandbox itself
# decoding all the values of one run back here: the floor, and per MB decoded (the codec decodes
# ~7 MB/s on an idle core; 5 s per MB leaves room for a 30x slower, loaded machine)
DECODE_SECONDS = 10.0
DECODE_SECONDS_PER_MB = 5.0
_CHUNK = 1 << 16


def run_tests(code: str, tests: Tests, timeout: float = 3.0, memory_mb: int = 1024,
              max_output_bytes: int = 65536) -> ExecResult:
    """Run ``code`` against ``tests`` in a fresh sandboxed process (see ``seer.sandbox``).

    ``timeout`` is the wall-clock budget of the whole program (loading plus every test); with
    per-case limits (``tests.time_limits``) each case has its own and ``timeout`` only covers
    loading (``payload.budget``). Call tests of an EvalPlus rule run in EvalPlus's groups (base,
    plus; ``payload.groups``). ``memory_mb`` is the address-space limit; stdout/stderr are
    kept up to ``max_output_bytes`` each.
    """
    t0 = time.monotonic()
    limits = Limits(budget(tests, timeout), memory_mb, max_output_bytes)
    prep = prepare(code, tests, limits)
    raw = run_raw(prep, len(tests.cases), limits)
    return _verdict(raw, tests, prep.expected, prep.payload["groups"], time.monotonic() - t0)


def run_raw(prep: Prepared, n: int, limits: Limits) -> _Raw:
    """One sandbox run; what came back, before any comparison with expected outputs."""
    caps = isolation.capabilities()
    with isolation.lease_uid(caps) as uid, isolation.workdir(caps) as cwd:
        prep.payload.update(uid=uid, gid=uid, pidns=caps.pid_namespace,
                            nondumpable=not caps.drops_privileges,
                            limits=limits.rlimits(prep.payload["out_caps"], caps.nproc))
        return _Session(serialize(prep.payload), n, limits).run(uid, cwd)


@dataclass
class _Raw:
    """What the parent saw of one run."""

    cases: list[tuple[str, str]] = field(default_factory=list)  # (status, json text), in order
    load_error: str | None = None
    violation: str | None = None
    verified: bool = False
    timed_out: bool = False  # the driver's deadline hit (possibly before any test ran)
    killed: bool = False  # the parent's own deadline fired
    stdout: str = ""
    stderr: str = ""


class _Session:
    def __init__(self, payload: bytes, n: int, limits: Limits) -> None:
        self.payload, self.n, self.limits = payload, n, limits
        self.token = secrets.token_hex(16)
        self.raw = _Raw()
        self.done_seen = False
        self.max_line = limits.value_cap + 4096

    def run(self, uid: int, cwd: str | None) -> _Raw:
        pipes = [os.pipe() for _ in range(5)]  # stdin, stdout, stderr, results, control
        theirs = [pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1], pipes[4][0]]
        mine = [pipes[0][1], pipes[1][0], pipes[2][0], pipes[3][0], pipes[4][1]]
        os.set_blocking(mine[0], False)
        try:  # the payload is waiting in the pipe when the driver starts (up to the pipe's size)
            sent = os.write(mine[0], self.payload)
        except BlockingIOError:
            sent = 0
        try:
            pidfd = launcher.get().spawn(uid, cwd, theirs, memory_mb=self.limits.memory_mb)
        except Exception:
            for fd in mine:
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        self.ctl_w: int | None = mine[4]
        try:
            self._pump(*mine[:4], sent)
        finally:
            with contextlib.suppress(ProcessLookupError):  # last resort; nothing is left by now
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)  # in namespaces anyway
            os.close(pidfd)
            for fd in mine[1:4]:  # _pump closes stdin
                os.close(fd)
            if self.ctl_w is not None:
                os.close(self.ctl_w)
        return self.raw

    def _pump(self, stdin_fd: int, stdout_fd: int, stderr_fd: int, res_r: int, sent: int) -> None:
        cap = self.limits.max_output_bytes
        streams = {stdout_fd: bytearray(), stderr_fd: bytearray()}
        overflow = {fd: 0 for fd in streams}
        sel = selectors.DefaultSelector()
        pending = memoryview(self.payload)[sent:]
        if pending:
            sel.register(stdin_fd, selectors.EVENT_WRITE)
        else:  # EOF tells the driver the payload is complete
            os.close(stdin_fd)
        for fd in streams:
            sel.register(fd, selectors.EVENT_READ)
        sel.register(res_r, selectors.EVENT_READ)
        results = bytearray()
        deadline = time.monotonic() + self.limits.timeout + GRACE
        try:
            while sel.get_map():
                left = deadline - time.monotonic()
                if left <= 0:
                    if res_r in sel.get_map():  # results still open: the sandbox overran
                        self.raw.killed = True
                    return
                for key, _ in sel.select(left):
                    fd = key.fd
                    if fd == stdin_fd:
                        try:
                            pending = pending[os.write(fd, pending):]
                        except BrokenPipeError:
                            pending = pending[:0]
                        if not pending:  # EOF tells the driver the payload is complete
                            sel.unregister(fd)
                            os.close(fd)
                        continue
                    data = os.read(fd, _CHUNK)
                    if fd == res_r:
                        if not data:
                            sel.unregister(fd)
                            # output pipes may be held open by stragglers (mode "none")
                            deadline = min(deadline, time.monotonic() + 0.5)
                            continue
                        results += data
                        self._lines(results)
                        continue
                    if not data:
                        sel.unregister(fd)
                        continue
                    buf = streams[fd]
                    room = max(cap - len(buf), 0)
                    buf += data[:room]
                    overflow[fd] += len(data) - min(room, len(data))  # keep draining, keep nothing
        finally:
            if pending:
                os.close(stdin_fd)
            sel.close()
            self.raw.stdout = _text(streams[stdout_fd], overflow[stdout_fd])
            self.raw.stderr = _text(streams[stderr_fd], overflow[stderr_fd])

    def _lines(self, buf: bytearray) -> None:
        while True:
            nl = buf.find(b"\n")
            if nl < 0:
                if len(buf) > self.max_line:
                    self._violate("oversized result line")
                    buf.clear()
                return
            line = bytes(buf[:nl])
            del buf[:nl + 1]
            self._line(line)

    def _line(self, line: bytes) -> None:
        tag, _, rest = line.partition(b" ")
        text = rest.decode("ascii", "replace")
        if tag == b"C" and not self.done_seen:
            i, status, payload = (text.split(" ", 2) + ["", ""])[:3]
            if i != str(len(self.raw.cases)) or len(self.raw.cases) >= self.n:
                return self._violate(f"unexpected result line for test {i}")
            self.raw.cases.append((status, payload))
        elif tag == b"L" and not self.done_seen:
            self.raw.load_error = _json_str(text)
        elif tag == b"T" and not self.done_seen:
            self.raw.timed_out = True
        elif tag == b"X":
            self.raw.violation = _json_str(text)
        elif tag == b"F":
            raise SandboxError(f"sandbox driver failed: {_json_str(text)}")
        elif tag == b"D" and not self.done_seen and self.ctl_w is not None:
            self.done_seen = True
            # the token exists outside the parent only from now on, after every sandboxed
            # process is dead (the driver kills and reaps them before writing "D")
            os.write(self.ctl_w, self.token.encode() + b"\n")
            os.close(self.ctl_w)
            self.ctl_w = None
        elif tag == b"E" and self.done_seen and not self.raw.verified:
            self.raw.verified = (hmac.compare_digest(text, self.token)
                                 and len(self.raw.cases) == self.n)
        else:
            self._violate(f"unexpected line {line[:40]!r}")

    def _violate(self, what: str) -> None:
        self.raw.violation = self.raw.violation or what


def decode_seconds(raw: _Raw) -> float:
    """Time to decode what a run returned: bounded, since the codec is linear and the parent
    keeps at most ``n`` result lines of ``max_line`` bytes."""
    size = sum(len(text) for status, text in raw.cases if status == "value")
    return DECODE_SECONDS + DECODE_SECONDS_PER_MB * size / (1 << 20)


def _verdict(raw: _Raw, tests: Tests, expected: list[Any], groups: list[tuple[int, int, float]],
             duration: float) -> ExecResult:
    outcomes = []
    deadline = time.monotonic() + decode_seconds(raw)
    for i in range(len(tests.cases)):
        if i < len(raw.cases):
            outcomes.append(_outcome(tests, expected, i, *raw.cases[i], deadline))
        elif raw.killed:
            outcomes.append(TestOutcome("timeout", "time limit exceeded"))
        else:
            outcomes.append(TestOutcome("error", "no result: the run ended abnormally"))
    for start, stop, _ in groups:  # fast_check: a group ends at its first case that did not pass
        failed = next((i for i in range(start, stop) if outcomes[i].status != "pass"), stop)
        for i in range(failed + 1, stop):
            outcomes[i] = TestOutcome("fail", "not run: an earlier test of its group failed")
    if not raw.verified:
        status = "timeout" if raw.killed else "error"
        if tests.kind == "assert":  # an in-process "pass" counts only in a verified run
            outcomes = [TestOutcome("error", "unverified pass: the run did not complete")
                        if o.status == "pass" else o for o in outcomes]
    elif raw.violation or raw.load_error is not None:
        status = "error"
    elif raw.timed_out or any(o.status == "timeout" for o in outcomes):
        status = "timeout"
    else:
        status = "pass" if all(o.status == "pass" for o in outcomes) else "fail"
    stderr = raw.stderr
    for note in (raw.load_error, raw.violation):
        if note:
            stderr = (stderr + "\n" if stderr else "") + f"[sandbox] {note}"
    return ExecResult(status, outcomes, raw.stdout, stderr, duration)


def _outcome(tests: Tests, expected: list[Any], i: int, status: str, payload: str,
             deadline: float) -> TestOutcome:
    try:
        if status in ("pass", "fail", "error", "timeout"):
            data = _json_str(payload)
            return TestOutcome(status, "" if payload == "null" else data)
        if status != "value" or tests.kind == "assert":
            return TestOutcome("error", f"bad status {status!r} from the sandbox")
        data = codec.loads(payload, deadline)
        if tests.kind == "stdio":
            ok = isinstance(data, str) and stdout_match(data, expected[i], tests)
            return TestOutcome("pass") if ok else TestOutcome(
                "fail", f"expected stdout {preview(expected[i])}, got {preview(data)}")
        if expected[i] is MISSING:
            return TestOutcome("error", "no expected output (see seer.sandbox.fill_expected)")
        actual, want = data, codec.decode(expected[i])
        if outputs_match(actual, want, tests, i):
            return TestOutcome("pass")
        return TestOutcome("fail", f"expected {preview(want)}, got {preview(actual)}")
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as e:
        return TestOutcome("error", f"malformed result from the sandbox: {e}")


def _json_str(text: str) -> str:
    try:
        v = json.loads(text)
    except (ValueError, RecursionError):
        return text
    return v if isinstance(v, str) else text


def _text(buf: bytearray, dropped: int) -> str:
    s = buf.decode("utf-8", "replace")
    return s + f"\n[... {dropped} more bytes not kept]" if dropped else s

