"""The trusted checker (seer/sandbox/checker.py): assert tests run outside the program's process
against stand-ins that forward calls; per-case time limits; EvalPlus's groups of cases (a budget per
group, fast_check); bounds of the codec on untrusted text and on the time to decode it."""
from __future__ import annotations

import dataclasses
import time

import pytest

from seer.data.schemas import Tests
from seer.eval.score import base_passed
from seer.sandbox import codec, run_tests
from seer.sandbox.execute import (
    DECODE_SECONDS,
    DECODE_SECONDS_PER_MB,
    _outcome,
    _Raw,
    _verdict,
    decode_seconds,
    run_raw,
)
from seer.sandbox.payload import GROUP_CAP, GROUP_SLACK, Limits, budget, groups, prepare

SQUARE = "def f(x):\n    return x * x\n"
CHECK = Tests("assert", ["check(f)"], setup=(
    "import math\n"
    "def check(candidate):\n"
    "    assert candidate(2) == 4 and candidate(3) == 9\n"
    "    assert candidate(4) in (16, 17)\n"
    "    assert abs(candidate(1.5) - 2.25) < 1e-6\n"
    "    assert math.isclose(candidate(0.5), 0.25)\n"
    "    assert sorted([candidate(2), candidate(1)]) == [1, 4]\n"))


def statuses(r) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.status for t in r.tests]


# --- what crosses from the program is data ---------------------------------------------------
def test_honest_program_passes_every_kind_of_assert() -> None:
    r = run_tests(SQUARE, CHECK)
    assert r.passed, r.tests


@pytest.mark.parametrize("cheat", [
    # an object that equals everything, subtracts to 0, hashes like a float
    ("class Y(float):\n    def __eq__(s, o): return True\n    def __sub__(s, o): return 0\n"
     "    def __lt__(s, o): return True\n    __hash__ = float.__hash__\ndef f(x): return Y(0)\n"),
    "class Y:\n    def __eq__(s, o): return True\n    def __sub__(s, o): return 0\ndef f(x): return Y()\n",
    "import weakref\nclass D(dict):\n    def __eq__(s, o): return True\nkeep = D()\ndef f(x): return weakref.proxy(keep)\n",
    "import types\nclass D(dict):\n    def __eq__(s, o): return True\ndef f(x): return types.MappingProxyType(D())\n",
    # shared modules: the tests' math is the checker's own
    ("import math\nmath.isclose = lambda *a, **k: True\nimport builtins\nbuiltins.abs = lambda v: 0\n"
     "builtins.sorted = lambda v: [1, 4]\ndef f(x): return 0\n"),
    # shadowing builtins the tests use: not the function under test, so the checker's builtins
    "def abs(v): return 0\ndef sorted(v): return [1, 4]\ndef f(x): return 0\n",
    # tampering with whatever harness is in this process: the checker is not in it
    ("import gc, sys\nfor o in gc.get_objects():\n    if isinstance(o, dict) and '_seer_assert_eq' in o:\n"
     "        o['_seer_assert_eq'] = lambda a, b: True\n"
     "for m in ('checker', 'codec', 'driver'):\n    mod = sys.modules.get(m)\n    if mod:\n"
     "        for k in list(vars(mod)):\n            if callable(getattr(mod, k)):\n"
     "                setattr(mod, k, lambda *a, **k: None)\ndef f(x): return 0\n"),
])
def test_lying_objects_and_tampering_do_not_pass(cheat: str) -> None:
    r = run_tests(cheat, CHECK)
    assert r.status in ("fail", "error") and statuses(r) != ["pass"], r.tests


def test_program_objects_are_opaque_stand_ins() -> None:
    node = ("class Node:\n    def __init__(self, v):\n        self.v, self.left = v, None\n"
            "def depth(n):\n    return 0 if n is None else 1 + depth(n.left)\n"
            "def me(n):\n    return n\n")
    tests = Tests("assert", ["assert depth(root) == 3", "assert root.left.v == 2",
                             "assert me(root) is not None and me(root) != root.left",
                             "assert me(root) == 1"],
                  setup="root = Node(1)\nroot.left = Node(2)\nroot.left.left = Node(3)\n")
    assert statuses(run_tests(node, tests)) == ["pass", "pass", "pass", "fail"]


