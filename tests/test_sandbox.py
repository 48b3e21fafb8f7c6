"""Normal behaviour of seer.sandbox: the three test kinds, per-test statuses, codec, pool, cache."""
from __future__ import annotations

import collections
import dataclasses
import json
import marshal
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seer.config import SandboxConfig
from seer.data.schemas import Tests
from seer.sandbox import (
    ExecResult,
    SandboxError,
    SandboxPool,
    TestOutcome,
    capabilities,
    codec,
    fill_expected,
    isolation,
    launcher,
    run_tests,
)
from seer.sandbox.compare import stdout_equal, values_equal
from seer.sandbox.payload import TestsError

ADD = "def add(a, b):\n    return a + b\n"


def statuses(r: ExecResult) -> list[str]:
    return [t.status for t in r.tests]


# --- assert tests --------------------------------------------------------------------------
def test_assert_pass_and_per_test_statuses() -> None:
    tests = Tests("assert", ["assert add(1, 2) == 3", "assert add(1, 1) == 3", "assert add('a', 1) == 1",
                             "assert add(2, 2) == 4"])
    r = run_tests(ADD, tests)
    assert r.status == "fail"
    assert statuses(r) == ["pass", "fail", "error", "pass"]  # one failure hides nothing
    assert "left 2, right 3" in r.tests[1].detail
    assert "TypeError" in r.tests[2].detail
    assert r.pass_rate == 0.5
    assert run_tests(ADD, Tests("assert", ["assert add(1, 2) == 3"])).passed


def test_assert_setup_prelude_and_humaneval_style_check() -> None:
    tests = Tests("assert", ["check(add)"], prelude="import math",
                  setup="def check(candidate):\n    assert candidate(2, 3) == 5\n"
                        "    assert math.isclose(candidate(0.1, 0.2), 0.3)\n")
    assert run_tests(ADD, tests).passed
    r = run_tests("def add(a, b):\n    return a - b\n", tests)
    assert r.status == "fail" and "<setup> line 2" in r.tests[0].detail


def test_load_errors_fail_every_test() -> None:
    r = run_tests("def add(a, b) return a", Tests("assert", ["assert add(1, 2) == 3"] * 2))
    assert r.status == "error" and statuses(r) == ["error", "error"]
    assert "SyntaxError" in r.stderr
    r = run_tests("raise ValueError('boom')", Tests("assert", ["assert True"]))
    assert r.status == "error" and "boom" in r.stderr


def test_zero_tests_pass_iff_program_loads() -> None:
    assert run_tests("x = 1", Tests("assert", [])).passed
    assert run_tests("x = 1 / 0", Tests("assert", [])).status == "error"


def test_stdout_stderr_captured_and_capped() -> None:
    r = run_tests("import sys\nprint('hello')\nsys.stderr.write('warn' * 10000)\n" + ADD,
                  Tests("assert", ["assert add(1, 2) == 3"]), max_output_bytes=1000)
    assert r.passed and r.stdout == "hello\n"
    assert r.stderr.startswith("warn" * 250) and "39000 more bytes not kept" in r.stderr


def test_strict_equality_keeps_python_semantics_for_honest_values() -> None:
    code = ("import collections, decimal\n"
            "def f(k):\n"
            "    return {'counter': collections.Counter('aab'), 'nt': collections.namedtuple('P', 'x y')(1, 2),\n"
            "            'int': 3, 'dec': decimal.Decimal(2), 'nan': float('nan'), 'list': [1, 2]}[k]\n")
    tests = Tests("assert", ["assert f('counter') == {'a': 2, 'b': 1}", "assert f('nt') == (1, 2)",
                             "assert f('int') == 3.0", "assert f('dec') == 2", "assert f('nan') != f('nan')",
                             "assert f('list') == (1, 2)"])
    assert statuses(run_tests(code, tests)) == ["pass"] * 5 + ["fail"]  # list != tuple, as in Python


