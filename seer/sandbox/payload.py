"""What the parent sends into the sandbox for one program, and what it keeps back.

The payload holds only trusted data: candidate code (as text, compiled inside the sandbox), test
code compiled here, test inputs, the per-case time limits, the groups of cases (``groups``) and
the run's budget. Expected outputs of call and stdio tests never leave the parent; they are
compared with the outputs the sandbox reports (``seer.sandbox.compare``).

Assert tests run in the trusted checker (see ``seer/sandbox/checker.py``). ``value_classes``
names the classes the tests define (``tests.prelude``, ``tests.setup``): their instances cross
between the checker and the program by value (LeetCode's ``ListNode``/``TreeNode`` inputs built by
the tests and returned by the program), every other object of the program stays opaque.
"""
from __future__ import annotations

import ast
import functools
import marshal
import math
from dataclasses import dataclass
from types import CodeType
from typing import Any

from seer.data.schemas import Tests

EQ_NAME = "_seer_assert_eq"  # must match seer/sandbox/checker.py
MISSING = object()  # a call test without an expected output


class TestsError(ValueError):
    """The tests of a problem are malformed (names the case)."""

    __test__ = False  # not a pytest class


CHECKER_MEMORY_MB = 2048  # address space of a checker (test code on values up to value_cap)
# EvalPlus's budget of one group of tests (``evalplus.eval.untrusted_check``): its timeout is
# min(EVALPLUS_TIMEOUT_PER_TASK = 60, sum of the group's limits) + 1, and with fast_check (what
# ``evalplus.evaluate`` passes) it joins the group's process after timeout + 1: + 2 s in all.
GROUP_CAP = 60.0
GROUP_SLACK = 2.0


@dataclass
class Limits:
    """``timeout``: the wall-clock budget of the whole run (see ``budget``)."""

    timeout: float
    memory_mb: int
    max_output_bytes: int

    @property
    def value_cap(self) -> int:
        # return values of call tests can be much larger than printed output (MBPP+ inputs)
        return max(self.max_output_bytes, 4 << 20)

    def rlimits(self, out_caps: list[int], nproc: int) -> dict[str, Any]:
        cpu = math.ceil(self.timeout) + 1
        return {
            "RLIMIT_AS": self.memory_mb << 20,
            "RLIMIT_CPU": (cpu, cpu + 1),  # SIGXCPU first, SIGKILL a second later
            "RLIMIT_FSIZE": max(16 << 20, 4 * self.max_output_bytes, *(2 * c for c in out_caps)),
            "RLIMIT_NPROC": nproc,
            "RLIMIT_NOFILE": 64,
            "RLIMIT_CORE": 0,
        }


def time_limits(tests: Tests) -> list[float]:
    """Seconds per case (``tests.time_limits``), or [] for one budget over all cases."""
    limits = list(tests.time_limits)
    if limits and len(limits) != len(tests.cases):
        raise TestsError(f"tests.time_limits has {len(limits)} entries for {len(tests.cases)} cases")
    for i, t in enumerate(limits):
        if not (isinstance(t, (int, float)) and not isinstance(t, bool) and 0 < t < math.inf):
            raise TestsError(f"tests.time_limits[{i}] must be a positive number of seconds, got {t!r}")
    return [float(t) for t in limits]


def groups(tests: Tests) -> list[tuple[int, int, float]]:
    """EvalPlus's groups of cases, ``(start, stop, budget)``: base ``[0, n_base)`` and plus
    ``[n_base, n)`` (one group without plus cases), for call tests of an EvalPlus rule with
    per-case limits; [] for every other test set (their cases are not grouped).

    EvalPlus (``untrusted_check`` with ``fast_check``) runs each group in a process of its own:
    the group fails at its first failing case (the rest is not run), and when the whole group
    takes longer than its budget ``min(GROUP_CAP, sum of its limits) + GROUP_SLACK``, counted
    here from the group's first case, even with every case within its own limit. The slack is
    2 s: the + 1 of EvalPlus's timeout and the + 1 of its ``p.join(timeout=timeout + 1)``.
    """
    limits = time_limits(tests)
    if not (tests.rule.startswith("evalplus") and tests.kind == "call" and limits):
        return []
    n, nb = len(limits), tests.n_base
    bounds = [(0, nb), (nb, n)] if 0 < nb < n else [(0, n)]
    return [(a, b, min(GROUP_CAP, sum(limits[a:b])) + GROUP_SLACK) for a, b in bounds]


def budget(tests: Tests, timeout: float) -> float:
    """The run's wall-clock budget: ``timeout`` alone, or with per-case limits their sum plus
    ``timeout`` for loading the program (again after a case that ran over its limit). With groups
    (``groups``), each group's budget plus ``timeout`` for loading it (EvalPlus loads the program
    once per group)."""
    gs = groups(tests)
    if gs:
        return sum(b for _, _, b in gs) + timeout * len(gs)
    return sum(time_limits(tests)) + timeout


