"""Adaptive beam search (Algorithm 1) on a scripted policy with known values."""
import pytest

from seer.data.schemas import Problem, Tests
from seer.search.beam import DIRECT_OPEN, PLAN_OPEN, BeamSettings, beam_search, beam_search_samples, choose_answer
from tests.fakes import ScriptedPolicy

CODE = "<code>\n```python\ndef f():\n    return {}\n```\n</code>\n</step>"


def problem(i=0):
    return Problem(f"p{i}", f"Write f number {i}.", Tests("assert", ["assert f() == 2"]), entry_point="f")


def last_step_value(table):
    def value(text):
        last = text.rsplit("<step>", 1)[-1]
        for key, v in table.items():
            if key in last:
                return v
        raise AssertionError(f"no value scripted for {last!r}")
    return value


ROUND0 = ["1. plan A\n</step>", CODE.format(1), "1. plan B\n</step>", "1. never closed"]
ROUND1 = [CODE.format(2), "2. more\n</step>"]
VALUES = {"plan A": 0.9, "return 1": 0.8, "plan B": 0.1, "never closed": 0.95, "return 2": 0.7, "more": 0.6}


def script(prompt, call, j):
    return (ROUND0 if call == 0 else ROUND1)[j]


def test_keeps_top_k_shrinks_on_invalid_and_terminal():
    pol = ScriptedPolicy(script, values=last_step_value(VALUES))
    s = BeamSettings(b1=2, b2=2, max_depth=5)
    (st,) = beam_search(pol, [problem()], s)
    # round 0: one prompt, b1*b2 = 4 samples; round 1: b2 = 2 samples of the one kept plan
    assert [(len(p), r.n) for p, r in pol.calls] == [(1, 4), (1, 2)]
    assert len(pol.value_calls) == 2 and [len(v) for v in pol.value_calls] == [4, 2]
    # the invalid step (0.95) was in the top 2: dropped and k shrank; plan A kept
    # round 1: k = 1, the code step (0.7) goes to the pool and k reaches 0
    assert st.k == 0 and st.depth == 2
    ans = choose_answer(st, s)
    assert ans is not None and "return 2" in ans.code and ans.value == pytest.approx(0.7)
    assert len(ans.steps) == 2 and not ans.direct


def test_direct_answer_wins_when_valued_highest():
    vals = dict(VALUES, **{"return 1": 0.99})
    pol = ScriptedPolicy(script, values=last_step_value(vals))
    samples = beam_search_samples(pol, [problem()], type("C", (), {"infer": _infer(b1=1, b2=4)})())
    assert len(pol.calls) == 1  # k = 1 and the kept candidate is terminal: done after one round
    assert samples[0]["trace"]["direct"] is True
    assert "return 1" in samples[0]["solution"]


def _infer(**kw):
    base = dict(b1=3, b2=4, temperature=0.5, top_p=1.0, max_depth=15, max_step_tokens=64, use_value=True,
                direct_fraction=-1.0, random_seed=0, remove_duplicates=False, strip_asserts=False)
    base.update(kw)
    return type("I", (), base)()


def test_batched_across_problems_one_call_per_round():
    pol = ScriptedPolicy(script, values=last_step_value(VALUES))
    states = beam_search(pol, [problem(0), problem(1), problem(2)], BeamSettings(b1=2, b2=2))
    assert [len(p) for p, _ in pol.calls] == [3, 3]
    assert all(st.k == 0 for st in states)


def test_direct_fraction_forces_openers():
    seen = []

    def sc(prompt, call, j):
        seen.append(prompt)
        return "x\n</step>" if prompt.endswith(PLAN_OPEN) else "def f(): return 2\n```\n</code>\n</step>"

    pol = ScriptedPolicy(sc, values=lambda t: 0.5)
    (st,) = beam_search(pol, [problem()], BeamSettings(b1=2, b2=2, direct_fraction=0.5, max_depth=1))
    first = pol.calls[0]
    assert first[1].n == 1 and len(first[0]) == 4
    assert sum(p.endswith(DIRECT_OPEN) for p in first[0]) == 2
    assert sum(p.endswith(PLAN_OPEN) for p in first[0]) == 2
    # the forced code opener is part of the parsed step
    assert any(a.code and "return 2" in a.code for a in st.answers)


def test_always_plan_ablation():
    pol = ScriptedPolicy(lambda p, c, j: "step\n</step>", values=lambda t: 0.0)
    beam_search(pol, [problem()], BeamSettings(b1=1, b2=2, direct_fraction=0.0, max_depth=1))
    assert all(p.endswith(PLAN_OPEN) for p in pol.calls[0][0])


def test_likelihood_ranking_without_value_model():
    from seer.llm.policy import Generation

    def sc(prompt, call, j):
        text = [CODE.format(1), CODE.format(2)][j]
        return Generation(text, 10, [-2.0, -0.1][j])

    pol = ScriptedPolicy(sc)  # no value head
    s = BeamSettings(b1=1, b2=2, use_value=False)
    (st,) = beam_search(pol, [problem()], s)
    assert "return 2" in choose_answer(st, s).code
    with pytest.raises(ValueError, match="use_value"):
        beam_search(pol, [problem()], BeamSettings(b1=1, b2=2, use_value=True))


def test_max_depth_and_fallback_to_code_holding_node():
    # plans forever, plus one unparsable code step: no terminal reaches the pool
    def sc(prompt, call, j):
        return ["1. plan\n</step>", "<code>\n```python\ndef f(:\n```\n</code>\n</step>"][j]

    pol = ScriptedPolicy(sc, values=last_step_value({"plan": 0.9, "def f(": 0.1}))
    s = BeamSettings(b1=1, b2=2, max_depth=3)
    (st,) = beam_search(pol, [problem()], s)
    assert st.answers == [] and len(pol.calls) == 3
    ans = choose_answer(st, s)
    assert ans is not None and ans.code.startswith("def f(")


def test_bad_settings():
    with pytest.raises(ValueError, match="b1"):
        BeamSettings(b1=0)