# --- call tests ----------------------------------------------------------------------------
def test_call_compares_in_parent_with_atol_and_sequences() -> None:
    tests = Tests("call", [{"input": [1, 2], "output": 3}, {"input": [0.1, 0.2], "output": 0.3},
                           {"input": [[1], [2]], "output": [1, 2]}, {"input": [1, 1], "output": 3}],
                  fn_name="add", atol=1e-9)
    r = run_tests(ADD, tests)
    assert statuses(r) == ["pass", "pass", "pass", "fail"]
    assert r.tests[3].detail == "expected 3, got 2"
    exact = Tests("call", [{"input": [0.1, 0.2], "output": 0.3}], fn_name="add")
    assert run_tests(ADD, exact).status == "fail"  # atol 0: 0.30000000000000004 != 0.3


def test_call_solution_class_tagged_values_and_errors() -> None:
    code = ("class Solution:\n"
            "    def __init__(self):\n        self.calls = 0\n"
            "    def pair(self, x):\n        self.calls += 1\n        return (x, self.calls)\n")
    tests = Tests("call", [{"input": [1], "output": {"$tuple": [1, 1]}}, {"input": [2], "output": [2, 1]}],
                  fn_name="pair", class_name="Solution")
    assert run_tests(code, tests).passed  # a fresh Solution per test; tuple == list
    r = run_tests("def g(): pass", Tests("call", [{"input": [], "output": 1}], fn_name="f"))
    assert r.status == "fail" and r.tests[0].detail == "function f is not defined"
    r = run_tests("def f(): return object()", Tests("call", [{"input": [], "output": 1}], fn_name="f"))
    assert r.tests[0].status == "error" and "unsupported value type object" in r.tests[0].detail
    r = run_tests(ADD, Tests("call", [{"input": [1, 2]}], fn_name="add"))
    assert r.tests[0].status == "error" and "fill_expected" in r.tests[0].detail


def test_fill_expected_then_grade() -> None:
    ref = "def f(xs):\n    return tuple(sorted(set(xs))), {1: 'a'}, float('inf')\n"
    tests = Tests("call", [{"input": [[3, 1, 3]]}, {"input": [[]], "output": "given"}], fn_name="f")
    filled = fill_expected(ref, tests)
    assert filled.cases[0]["output"] == {"$tuple": [{"$tuple": [1, 3]}, {"$dict": [[1, "a"]]}, {"$float": "inf"}]}
    assert filled.cases[1]["output"] == "given" and "output" not in tests.cases[0]
    json.dumps(filled.cases)  # storable as jsonl
    assert run_tests(ref, dataclasses.replace(filled, cases=filled.cases[:1])).passed
    wrong = "def f(xs):\n    return tuple(sorted(xs)), {1: 'a'}, float('inf')\n"
    assert run_tests(wrong, dataclasses.replace(filled, cases=filled.cases[:1])).status == "fail"
    with pytest.raises(ValueError, match=r"tests.cases\[0\].*ZeroDivisionError"):
        fill_expected("def f(xs): return 1 / 0", tests)


# --- stdio tests ---------------------------------------------------------------------------
def test_stdio_line_by_line_fresh_process_per_test() -> None:
    code = ("import sys\nruns = getattr(sys, 'runs', 0)\nsys.runs = runs + 1\n"  # 0 in a fresh process
            "a, b = map(int, sys.stdin.buffer.readline().split())\nprint(a + b + runs, '  ')\nexit(0)\n")
    tests = Tests("stdio", [{"input": "1 2\n", "output": "3"}, {"input": "5 5\n", "output": "10\n\n"},
                            {"input": "1 1\n", "output": "3"}])
    r = run_tests(code, tests)
    assert statuses(r) == ["pass", "pass", "fail"]
    assert r.tests[2].detail == "expected stdout '3', got '2   \\n'"
    reads = "data = open(0).read().split()\nprint(sum(map(int, data)))\n"
    assert run_tests(reads, Tests("stdio", [{"input": "1\n2\n3\n", "output": "6"}])).passed