def test_program_helpers_are_forwarded_and_modules_are_the_checkers() -> None:
    code = "import sys\ndef helper(s):\n    return s[::-1]\ndef f(s):\n    return helper(s)\n"
    tests = Tests("assert", ["assert f(helper('abc')) == 'abc'", "assert sys.getsizeof(()) > 0",
                             "assert undefined_name(1)"])
    r = run_tests(code, tests)
    assert statuses(r) == ["pass", "pass", "error"] and "NameError" in r.tests[2].detail


def test_entry_point_may_shadow_a_builtin() -> None:  # Mbpp/126's `sum`
    code = "def sum(a, b):\n    return 42\n"
    tests = Tests("assert", ["assert sum(1, 2) == 42", "assert sum(1, 2) == 3"], fn_name="sum")
    assert statuses(run_tests(code, tests)) == ["pass", "fail"]
    assert statuses(run_tests(code, dataclasses.replace(tests, fn_name=""))) == ["error", "error"]


# --- exceptions ------------------------------------------------------------------------------
def test_program_exceptions_are_raised_as_their_builtin_type() -> None:
    code = ("class Custom(ValueError):\n    pass\n"
            "def f(x):\n    if x == 0:\n        raise Custom('bad x')\n    if x == 1:\n        raise KeyError('k')\n"
            "    if x == 2:\n        raise SystemExit(0)\n    return x\n")
    tests = Tests("assert", [
        "try:\n    f(0)\n    assert False\nexcept ValueError as e:\n    assert str(e) == 'bad x'",
        "try:\n    f(1)\nexcept KeyError as e:\n    assert e.args == ('k',)",
        "try:\n    f(2)\nexcept Exception:\n    pass",  # SystemExit is not an Exception: the case errs
        "assert f(3) == 3",
        "f(0)",
    ])
    r = run_tests(code, tests)
    assert statuses(r) == ["pass", "pass", "error", "pass", "error"], r.tests
    assert "SystemExit" in r.tests[2].detail and "ValueError: bad x" in r.tests[4].detail


def test_a_program_that_dies_loses_only_that_case() -> None:
    code = "import os\ndef f(x):\n    if x == 1:\n        os._exit(0)\n    return x\n"
    tests = Tests("assert", ["assert f(0) == 0", "assert f(1) == 1", "assert f(2) == 2"])
    r = run_tests(code, tests)
    assert statuses(r) == ["pass", "error", "pass"] and "program ended" in r.tests[1].detail


def test_functions_of_the_tests_are_called_back_and_other_objects_cannot_cross() -> None:
    code = ("def f(g):\n    return g(1)\n"
            "def safe(g):\n    try:\n        return g(0)\n    except ZeroDivisionError:\n        return 'caught'\n"
            "def inject():\n    return api(5)\n")
    tests = Tests("assert", ["assert f(lambda v: v + 1) == 2", "assert f(int) == 1",
                             "assert safe(lambda v: 1 / v) == 'caught'",
                             "_seer_set_program_global('api', lambda v: v * 2)\nassert inject() == 10",
                             "assert f(object()) == 1"])
    r = run_tests(code, tests)
    assert statuses(r) == ["pass", "pass", "pass", "pass", "error"], r.tests
    assert "cannot be passed to the program" in r.tests[4].detail


def test_callbacks_outside_a_call_are_a_protocol_violation() -> None:
    # a thread calls the tests' function back after the call returned, while the checker sleeps
    code = ("import threading, time\nkeep = []\ndef f(g):\n    keep.append(g)\n    return 1\n"
            "threading.Thread(target=lambda: (time.sleep(0.3), keep and keep[0](1))).start()\n")
    tests = Tests("assert", ["assert f(lambda v: v) == 1\nimport time\ntime.sleep(0.6)", "assert f(len) == 1"])
    r = run_tests(code, tests)
    assert r.status == "error" and statuses(r)[1] == "error", r.tests


def test_unsolicited_reports_are_a_protocol_violation() -> None:
    code = "import os\nos.write(3, b'x Y 1 V true\\n')\ndef f(x):\n    return x\n"
    r = run_tests(code, Tests("assert", ["assert f(1) == 1"]))
    assert r.status == "error" and statuses(r) == ["error"]