@dataclass
class Prepared:
    payload: dict[str, Any]  # everything except the identity / isolation fields
    expected: list[Any]  # call: decoded outputs (or MISSING); stdio: expected stdout; assert: []


def prepare(code: str, tests: Tests, limits: Limits) -> Prepared:
    if not isinstance(code, str):
        raise TypeError(f"code must be a str, got {type(code).__name__}")
    p: dict[str, Any] = {
        "kind": tests.kind, "code": code, "prelude": tests.prelude, "setup": None,
        "fn_name": tests.fn_name, "class_name": tests.class_name, "timeout": float(limits.timeout),
        "time_limits": time_limits(tests), "groups": groups(tests), "value_cap": limits.value_cap,
        "out_caps": [],
        "value_classes": _classes(tests.prelude, "prelude") + _classes(tests.setup, "setup"),
        "checker_limits": {"RLIMIT_AS": max(CHECKER_MEMORY_MB, limits.memory_mb) << 20,
                           "RLIMIT_CPU": math.ceil(limits.timeout) + 1},
        "sources": {"<solution>": code, "<prelude>": tests.prelude},
    }
    expected: list[Any] = []
    if tests.kind == "assert":
        setup, cases, sources = _compile_asserts(tests.setup, tuple(_assert_cases(tests)))
        p["setup"], p["cases"] = setup, list(cases)
        p["sources"].update(sources)
    elif tests.kind == "call":
        p["cases"] = []
        for i, c in enumerate(tests.cases):
            if not isinstance(c, dict) or "input" not in c:
                raise TestsError(f"tests.cases[{i}]: call tests need {{'input': [...], 'output': ...}}")
            if not isinstance(c["input"], (list, tuple)):
                raise TestsError(f"tests.cases[{i}].input must be a list of arguments")
            p["cases"].append(list(c["input"]))
            expected.append(c.get("output", MISSING))
    else:
        p["cases"] = []
        for i, c in enumerate(tests.cases):
            if not (isinstance(c, dict) and isinstance(c.get("input"), str) and isinstance(c.get("output"), str)):
                raise TestsError(f"tests.cases[{i}]: stdio tests need {{'input': str, 'output': str}}")
            p["cases"].append(c["input"].encode())
            expected.append(c["output"])
            p["out_caps"].append(max(limits.max_output_bytes, 2 * len(c["output"].encode()) + 1024))
    return Prepared(p, expected)


def serialize(payload: dict[str, Any]) -> bytes:
    try:
        return marshal.dumps(payload)
    except ValueError as e:
        raise TestsError(f"test inputs must be plain data (JSON-like values): {e}") from None


@functools.lru_cache(maxsize=256)
def _classes(src: str, field: str) -> list[str]:
    """Names of the classes ``src`` defines at top level."""
    try:
        return [n.name for n in ast.parse(src).body if isinstance(n, ast.ClassDef)]
    except SyntaxError as e:
        raise TestsError(f"tests.{field} is not valid Python (line {e.lineno}): {e.msg}") from None


def _assert_cases(tests: Tests) -> list[str]:
    for i, c in enumerate(tests.cases):
        if not isinstance(c, str):
            raise TestsError(f"tests.cases[{i}]: assert tests are Python statements (str), got {type(c).__name__}")
    return tests.cases


@functools.lru_cache(maxsize=4096)
def _compile_asserts(setup: str, cases: tuple[str, ...]) -> tuple[CodeType | None, tuple[CodeType, ...], dict[str, str]]:
    """Test code compiled once per distinct test set (MCTS runs the same tests many times)."""
    sources = {"<setup>": setup}
    code_setup = _compile(setup, "<setup>", "tests.setup") if setup.strip() else None
    compiled = []
    for i, c in enumerate(cases):
        name = f"<test {i}>"
        sources[name] = c
        compiled.append(_compile(c, name, f"tests.cases[{i}]"))
    return code_setup, tuple(compiled), sources


def _compile(src: str, filename: str, where: str) -> CodeType:
    try:
        tree = ast.parse(src, filename)
    except SyntaxError as e:
        raise TestsError(f"{where} is not valid Python (line {e.lineno}): {e.msg}") from None
    return compile(ast.fix_missing_locations(_EqAsserts().visit(tree)), filename, "exec")


class _EqAsserts(ast.NodeTransformer):
    """``assert a == b`` -> ``assert _seer_assert_eq(a, b)``: the checker's ``==`` that records both
    sides for the failure message (other asserts are unchanged)."""

    def visit_Assert(self, node: ast.Assert) -> ast.Assert:
        t = node.test
        if isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], ast.Eq):
            call = ast.Call(ast.Name(EQ_NAME, ast.Load()), [t.left, t.comparators[0]], [])
            node.test = ast.copy_location(call, t)
        return node
