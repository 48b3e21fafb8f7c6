"""Trusted half of the sandbox; runs inside the sandboxed interpreter (stdlib only).

The fork server (``zygote.py``) forks one driver per run: pid 1 of new namespaces, with fds 0-4 =
payload, stdout, stderr, results, control pipes of the parent (``execute.py``). The driver never
executes candidate code. It forks "runners" (``confine.enter``: rlimits, sandbox uid, no fds of
ours) that load and run the program, and, for assert tests, "checkers" (``checker.py``: trusted,
never run candidate code, out of the runners' reach) that run the test code:

    parent --payload on fd 0 (marshal; trusted data only, no expected outputs)--> driver
    assert tests ("checker" mode): a checker, forked with the runner, runs the test code; each
        call of the entry point (or of any other name of the program the tests use) is a request
        the driver relays to the runner, which loaded the program once:
            checker --"Q <json>"--> driver --"<json>"--> runner
            runner --"<key> Y <seq> <status> <json>"--> driver --"<status> <json>"--> checker
            (callbacks: runner --"<key> K <seq> cb <json>"--> driver --"K <json>"--> checker
             --"A <V|E> <json>"--> driver --> runner, while the request is pending)
            checker --"D <status> <json detail>"--> driver (per case; the driver times each)
        Replies are plain data (``codec``; instances of classes the tests define cross by value,
        e.g. LeetCode's ``ListNode``), ids of opaque program objects, or the arguments as the
        program left them ("W": in-place problems); the verdict is the checker's. A runner report
        nobody asked for is a protocol violation.
    call tests: the runner calls the function on each input and reports the encoded return value
        ("<key> C <case> value <json>"); the parent decodes (bounded) and compares. Per case.
    stdio tests: one runner per case, input on fd 0, output read back from a memfd.
    driver --"L"/"C <case> <status> <json>"/"T"/"X"/"D" (or "F": driver failure) lines on the
             results fd--> parent
    parent --token on the control fd, sent only after "D"--> driver --"E <token>"--> parent

Time: ``timeout`` is the budget of the whole run. With per-case limits (``time_limits``), case i
gets its own wall-clock limit from the moment it starts (the program has loaded, or the previous
case's verdict arrived): over it, the case is "timeout", the runner (and checker) are killed and the
next case starts with a freshly loaded program. Without them, the first case that runs out of the
budget is "timeout" and the rest "timeout" (not run).

Groups (``groups``, EvalPlus's base and plus cases, see ``payload.groups``): a group has its own
budget from the moment its first case starts; over it, the running case is "timeout". A group
stops at its first failing case as EvalPlus's ``fast_check`` does (an error, a timeout; a wrong
value is only known to the parent, which judges the rest of that group the same way): the rest of
the group is "fail" (not run) and the next group starts with a freshly loaded program.

"D" is written only after every process of the run has been killed and reaped, so no sandboxed
process is alive when the token exists anywhere but in the parent. A runner that dies mid-test
(``os._exit``, a signal, a crash) costs only that test: the next runner reloads the program and
continues with the following test. See ``seer/sandbox/__init__.py`` for the threat model.
"""
import ctypes
import marshal
import os
import resource
import select
import socket
import sys
import time

import checker
import codec
import confine

REPORT_FD = confine.REPORT_FD
_SIGNALS = {6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 24: "SIGXCPU", 25: "SIGXFSZ"}
_exit = os._exit
_prctl = ctypes.CDLL(None).prctl  # ctypes is already loaded in the fork server
PR_SET_DUMPABLE = 4