LISTNODE = ("class ListNode:\n    def __init__(self, val=0, next=None):\n        self.val, self.next = val, next\n"
            "def build(xs):\n    head = None\n    for x in reversed(xs):\n        head = ListNode(x, head)\n"
            "    return head\n"
            "def values(node):\n    out = []\n    while node is not None:\n        out.append(node.val)\n"
            "        node = node.next\n    return out\n")


def test_objects_of_classes_the_tests_define_cross_by_value() -> None:
    # LeetCode style: the tests build a linked list with their class, the program returns its own nodes
    code = ("class ListNode:\n    def __init__(self, val=0, next=None):\n        self.val, self.next = val, next\n"
            "    def __eq__(self, other):\n        return True\n"
            "def reverse(head):\n    prev = None\n    while head:\n        head.next, prev, head = prev, head, head.next\n"
            "    return prev\n"
            "def cycle():\n    a = ListNode(1)\n    a.next = a\n    return a\n")
    tests = Tests("assert", ["assert values(reverse(build([1, 2, 3]))) == [3, 2, 1]",
                             "assert values(reverse(build(list(range(5000))))) == list(range(4999, -1, -1))",
                             "c = cycle()\nassert c.next is c and c.val == 1",
                             "assert reverse(build([1, 2])) == 42",  # the program's __eq__ never runs here
                             "assert type(reverse(build([1]))) is ListNode"],
                  prelude=LISTNODE)
    assert statuses(run_tests(code, tests)) == ["pass", "pass", "pass", "fail", "pass"]


def test_arguments_changed_in_place_come_back() -> None:
    code = ("def rev(xs):\n    xs.reverse()\n"
            "def unlink(head):\n    head.next = None\n"
            "def same(xs):\n    return xs\n")
    tests = Tests("assert", ["xs = [1, 2, 3]\nassert rev(xs) is None\nassert xs == [3, 2, 1]",
                             "h = build([1, 2, 3])\nunlink(h)\nassert values(h) == [1]",
                             "xs = [1]\nys = same(xs)\nassert ys == xs and ys is not xs"],
                  prelude=LISTNODE)
    assert statuses(run_tests(code, tests)) == ["pass", "pass", "pass"]


def test_a_class_in_the_setup_does_not_weaken_the_checker() -> None:
    code = "class Eq:\n    def __eq__(self, o):\n        return True\ndef f(x):\n    return Eq()\n"
    tests = Tests("assert", ["assert f(2) == 4 and f(3) == 6"], setup="class Helper:\n    pass\n")
    assert prepare("", tests, Limits(1.0, 256, 1000)).payload["value_classes"] == ["Helper"]
    assert statuses(run_tests(code, tests)) == ["fail"]


# --- per-case time limits --------------------------------------------------------------------
SLEEPY = "import time\ndef f(x):\n    time.sleep(x)\n    return x\n"


@pytest.mark.parametrize("kind", ["assert", "call", "stdio"])
def test_each_case_gets_its_own_time_limit(kind: str) -> None:
    xs = [0, 5, 0.05]
    if kind == "assert":
        tests = Tests("assert", [f"assert f({x}) == {x}" for x in xs])
        code = SLEEPY
    elif kind == "call":
        tests = Tests("call", [{"input": [x], "output": x} for x in xs], fn_name="f")
        code = SLEEPY
    else:
        tests = Tests("stdio", [{"input": f"{x}\n", "output": f"{x}"} for x in xs])
        code = SLEEPY + "x = input()\nf(float(x))\nprint(x)\n"
    tests = dataclasses.replace(tests, time_limits=[0.5, 0.5, 0.5])
    t0 = time.monotonic()
    r = run_tests(code, tests, timeout=1.0)
    assert time.monotonic() - t0 < 4.0
    assert r.status == "timeout" and statuses(r) == ["pass", "timeout", "pass"], r.tests
    assert "0.5 s for this test" in r.tests[1].detail


DIES_AFTER_A_WHILE = ("import os, time\ntime.sleep(0.3)\n"  # a program that takes 0.3 s to load
                      "def f(x):\n    time.sleep(0.4)\n    if x == 0:\n        os._exit(3)\n    return x\n")