def test_stdio_errors_and_exit_status() -> None:
    tests = Tests("stdio", [{"input": "", "output": ""}])
    r = run_tests("import sys\nsys.exit(3)", tests)
    assert r.status == "fail" and r.tests[0].detail == "exit status 3"
    r = run_tests("input()", tests)
    assert r.tests[0].status == "error" and "EOFError" in r.tests[0].detail


def test_timeout_is_a_budget_for_the_whole_program() -> None:
    t0 = time.monotonic()
    r = run_tests("import time\ndef f(x):\n    time.sleep(x)\n    return x",
                  Tests("call", [{"input": [0], "output": 0}, {"input": [5], "output": 5},
                                 {"input": [0], "output": 0}], fn_name="f"), timeout=0.5)
    assert time.monotonic() - t0 < 2.0
    assert r.status == "timeout" and statuses(r) == ["pass", "timeout", "timeout"]
    assert r.tests[2].detail.startswith("not run")


# --- values, results -----------------------------------------------------------------------
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary() | st.complex_numbers(),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=3) | st.integers(), inner, max_size=3)
    | st.frozensets(st.integers() | st.text(max_size=3), max_size=3),
    max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(values)
def test_codec_round_trips_through_json(v: object) -> None:
    back = codec.decode(json.loads(codec.dumps(codec.encode(v))))
    assert values_equal(back, v) or _has_nan(v)
    assert type(back) is type(v)


def _has_nan(v: object) -> bool:
    return "nan" in codec.dumps(codec.encode(v))


def test_codec_is_strict_about_types() -> None:
    assert codec.encode(collections.OrderedDict(a=1)) == {"a": 1}
    assert codec.encode(True) is True and codec.encode({"$x": 1}) == {"$dict": [["$x", 1]]}
    with pytest.raises(TypeError):
        codec.encode(collections.deque([1]))


def test_compare_semantics() -> None:
    assert values_equal([1, (2.0, 3)], (1, [2, 3]))
    assert values_equal(float("nan"), float("nan")) and not values_equal(1.0, 1.1, atol=0.05)
    assert values_equal(1.0, 1.04, atol=0.05) and not values_equal({"a": 1}, {"a": 1, "b": 2})
    assert not values_equal("1", 1) and values_equal({1, 2}, {2, 1})
    assert stdout_equal("a  \nb\n\n", "a\nb") and not stdout_equal("a b", "a  b")


def test_exec_result_round_trip() -> None:
    r = ExecResult("fail", [TestOutcome("pass"), TestOutcome("fail", "x")], "out", "err", 0.5)
    assert ExecResult.from_dict(json.loads(json.dumps(r.to_dict()))) == r
    assert r.pass_rate == 0.5 and not r.passed and ExecResult("pass").pass_rate == 1.0


def test_malformed_tests_are_rejected_with_the_case_named() -> None:
    with pytest.raises(TestsError, match=r"tests.cases\[1\] is not valid Python"):
        run_tests(ADD, Tests("assert", ["assert True", "assert ("]))
    with pytest.raises(TestsError, match=r"tests.cases\[0\]"):
        run_tests(ADD, Tests("stdio", [{"input": 1, "output": "x"}]))
    with pytest.raises(TestsError, match=r"tests.cases\[0\].input"):
        run_tests(ADD, Tests("call", [{"input": 1, "output": 1}], fn_name="add"))