def main(argv: list) -> None:
    results_fd, control_fd = int(argv[1]), int(argv[2])
    try:
        payload = marshal.loads(_read_all(0))
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        if payload["nondumpable"]:
            _set_nondumpable()
        Driver(payload, results_fd).run()
    except BaseException as e:  # noqa: BLE001 -- our bug or the machine (fork failing), not the program
        _write_all(results_fd, b"F " + codec.dumps(f"{type(e).__name__}: {e}").encode() + b"\n")
        _exit(1)
    _write_all(results_fd, b"D\n")
    token = _read_all(control_fd).strip()
    if token:
        _write_all(results_fd, b"E " + token + b"\n")
    _exit(0)


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _set_nondumpable() -> None:
    # without root the runners share our uid: keep them out of /proc/<driver>/fd and ptrace
    _prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _status_text(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        return "killed by " + _SIGNALS.get(-code, f"signal {-code}")
    return f"exit status {code}"


class _Runner:
    __slots__ = ("failed", "finished", "key", "loaded", "pid", "pidfd", "rd", "report", "seq", "status")

    def __init__(self, pid: int, pidfd: int, rd: int, key: bytes) -> None:
        self.pid, self.pidfd, self.rd, self.key = pid, pidfd, rd, key
        self.loaded = False  # the program loaded; tests may follow
        self.finished = False  # nothing more may be reported (load failed / stdio test done)
        self.report = None  # stdio: (status, json) of the test
        self.status = None  # wait status once reaped
        self.seq = 0  # requests sent to it (checker mode); its replies carry the number
        self.failed = False  # it reported an error in a group: the rest of the group is not run


class Driver:
    def __init__(self, p: dict, out_fd: int) -> None:
        self.p = p
        self.out = out_fd
        self.kind = p["kind"]
        self.checked = self.kind == "assert"  # tests run in a checker, the runner serves calls
        self.n = len(p["cases"])
        self.next = 0  # first test without a reported outcome
        self.limits = p["time_limits"]  # seconds per case, or empty: one budget for all
        self.deadline = time.monotonic() + p["timeout"]
        self.case_start = None  # when test self.next started (None: not started)
        self.groups = p["groups"]  # [(start, stop, budget)], or empty: cases are not grouped
        self.group = None  # the group whose budget runs, until group_deadline
        self.group_deadline = float("inf")
        self.max_line = p["value_cap"] + 4096

    # --- messages to the parent -------------------------------------------------------------
    def send(self, line: bytes) -> None:
        _write_all(self.out, line + b"\n")

    def send_case(self, i: int, status: bytes, detail: str) -> None:
        self.send(b"C %d %s %s" % (i, status, codec.dumps(detail).encode()))

    def close_rest(self, status: bytes, first: str, rest: str) -> None:
        for i in range(self.next, self.n):
            self.send_case(i, status, first if i == self.next else rest)
        self.next = self.n

    def time_up(self, first: str) -> None:
        self.send(b"T")  # also when it hit while loading, before any test
        self.close_rest(b"timeout", first, "not run: time limit exceeded")

    def violation(self) -> None:
        self.send(b"X " + codec.dumps("protocol violation on the report channel").encode())
        self.close_rest(b"error", "protocol violation", "not run: protocol violation")

    # --- time ---------------------------------------------------------------------------------
    def start_case(self) -> None:
        self.case_start = time.monotonic()
        g = self.group_of(self.next)
        if g is not None and g != self.group:  # the group's first case: its budget starts
            self.group, self.group_deadline = g, self.case_start + self.groups[g][2]

    def group_of(self, i: int) -> int | None:
        for g, (start, stop, _) in enumerate(self.groups):
            if start <= i < stop:
                return g
        return None

    def case_deadline(self) -> tuple:
        """(when, what): the earliest of the run's budget ("deadline"), the running case's own
        limit ("case") and its group's budget ("group")."""
        when, what = self.deadline, "deadline"
        if self.case_start is not None and self.next < self.n:
            if self.limits and self.case_start + self.limits[self.next] < when:
                when, what = self.case_start + self.limits[self.next], "case"
            if self.group is not None and self.group_deadline < when:
                when, what = self.group_deadline, "group"
        return when, what

    def stop_for(self, how: str) -> bool | None:
        """Reports the outcomes every loop handles alike and says what follows: True, the run is
        over ("deadline": its budget ran out; "tampered": a runner wrote what nobody asked for);
        False, the next case follows ("case": the running case overran its own limit); None for
        any other ``how``, which the caller handles."""
        if how == "deadline":
            self.time_up("time limit exceeded")
            return True
        if how == "tampered":
            self.violation()
            return True
        if how == "case":
            self.case_timed_out()
            return False
        return None

    def case_timed_out(self) -> None:
        self.send_case(self.next, b"timeout", f"time limit exceeded ({self.limits[self.next]:.3g} s for this test)")
        self.next += 1
        self.skip_group()  # fast_check: it fails its group (ungrouped cases: the next one runs)

    def group_timed_out(self) -> None:
        start, stop, budget = self.groups[self.group]
        self.send_case(self.next, b"timeout",
                       f"time limit exceeded ({budget:.3g} s for tests {start}-{stop - 1} together)")
        self.next += 1
        self.skip_group()

    def skip_group(self) -> None:
        """After a failing case of a group (``fast_check``): the rest of its group is not run."""
        self.case_start = None
        g = self.group_of(self.next - 1)
        if g is None:
            return
        while self.next < self.groups[g][1]:
            self.send_case(self.next, b"fail", "not run: an earlier test of its group failed")
            self.next += 1

    # --- main loops -------------------------------------------------------------------------
    def run(self) -> None:
        if self.kind == "stdio":
            self.run_script_per_test()
        elif self.checked:
            self.run_checked()
        else:
            self.run_program()

    def run_program(self) -> None:
        """call tests (and in-process assert tests): one runner loads the program once and runs
        the tests in order; a runner that dies or overruns a case is replaced by a fresh one."""
        while True:
            r = self.spawn(self.next)
            how = self.supervise(r)
            self.kill_all(r)
            stop = self.stop_for(how)  # "case" comes from a loaded, unfinished runner only
            if stop:
                return
            if stop is None:
                if r.finished:
                    return
                if not r.loaded:
                    return self.load_failed(r)
                if self.next >= self.n:
                    return
                if how == "group":
                    self.group_timed_out()
                else:
                    if how != "failed":  # "failed": the runner reported the error itself
                        self.send_case(self.next, b"error",
                                       f"program ended during this test ({_status_text(r.status)})")
                        self.next += 1
                    self.skip_group()
            if self.next >= self.n:
                return

    def load_failed(self, r: _Runner) -> None:
        self.send(b"L " + codec.dumps(f"program ended while loading ({_status_text(r.status)})").encode())
        self.close_rest(b"error", "not run: program failed to load", "not run: program failed to load")

    def run_checked(self) -> None:
        """assert tests: the runner serves calls; a trusted checker, forked with it (its start
        overlaps the program's loading), runs the test cases from the same one on."""
        r = relay = None
        while True:
            if r is None:
                r = self.spawn(self.next)
                relay = _Relay(r, *self.fork_checker(self.next), self.max_line)
                how = self.supervise(r, until_loaded=True)
                if how != "loaded":
                    self.end_pair(r, relay)
                    # "case" while loading (a group's budget running out) is a failed load
                    if (how == "case" or self.stop_for(how) is None) and not r.finished:
                        self.load_failed(r)
                    return
            if self.next >= self.n:
                return self.end_pair(r, relay)
            self.start_case()
            how, status, detail = self.check_case(relay)
            if how == "done":
                self.send(b"C %d %s %s" % (self.next, status, detail))
                self.next += 1
                self.case_start = None
                continue
            self.end_pair(r, relay)
            if self.stop_for(how):
                return
            if how == "runner":
                self.send_case(self.next, b"error", f"program ended during this test ({_status_text(r.status)})")
                self.next += 1
            elif how == "checker":
                self.send_case(self.next, b"error", f"the test's checker failed ({detail})")
                self.next += 1
            # the next case's clock starts when the new pair has loaded, not with the dead pair's case
            self.case_start = None
            r = relay = None
            if self.next >= self.n:
                return

    def end_pair(self, r: _Runner, relay: "_Relay") -> None:
        if self.p["pidns"] and os.getpid() == 1:
            relay.cpid = None  # kill_all kills and reaps it with the rest, at once
        relay.close()
        self.kill_all(r)

    def run_script_per_test(self) -> None:
        """stdio tests: each test is a fresh run of the script with the input on fd 0."""
        caps = self.p["out_caps"]
        for i in range(self.n):
            if time.monotonic() >= self.deadline:
                return self.time_up("not run: time limit exceeded")
            fin = os.memfd_create("stdin")
            _write_all(fin, self.p["cases"][i])
            os.lseek(fin, 0, os.SEEK_SET)
            fout = os.memfd_create("stdout")
            self.start_case()
            r = self.spawn(i, (fin, fout))
            os.close(fin)
            how = self.supervise(r)
            self.kill_all(r)
            try:
                stop = self.stop_for(how)
                if stop:
                    return
                if stop is False:  # the case overran its limit: the next one follows
                    continue
                status, detail = r.report or (None, None)
                if status == b"error":
                    self.send(b"C %d error %s" % (i, detail))
                elif status == b"ok" or (status is None and os.waitstatus_to_exitcode(r.status) == 0):
                    os.lseek(fout, 0, os.SEEK_SET)
                    out = os.read(fout, caps[i] + 1)
                    self.send_case(i, b"value", out[:caps[i]].decode("utf-8", "replace"))
                else:
                    self.send_case(i, b"error", f"program ended abnormally ({_status_text(r.status)})")
                self.next = i + 1
            finally:
                os.close(fout)

    # --- runners ----------------------------------------------------------------------------
    def spawn(self, start: int, stdio: tuple | None = None) -> _Runner:
        key = os.urandom(16).hex().encode()
        if self.checked:  # the runner also reads requests on its report fd
            a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            rd, wr = a.detach(), b.detach()
        else:
            rd, wr = os.pipe()
        pid = os.fork()
        if pid == 0:
            # locals: the program can patch os and this module, not this frame
            exit_, kill_, getpid_ = os._exit, os.kill, os.getpid
            try:
                os.close(rd)
                confine.enter(self.p, wr, stdio)
                _run(self.p, start, key)
            finally:
                while True:  # never return into the driver
                    exit_(70)
                    kill_(getpid_(), 9)
        os.close(wr)
        if not self.p["pidns"]:
            try:
                os.setpgid(pid, pid)  # also done in the child; whichever runs first wins
            except OSError:
                pass
        return _Runner(pid, os.pidfd_open(pid), rd, key)

    def supervise(self, r: _Runner, until_loaded: bool = False) -> str:
        """Forward r's reports until it exits ("exited"), has loaded the program ("loaded", with
        ``until_loaded``), reported an error in a group ("failed"), time runs out ("deadline": the
        run's budget; "case": the running case's own limit; "group": its group's budget) or it
        writes a bad line ("tampered")."""
        poller = select.poll()
        poller.register(r.rd, select.POLLIN)
        poller.register(r.pidfd, select.POLLIN)
        buf = b""
        while True:
            when, what = self.case_deadline()
            left = when - time.monotonic()
            if left <= 0:
                return what
            for fd, _ in poller.poll(left * 1000 + 1):
                if fd == r.pidfd:
                    # the runner is gone; its descendants may still hold the pipe open
                    os.set_blocking(r.rd, False)
                    while True:
                        try:
                            chunk = os.read(r.rd, 1 << 16)
                        except BlockingIOError:
                            break
                        if not chunk:
                            break
                        buf += chunk
                        buf, ok = self.lines(r, buf)
                        if not ok:
                            return "tampered"
                    return "failed" if r.failed else "exited"
                chunk = os.read(r.rd, 1 << 16)
                if not chunk:
                    poller.unregister(r.rd)
                    continue
                buf, ok = self.lines(r, buf + chunk)
                if not ok:
                    return "tampered"
                if r.failed:
                    return "failed"
                if until_loaded and (r.loaded or r.finished):
                    return "loaded" if r.loaded and not buf else ("tampered" if buf else "exited")

    def lines(self, r: _Runner, buf: bytes) -> tuple:
        while not r.failed:  # what a failed runner reports after that is not read
            nl = buf.find(b"\n")
            if nl < 0:
                return buf, len(buf) <= self.max_line
            if not self.handle(r, buf[:nl]):
                return buf, False
            buf = buf[nl + 1:]
        return b"", True

    def handle(self, r: _Runner, line: bytes) -> bool:
        parts = line.split(b" ", 4)
        if len(parts) != 5 or parts[0] != r.key or r.finished:
            return False
        _, tag, i, status, rest = parts
        try:
            i = int(i)
        except ValueError:
            return False
        if tag == b"R" and not r.loaded and self.kind != "stdio":
            r.loaded = True
            if self.case_start is None:
                self.start_case()
            return True
        if tag == b"L" and not r.loaded and self.kind != "stdio":
            self.send(b"L " + rest)
            r.finished = True
            self.close_rest(b"error", "not run: program failed to load", "not run: program failed to load")
            return True
        if tag != b"C" or i != self.next or self.checked:
            return False
        if self.kind == "stdio":
            if status not in (b"ok", b"error"):
                return False
            r.report = (status, rest)
            r.finished = True
            return True
        if not r.loaded or status not in (b"value", b"error"):
            return False
        self.send(b"C %d %s %s" % (i, status, rest))
        self.next += 1
        if status == b"error" and self.group_of(i) is not None:
            r.failed = True
            return True
        self.start_case()
        return True

    # --- checkers (assert tests) --------------------------------------------------------------
    def check_case(self, relay: "_Relay") -> tuple:
        """Relay requests of test self.next between the checker and the runner until its verdict.

        Returns (how, status, detail): how "done" (status and json detail from the checker),
        "runner" (the program's process ended), "checker" (the checker died; detail says how),
        "case" / "deadline" (time), "tampered" (the runner sent what nobody asked for).
        """
        relay.start()
        while not relay.how:
            when, what = self.case_deadline()
            left = when - time.monotonic()
            if left <= 0:
                return what, b"", ""
            relay.step(left)
        if relay.how == "checker":
            return "checker", b"", relay.detail or _status_text(relay.reap())
        return relay.how, relay.status, relay.detail

    def fork_checker(self, i: int) -> tuple:
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        mine, theirs = a.detach(), b.detach()
        pid = os.fork()
        if pid == 0:
            try:
                os.dup2(theirs, 3)  # stdout/stderr stay (the tests may print), nothing else
                os.closerange(4, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
                for name, value in self.p["checker_limits"].items():
                    resource.setrlimit(getattr(resource, name), (value, value))
                checker.run_cases(self.p, i, 3)
            finally:
                os._exit(0)
        os.close(theirs)
        return pid, mine

    def kill_all(self, r: _Runner) -> None:
        """Kill every process of the run except the driver, and reap them."""
        if self.p["pidns"] and os.getpid() == 1:
            try:
                os.kill(-1, 9)  # as pid 1 of our own pid namespace: only our namespace's processes
            except ProcessLookupError:
                pass
        else:
            try:
                os.killpg(r.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            _, r.status = os.waitpid(r.pid, 0)
        except ChildProcessError:  # reaped already
            r.status = r.status if r.status is not None else 9
        while True:  # orphans re-parented to us (pid 1) from earlier runners
            try:
                if os.waitpid(-1, os.WNOHANG if not self.p["pidns"] else 0)[0] == 0:
                    break
            except ChildProcessError:
                break
        os.close(r.pidfd)
        os.close(r.rd)


class _Relay:
    """Traffic between a checker (pid ``cpid``, channel ``cfd``) and runner ``r``, case by case."""

    def __init__(self, r: _Runner, cpid: int, cfd: int, max_line: int) -> None:
        self.r, self.cpid, self.cfd, self.max_line = r, cpid, cfd, max_line
        self.how, self.status, self.detail = "", b"", ""
        self.pending = False  # a request is with the runner
        self.calling_back = False  # ... which called a function of the tests, running in the checker
        self.out = {r.rd: b"", cfd: b""}  # bytes waiting to be written to each end
        self.bufs = {r.rd: b"", cfd: b""}
        self.poller = select.poll()
        self.events = {r.rd: select.POLLIN, cfd: select.POLLIN, r.pidfd: select.POLLIN}
        for fd, ev in self.events.items():
            self.poller.register(fd, ev)

    def start(self) -> None:
        """Begin the next case: the checker may already have sent its first lines."""
        self.how, self.status, self.detail = "", b"", ""
        os.set_blocking(self.cfd, False)
        os.set_blocking(self.r.rd, False)
        if self.bufs[self.cfd]:
            self.receive(self.cfd, b"")

    def reap(self) -> int:
        """The wait status of a checker that closed its channel (it is exiting)."""
        _, st = os.waitpid(self.cpid, 0)
        self.cpid = None
        return st

    def close(self) -> None:
        if self.cpid is not None:
            _kill_reap(self.cpid)
            self.cpid = None
        os.close(self.cfd)

    def step(self, left: float) -> None:
        self.pump()
        for fd, ev in self.poller.poll(left * 1000 + 1):
            if fd == self.r.pidfd:
                self.how = "runner"
                return
            if ev & select.POLLOUT:
                self.flush(fd)
            if ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
                self.receive(fd)
            if self.how:
                return
        self.pump()

    def pump(self) -> None:
        """Write what waits at once when possible, else wait for POLLOUT."""
        for fd in self.out:
            if fd in self.events:
                self.flush(fd)
                ev = select.POLLIN | (select.POLLOUT if self.out[fd] else 0)
                if ev != self.events[fd]:
                    self.events[fd] = ev
                    self.poller.modify(fd, ev)

    def flush(self, fd: int) -> None:
        if self.out[fd]:
            try:
                n = os.write(fd, self.out[fd])
            except BlockingIOError:
                n = 0
            except OSError:  # the other end is gone; its exit is reported separately
                n = len(self.out[fd])
            self.out[fd] = self.out[fd][n:]

    def receive(self, fd: int, chunk: bytes | None = None) -> None:
        if chunk is None:
            try:
                chunk = os.read(fd, 1 << 20)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self.poller.unregister(fd)
                del self.events[fd]
                if fd == self.cfd:  # the checker ended without its verdict
                    self.how = "checker"
                return
        buf = self.bufs[fd] + chunk
        while not self.how:
            nl = buf.find(b"\n")
            if nl < 0:
                break
            line, buf = buf[:nl], buf[nl + 1:]
            if fd == self.cfd:
                self.from_checker(line)
            else:
                self.from_runner(line)
        self.bufs[fd] = buf
        if len(buf) > self.max_line and not self.how:
            self.how = "checker" if fd == self.cfd else "tampered"
            self.detail = "oversized message"

    def from_checker(self, line: bytes) -> None:
        tag, _, rest = line.partition(b" ")
        if tag == b"A" and self.calling_back:  # the answer to the program's callback
            self.out[self.r.rd] += line + b"\n"
            self.calling_back = False
        elif tag == b"D" and not self.pending:
            self.status, _, self.detail = rest.partition(b" ")
            self.how = "done"
        elif tag == b"Q" and not self.pending:
            self.r.seq += 1
            self.out[self.r.rd] += rest + b"\n"
            self.pending = True
        else:
            self.how, self.detail = "checker", "bad message"

    def from_runner(self, line: bytes) -> None:
        parts = line.split(b" ", 4)
        if (not self.pending or self.calling_back or len(parts) != 5 or parts[0] != self.r.key
                or parts[1] not in (b"Y", b"K") or parts[2] != b"%d" % self.r.seq):
            self.how = "tampered"
            return
        if parts[1] == b"K":  # the program calls a function of the tests
            self.out[self.cfd] += b"K " + parts[4] + b"\n"
            self.calling_back = True
            return
        self.out[self.cfd] += parts[3] + b" " + parts[4] + b"\n"
        self.pending = False


def _kill_reap(pid: int) -> None:
    try:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


# --- inside a runner (child) ---------------------------------------------------------------
def _make_runner(
    type=type, len=len, str=str, dict=dict, list=list, tuple=tuple, int=int, float=float,
    complex=complex, bool=bool, bytes=bytes, id=id, range=range, zip=zip, any=any,
    isinstance=isinstance, OverflowError=OverflowError, RuntimeError=RuntimeError, next=next, exec=exec, compile=compile, getattr=getattr, setattr=setattr,
    callable=callable, issubclass=issubclass, mro_of=type.__dict__["__mro__"].__get__,
    name_of=type.__dict__["__name__"].__get__, BaseException=BaseException, SystemExit=SystemExit,
    write=os.write, read=os.read, encode=codec.encode, encode_objects=codec.encode_objects,
    dumps=codec.dumps, decode=codec.decode, loads=codec.loads, describe=checker.describe,
    module_type=sys.__class__, sys=sys, io=sys.modules["io"], b_module=sys.modules["builtins"],
):  # type: ignore[no-untyped-def]
    """Build the runner with every builtin it needs bound now, before any candidate code runs.

    Candidate code may patch ``builtins`` (even the real dict, e.g. via ``os.__builtins__``),
    ``os`` or ``sys``; the closures below only use what is bound here. Nothing here judges
    anything: the runner only reports what the program returned or printed.
    """
    pristine_builtins = dict(b_module.__dict__)  # Mbpp/533 passes `int` to the program
    # exception classes a program's exception is reported as (the nearest in its MRO)
    exc_ids = {id(c) for c in b_module.__dict__.values() if type(c) is type and issubclass(c, BaseException)}
    immutable = {id(t) for t in (int, float, str, bytes, complex, bool, type(None))}

    def run(p, start, key):  # type: ignore[no-untyped-def]
        def report(tag, i, status, detail):  # type: ignore[no-untyped-def]
            data = b"%s %s %d %s %s\n" % (key, tag, i, status, detail.encode("ascii"))
            while data:
                data = data[write(REPORT_FD, data):]

        shadow = type(sys)("builtins")  # the candidate's builtins: patching them stays there
        shadow.__dict__.update(pristine_builtins)
        shadow.exit = shadow.quit = _quit  # site.py is off (-S), so these would be missing
        sys.modules["builtins"] = shadow
        out, err = sys.stdout, sys.stderr
        kind = p["kind"]
        sources = dict(p["sources"])
        ns = {"__name__": "__main__" if kind == "stdio" else "__solution__", "__builtins__": shadow.__dict__}
        try:
            if kind == "stdio":
                out = sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)),
                                                    encoding="utf-8")
                sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)),
                                             encoding="utf-8")
                status, detail = run_script(p, ns, sources)
                flush(out)
                report(b"C", start, status, detail)
                return
            try:
                if p["prelude"]:
                    exec(compile(p["prelude"], "<prelude>", "exec"), ns)
                exec(compile(p["code"], "<solution>", "exec"), ns)
            except BaseException as e:
                report(b"L", start, b"error", dumps(describe(e, sources, "program failed to load: ")))
                return
            report(b"R", start, b"ok", "null")
            if kind == "assert":
                return serve(p, ns, report)
            for i in range(start, len(p["cases"])):
                status, detail = run_call(p, i, ns, sources)
                report(b"C", i, status, detail)
        finally:
            flush(out, err, sys.stdout, sys.stderr)

    def serve(p, ns, report):  # type: ignore[no-untyped-def]
        """Answer the checker's requests (see checker.py) until the driver ends this process."""
        objects = []  # program objects the checker holds as opaque stand-ins, by index
        cap = p["value_cap"]
        by_value = set(p["value_classes"])

        def resolve(ref):  # type: ignore[no-untyped-def]
            if type(ref) is int:
                if not 0 <= ref < len(objects):
                    raise ValueError(f"no program object {ref}")
                return objects[ref]
            if ref.startswith("builtins."):
                return pristine_builtins[ref[9:]]
            if ref.startswith("callback."):
                return callback(int(ref[9:]))
            if ref not in ns:
                raise NameError(f"name {ref!r} is not defined")
            return ns[ref]

        def cls_of(name):  # type: ignore[no-untyped-def]
            c = ns.get(name)  # the program's class of that name (the tests' if it kept theirs)
            if name not in by_value or not isinstance(c, type):
                raise TypeError(f"no class {name} to rebuild a test's object")
            return c

        def text_of(v):  # type: ignore[no-untyped-def]
            text = dumps(encode_objects(v, by_value))
            if len(text) > cap:
                raise OverflowError(f"return value too large ({len(text)} bytes encoded)")
            return text

        def reply(v, lookup, args=None, before=None):  # type: ignore[no-untyped-def]
            if lookup and type(v) is module_type:
                return b"M", dumps(v_name(v))
            if lookup and callable(v):
                return b"F", dumps([v_name(v), name_of(type(v))])
            try:
                if before is not None and snapshot(args) not in (before, None):
                    try:  # the arguments as the program left them, with the value
                        return b"W", text_of([v, args])
                    except TypeError:  # the value is no data: it goes back opaque
                        pass
                return b"V", text_of(v)
            except OverflowError as e:
                return b"E", dumps(["ValueError", str(e)])
            except BaseException:
                objects.append(v)
                return b"H", dumps([len(objects) - 1, name_of(type(v))])

        def snapshot(args):  # type: ignore[no-untyped-def]
            try:
                return text_of(args)
            except BaseException:  # arguments that are not all data (a builtin, an opaque object)
                return None

        def v_name(v):  # type: ignore[no-untyped-def]
            n = getattr(v, "__name__", None)
            return n if type(n) is str else "?"

        def callback(k):  # type: ignore[no-untyped-def]
            def call(*args, **kwargs):  # type: ignore[no-untyped-def]
                report(b"K", seq[0], b"cb", text_of([k, list(args), kwargs]))
                status, _, text = next_line()[2:].partition(b" ")  # "A V <json>" / "A E <json>"
                value = loads(text.decode("ascii"), None, resolve, cls_of)
                if status == b"V":
                    return value
                exc = pristine_builtins.get(value[0])
                raise exc(value[1]) if type(exc) is type and issubclass(exc, BaseException) else RuntimeError(value[1])
            return call

        def next_line():  # type: ignore[no-untyped-def]
            while True:
                nl = buf[0].find(b"\n")
                if nl >= 0:
                    line, buf[0] = buf[0][:nl], buf[0][nl + 1:]
                    return line
                chunk = read(REPORT_FD, 1 << 20)
                if not chunk:
                    raise SystemExit(0)  # the driver is done with us
                buf[0] += chunk

        def answer(line):  # type: ignore[no-untyped-def]
            try:
                req = loads(line.decode("ascii"), None, resolve, cls_of)
                op = req[0]
                if op == "g":
                    return reply(resolve(req[1]), True)
                if op == "c":
                    fn, args = resolve(req[1]), req[2]
                    before = snapshot(args) if any(id(type(a)) not in immutable for a in args) else None
                    return reply(fn(*args, **req[3]), False, args, before)
                if op == "a":
                    return reply(getattr(resolve(req[1]), req[2]), False)
                if op == "s":
                    setattr(resolve(req[1]), req[2], req[3])
                    return b"V", "null"
                if op == "G":
                    ns[req[1]] = req[2]
                    return b"V", "null"
                return b"E", dumps(["ValueError", "unknown request"])
            except BaseException as e:
                return b"E", dumps([exc_name(e), exc_text(e)])

        seq, buf = [0], [b""]  # requests answered; bytes read and not yet used
        while True:
            try:
                line = next_line()
            except SystemExit:
                return
            seq[0] += 1
            status, text = answer(line)
            flush(sys.stdout, sys.stderr)  # what a call printed, before the driver may end us
            report(b"Y", seq[0], status, text)

    def exc_name(e):  # type: ignore[no-untyped-def]
        for c in mro_of(type(e)):
            if id(c) in exc_ids:
                return name_of(c)
        return "Exception"

    def exc_text(e):  # type: ignore[no-untyped-def]
        try:
            args = e.args
            # the one str argument when there is one: re-raised with it, str() is the same
            # (KeyError('k') would otherwise come back as KeyError("'k'"))
            s = args[0] if type(args) is tuple and len(args) == 1 and type(args[0]) is str else str(e)
            s = s if type(s) is str else ""
        except BaseException:
            s = "<unprintable>"
        return s if len(s) <= 1000 else s[:997] + "..."

    def run_call(p, i, ns, sources):  # type: ignore[no-untyped-def]
        try:
            args = decode(p["cases"][i])
            if type(args) is not list:
                return b"error", dumps("test input must be a list of arguments")
            if p["class_name"]:
                cls = ns.get(p["class_name"])
                if cls is None:
                    return b"error", dumps(f"class {p['class_name']} is not defined")
                fn = getattr(cls(), p["fn_name"])
            else:
                fn = ns.get(p["fn_name"])
                if fn is None:
                    return b"error", dumps(f"function {p['fn_name']} is not defined")
            value = fn(*args)
        except BaseException as e:
            return b"error", dumps(describe(e, sources))
        try:
            text = dumps(encode(value))
        except BaseException as e:
            return b"error", dumps(f"return value cannot be checked: {describe(e, sources)}")
        if len(text) > p["value_cap"]:
            return b"error", dumps(f"return value too large ({len(text)} bytes encoded)")
        return b"value", text

    def run_script(p, ns, sources):  # type: ignore[no-untyped-def]
        try:
            if p["prelude"]:
                exec(compile(p["prelude"], "<prelude>", "exec"), ns)
            exec(compile(p["code"], "<solution>", "exec"), ns)
        except SystemExit as e:
            c = e.code
            if c is None or (type(c) is int and c == 0):
                return b"ok", "null"
            return b"error", dumps(f"exit status {c}" if type(c) is int else "exit: " + describe(e, sources))
        except BaseException as e:
            return b"error", dumps(describe(e, sources))
        return b"ok", "null"

    def flush(*streams):  # type: ignore[no-untyped-def]
        for s in streams:
            try:
                s.flush()
            except BaseException:
                pass

    return run


def _quit(code=None):  # type: ignore[no-untyped-def]
    raise SystemExit(code)


_run = _make_runner()