@pytest.mark.parametrize("kind", ["assert", "call"])
def test_a_case_after_a_dead_program_gets_its_own_time_limit(kind: str) -> None:
    # case 0 spends 0.4 s then kills the program; the program loads again (0.3 s) and case 1 needs
    # 0.4 s of its 0.6 s - on case 0's clock the reload alone would run it out of time
    if kind == "assert":
        tests = Tests("assert", ["assert f(0) == 0", "assert f(1) == 1"], time_limits=[0.6, 0.6])
    else:
        tests = Tests("call", [{"input": [0], "output": 0}, {"input": [1], "output": 1}], fn_name="f",
                      time_limits=[0.6, 0.6])
    r = run_tests(DIES_AFTER_A_WHILE, tests, timeout=2.0)
    assert statuses(r) == ["error", "pass"], r.tests


def test_without_limits_one_budget_covers_the_run() -> None:
    tests = Tests("assert", ["assert f(0) == 0", "assert f(5) == 5", "assert f(0) == 0"])
    r = run_tests(SLEEPY, tests, timeout=0.5)
    assert statuses(r) == ["pass", "timeout", "timeout"] and r.tests[2].detail.startswith("not run")


def test_slow_but_within_its_limit_passes() -> None:
    tests = Tests("call", [{"input": [0.3], "output": 0.3}] * 3, fn_name="f", time_limits=[1.0] * 3)
    assert run_tests(SLEEPY, tests, timeout=0.5).passed  # 0.9 s in all: over `timeout`, within the sum


# --- bounded decoding --------------------------------------------------------------------------
COLLIDING = [i * (2**61 - 1) for i in range(1, 100_000)]


@pytest.mark.parametrize("value", [set(COLLIDING[:5000]), {k: 0 for k in COLLIDING[:5000]}, COLLIDING,
                                   tuple(COLLIDING)])
def test_codec_rejects_crafted_hash_collisions_in_linear_time(value: object) -> None:
    text = codec.dumps(codec.encode(value))
    t0 = time.monotonic()
    with pytest.raises(ValueError, match="share one hash value"):
        codec.loads(text)
    assert time.monotonic() - t0 < 5.0