# --- pool ------------------------------------------------------------------------------------
def test_pool_parallel_ordered_and_cached(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sleepy = "import time\ntime.sleep(1.0)\n" + ADD
    items = [(sleepy, Tests("assert", [f"assert add({i}, 0) == {i}"])) for i in range(2)]
    items.append((ADD, Tests("assert", ["assert add(1, 1) == 3"])))
    with SandboxPool(workers=2, cache_dir=str(tmp_path)) as pool:
        t0 = time.monotonic()
        rs = pool.run_many(items)
        assert time.monotonic() - t0 < 1.8  # the two sleepers overlapped
        assert [r.status for r in rs] == ["pass", "pass", "fail"]
        again = pool.run_many(items)
        assert [r.to_dict() for r in again] == [r.to_dict() for r in rs]
        assert pool.stats() == {"runs": 3, "cache_hits": 3}
    cfg = SandboxConfig()
    with SandboxPool.from_config(cfg, cache_dir=str(tmp_path)) as warm:  # same limits: disk hits
        assert warm.run_many(items)[2].status == "fail"
        assert warm.stats() == {"runs": 0, "cache_hits": 3}
    with SandboxPool(workers=1, cache=False) as nocache:
        nocache.run_many([items[2], items[2]])
        assert nocache.stats() == {"runs": 2, "cache_hits": 0}


def test_pool_shares_in_flight_runs_and_does_not_cache_timeouts() -> None:
    with SandboxPool(workers=2, timeout=0.3) as pool:
        slow = ("while True: pass", Tests("assert", []))
        a, b = pool.submit(*slow), pool.submit(*slow)
        assert a is b and a.result().status == "timeout"
        assert pool.submit(*slow).result().status == "timeout"
        assert pool.stats() == {"runs": 2, "cache_hits": 1}
    assert pool.key(ADD, Tests("call", [{"input": [(1,)]}], fn_name="f")) != \
        pool.key(ADD, Tests("call", [{"input": [[1]]}], fn_name="f"))


# --- isolation modes -----------------------------------------------------------------------
def test_capabilities_are_recorded() -> None:
    caps = capabilities()
    assert caps.mode in ("root", "none") and caps.describe().startswith(f"sandbox mode {caps.mode}")
    assert caps.network_isolated == caps.pid_namespace == caps.drops_privileges == (caps.mode == "root")


def test_fallback_mode_without_namespaces(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fallback = launcher.Launcher(mode="none")
    try:
        monkeypatch.setattr(launcher, "_launcher", fallback)
        monkeypatch.setattr(isolation, "capabilities", lambda: isolation.Capabilities("none", False, False, False, 4096))
        r = run_tests("import os\nprint(os.getcwd())\n" + ADD, Tests("assert", ["assert add(1, 2) == 3"]))
        assert r.passed and "seer-sbx-" in r.stdout
        assert run_tests("while True: pass", Tests("assert", []), timeout=0.3).status == "timeout"
        r = run_tests("print(input())", Tests("stdio", [{"input": "hi\n", "output": "hi"}]))
        assert r.passed
    finally:
        fallback.close()


def test_memory_limit_applies() -> None:
    r = run_tests("x = bytearray(300 << 20)", Tests("assert", []), memory_mb=200)
    assert r.status == "error" and "MemoryError" in r.stderr
    assert run_tests("x = bytearray(50 << 20)", Tests("assert", []), memory_mb=200).passed


def test_a_broken_driver_raises_instead_of_grading() -> None:
    from seer.sandbox.execute import _Session
    from seer.sandbox.payload import Limits

    limits = Limits(1.0, 256, 1000)
    with isolation.lease_uid(capabilities()) as uid, isolation.workdir(capabilities()) as cwd, \
            pytest.raises(SandboxError, match="sandbox driver failed: KeyError"):
        _Session(marshal.dumps({"kind": "assert"}), 0, limits).run(uid, cwd)


def test_large_stdio_input_and_output() -> None:
    numbers = "\n".join(str(i) for i in range(200_000))  # ~1.3 MB: more than a pipe buffer
    code = "import sys\nxs = sys.stdin.read().split()\nprint(sum(map(int, xs)))\nprint('\\n'.join(xs))\n"
    expected = f"{sum(range(200_000))}\n{numbers}\n"
    assert run_tests(code, Tests("stdio", [{"input": numbers, "output": expected}]), timeout=10).passed


def test_the_fork_server_is_restarted_if_it_dies() -> None:
    assert run_tests(ADD, Tests("assert", ["assert add(1, 2) == 3"])).passed
    server = launcher.get().proc
    server.kill()
    server.wait()
    assert run_tests(ADD, Tests("assert", ["assert add(1, 2) == 3"])).passed
    assert launcher.get().proc is not server and launcher.get().proc.poll() is None