def test_codec_keeps_honest_repeats_and_bounds_depth_size_time(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    honest = [[-1, -2] * 500, [0] * 10_000, [(1, [2])] * 50, {-1: 1, -2: 2}]
    assert codec.loads(codec.dumps(codec.encode(honest))) == honest
    with pytest.raises(ValueError, match="nested deeper"):
        codec.loads("[" * 200 + "]" * 200)
    with pytest.raises(ValueError, match="parts"):
        monkeypatch.setattr(codec, "MAX_NODES", 10_000)
        codec.loads(codec.dumps(list(range(20_000))))
    with pytest.raises(ValueError, match="out of time"):
        codec.loads(codec.dumps(list(range(20_000))), deadline=time.monotonic() - 1)
    with pytest.raises(ValueError, match="unexpected"):
        codec.loads('{"$ref": 1}')


def test_parent_decodes_a_forged_result_line_in_bounded_time() -> None:
    tests = Tests("call", [{"input": [1], "output": 1}], fn_name="f")
    text = codec.dumps({"$set": [codec.encode(x) for x in COLLIDING]})
    t0 = time.monotonic()
    out = _outcome(tests, [1], 0, "value", text, time.monotonic() + 10)
    assert out.status == "error" and "hash" in out.detail and time.monotonic() - t0 < 5.0


# --- EvalPlus's groups (base, plus): a budget per group, fast_check --------------------------
GROUPED = ("import time\ndef f(x):\n    if x == 'boom':\n        raise ValueError(x)\n"
           "    while x == 'loop':\n        pass\n    if isinstance(x, float):\n        time.sleep(x)\n    return x\n")


def grouped(xs: list, n_base: int, rule: str = "evalplus:mbpp", limit: float = 0.5,
            wrong: tuple = ()) -> Tests:
    return Tests("call", [{"input": [x], "output": "wrong" if i in wrong else x} for i, x in enumerate(xs)],
                 fn_name="f", rule=rule, n_base=n_base, time_limits=[limit] * len(xs))


def run_with_group_budgets(code: str, tests: Tests, budgets: list[float]):  # type: ignore[no-untyped-def]
    """A real run whose groups have ``budgets`` instead of EvalPlus's 60 s cap + 2 s (a test that
    reaches those would take a minute)."""
    limits = Limits(budget(tests, 1.0), 1024, 65536)
    prep = prepare(code, tests, limits)
    prep.payload["groups"] = [(a, b, t) for (a, b, _), t in zip(prep.payload["groups"], budgets, strict=True)]
    raw = run_raw(prep, len(tests.cases), limits)
    return _verdict(raw, tests, prep.expected, prep.payload["groups"], 0.0)


def test_groups_are_evalplus_base_and_plus_with_its_budget() -> None:
    tests = grouped([0.0] * 5, 2, limit=20.0)
    assert groups(tests) == [(0, 2, min(GROUP_CAP, 40.0) + GROUP_SLACK), (2, 5, GROUP_CAP + GROUP_SLACK)]
    assert groups(dataclasses.replace(tests, n_base=0)) == [(0, 5, GROUP_CAP + GROUP_SLACK)]
    assert groups(dataclasses.replace(tests, rule="")) == []
    assert groups(dataclasses.replace(tests, time_limits=[])) == []  # fill_expected's probe


def test_a_group_over_its_budget_fails_though_each_case_is_within_its_limit() -> None:
    tests = grouped([0.2, 0.2, 0.2, 0.2, 1, 2], 4)  # 0.2 s per case, limit 0.5; base needs 0.8 s
    r = run_with_group_budgets(GROUPED, tests, [0.5, 0.5])
    assert statuses(r) == ["pass", "pass", "timeout", "fail", "pass", "pass"], r.tests
    assert "tests 0-3 together" in r.tests[2].detail and r.tests[3].detail.startswith("not run")
    assert r.status == "timeout" and not base_passed(r, tests)  # plus still ran, in its own budget
    assert run_with_group_budgets(GROUPED, tests, [1.5, 0.5]).passed


def test_fast_check_stops_a_group_at_its_first_failure_and_the_next_group_runs() -> None:
    tests = grouped([1, "boom", 2, 3, 4, 5], 3, wrong=(4,))
    r = run_tests(GROUPED, tests, timeout=1.0)
    assert statuses(r) == ["pass", "error", "fail", "pass", "fail", "fail"], r.tests
    assert [t.detail.startswith("not run") for t in r.tests] == [False, False, True, False, False, True]
    assert r.status == "fail" and not base_passed(r, tests)
    plus_only = run_tests(GROUPED, grouped([1, 2, 3, 4], 2, wrong=(2,)), timeout=1.0)
    assert statuses(plus_only) == ["pass", "pass", "fail", "fail"]
    assert base_passed(plus_only, grouped([1, 2, 3, 4], 2)) and not plus_only.passed


def test_a_looping_case_ends_its_group_at_once() -> None:
    tests = grouped(["loop"] * 4 + [1, 2], 4, limit=0.3)
    t0 = time.monotonic()
    r = run_tests(GROUPED, tests, timeout=1.0)
    assert statuses(r) == ["timeout", "fail", "fail", "fail", "pass", "pass"], r.tests
    assert time.monotonic() - t0 < 0.3 * 4  # not one timeout per case
    assert not base_passed(r, tests) and r.status == "timeout"


def test_other_rules_keep_every_case_and_one_budget() -> None:
    tests = grouped([1, "boom", 2, 3, 4, 5], 3, rule="", wrong=(4,))
    r = run_tests(GROUPED, tests, timeout=1.0)
    assert statuses(r) == ["pass", "error", "pass", "pass", "fail", "pass"], r.tests
    assert prepare(GROUPED, tests, Limits(1.0, 1024, 65536)).payload["groups"] == []


def test_decoding_time_grows_with_what_is_decoded() -> None:
    small = _Raw(cases=[("value", "1")])
    large = _Raw(cases=[("value", "1" * (4 << 20)), ("error", "x" * (8 << 20))])  # only values are decoded
    assert decode_seconds(small) == pytest.approx(DECODE_SECONDS, abs=0.01)
    assert decode_seconds(large) == pytest.approx(DECODE_SECONDS + 4 * DECODE_SECONDS_PER_MB)
