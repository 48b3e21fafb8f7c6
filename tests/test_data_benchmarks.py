"""Benchmark loaders: counts, test kinds, MBPP+ input restoration, evalplus overrides."""
from __future__ import annotations

import json
from collections import Counter

import pytest
from omegaconf import OmegaConf

from seer.data.benchmarks import load_benchmark
from seer.sandbox.references import needs_expected
from seer.sandbox.compare import WRAPPER
from seer.data.schemas import Problem
from seer.sandbox.codec import decode


def bench_cfg(**kw):
    base = {"names": [], "limit": 0, "mbppplus_ids": "v0.2", "use_plus_tests": True}
    base.update(kw)
    return OmegaConf.create(base)


def load(name, **kw):
    return load_benchmark(name, bench_cfg(**kw))


def test_humaneval():
    problems = load("humaneval")
    assert len(problems) == 164
    p = problems[0]
    assert p.id == "HumanEval/0" and p.entry_point == "has_close_elements"
    assert p.tests.kind == "assert" and p.tests.cases == ["check(has_close_elements)"]
    assert "def check(candidate)" in p.tests.setup
    assert p.solution.startswith(p.prompt) and p.question == p.prompt


def test_humaneval_canonical_passes_in_process():
    """The assembled program (solution, setup, case) is what HumanEval runs; execute a few (trusted)."""
    for p in load("humaneval")[:5]:
        g: dict = {}
        exec(p.solution + "\n" + p.tests.setup, g)
        exec(p.tests.cases[0], g)


def test_mbpp_test_split():
    problems = load("mbpp")
    assert len(problems) == 500
    assert problems[0].id == "Mbpp/11" and problems[-1].id == "Mbpp/510"


def test_mbppplus_counts_and_ids():
    assert len(load("mbppplus", mbppplus_ids="all")) == 399
    v02 = load("mbppplus")
    assert len(v02) == 378
    assert "Mbpp/115" not in {p.id for p in v02}  # in the pre-release, not in v0.2
    with pytest.raises(ValueError, match="mbppplus_ids"):
        load("mbppplus", mbppplus_ids="v9")


def test_mbppplus_call_tests_without_expected():
    p = next(p for p in load("mbppplus") if p.id == "Mbpp/3")
    assert p.tests.kind == "call" and p.tests.fn_name == p.entry_point == "is_not_prime"
    n_base = p.meta["n_base"]
    assert n_base >= 3 and p.meta["n_plus"] > 0 and len(p.tests.cases) == n_base + p.meta["n_plus"]
    assert needs_expected(p) and all("output" not in c for c in p.tests.cases)
    assert "is_not_prime" in p.question and "def is_not_prime" in p.solution
    base_only = next(p for p in load("mbppplus", use_plus_tests=False) if p.id == "Mbpp/3")
    assert len(base_only.tests.cases) == n_base


def _call(p: Problem, case: dict):
    """Call a problem's test target on a stored input with its reference solution (trusted code)."""
    g: dict = {}
    exec(p.tests.prelude + "\n" + p.solution, g)
    return g[p.tests.fn_name](*decode(case["input"]))


def test_mbppplus_restores_tuples_and_applies_oracles():
    by_id = {p.id: p for p in load("mbppplus", mbppplus_ids="all")}
    # Mbpp/2 takes tuples (stored as tagged JSON); its set-equality oracle is EvalPlus's, in compare.py
    p2 = by_id["Mbpp/2"]
    assert p2.tests.cases[0]["input"] == [{"$tuple": [3, 4, 5, 6]}, {"$tuple": [5, 7, 4, 10]}]
    assert p2.tests.fn_name == "similar_elements" and p2.tests.rule == "evalplus:mbpp"
    assert sorted(_call(p2, p2.tests.cases[0])) == [4, 5]
    # Mbpp/124 gets a real complex number
    p124 = by_id["Mbpp/124"]
    assert p124.tests.cases[0]["input"] == [0.0, {"$complex": [0.0, 1.0]}]
    assert abs(_call(p124, p124.tests.cases[0]) - 1.5707963267948966) < 1e-9
    # nested lists become nested tuples for Mbpp/580
    p580 = by_id["Mbpp/580"]
    assert decode(p580.tests.cases[0]["input"]) == [(4, 5, (7, 6, (2, 4)), 6, 8)]
    assert _call(p580, p580.tests.cases[0]) == (4, (6, (2, 4)), 6, 8)
    # only outputs that cannot cross the sandbox as they are get a wrapper: re.Match ("not None"
    # oracles; the candidate's wrapper keeps a bool answer, as unsafe_execute does) and Mbpp/255's digest
    assert by_id["Mbpp/3"].tests.prelude == "" and by_id["Mbpp/3"].tests.fn_name == "is_not_prime"
    wrapped = {p.id for p in by_id.values() if p.tests.fn_name == WRAPPER}
    assert wrapped == {"Mbpp/737", "Mbpp/787", "Mbpp/794", "Mbpp/255"}
    assert _call(by_id["Mbpp/737"], {"input": ["apple"]}) is True
    # the task's own atol (0 = none), base/plus split
    assert {p.tests.atol for p in by_id.values()} == {0.0, 1e-4}
    assert all(p.tests.n_base == p.meta["n_base"] for p in by_id.values())
    assert load("mbppplus", use_plus_tests=False)[0].tests.n_base == 0
    # the stored form round-trips through JSON
    assert all(json.loads(json.dumps(c)) == c for p in by_id.values() for c in p.tests.cases[:3])


def test_lcb_counts_and_kinds():
    problems = load("lcb")
    assert len(problems) == 713
    assert Counter(p.difficulty for p in problems) == {"easy": 238, "medium": 279, "hard": 196}
    kinds = Counter(p.tests.kind for p in problems)
    assert kinds == {"call": 319, "stdio": 394}
    assert all(p.meta["tests"] == "public" for p in problems)
    call = next(p for p in problems if p.id == "lcb/2727")
    assert call.tests.fn_name == "countSeniors" and call.tests.class_name == "Solution"
    assert call.tests.cases[0] == {"input": [["7868190130M7522", "5303914400F9211", "9273338290F4010"]], "output": 2}
    assert call.prompt.startswith("class Solution") and "from typing import *" in call.tests.prelude
    multi = next(p for p in problems if p.tests.kind == "call" and len(p.tests.cases[0]["input"]) == 2)
    assert multi.tests.cases[0]["input"][1] is not None
    stdin = next(p for p in problems if p.id == "lcb/1873_A")
    assert stdin.tests.cases[0]["input"].startswith("6\nabc") and stdin.tests.cases[0]["output"].startswith("YES")


def test_limit_takes_first_n():
    assert [p.id for p in load("humaneval", limit=3)] == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]


def test_unknown_benchmark():
    with pytest.raises(ValueError, match="unknown benchmark 'humaneva'.*humaneval"):
        load("humaneva")


def test_evalplus_override_paths(tmp_path, monkeypatch):
    """HumanEval+/MBPP+ official come from local files in the *_OVERRIDE_PATH variables."""
    he = {"task_id": "HumanEval/0", "prompt": "def add(a, b):\n    \"\"\"Add.\"\"\"\n", "entry_point": "add",
          "canonical_solution": "    return a + b\n", "base_input": [[1, 2]], "plus_input": [[3, 4], [5, 6]],
          "atol": 0, "contract": ""}
    mb = {"task_id": "Mbpp/2", "prompt": '"""\nWrite a function to find the shared elements.\n'
          'assert set(similar_elements((3, 4), (4, 5))) == set((4,))\n"""\n', "entry_point": "similar_elements",
          "canonical_solution": "def similar_elements(a, b):\n    return tuple(set(a) & set(b))\n",
          "base_input": [[[3, 4], [4, 5]]], "plus_input": [], "atol": 0, "contract": "",
          "assertion": "assert set(similar_elements((3, 4), (4, 5))) == set((4,))"}
    (tmp_path / "he.jsonl").write_text(json.dumps(he) + "\n")
    (tmp_path / "mb.jsonl").write_text(json.dumps(mb) + "\n")
    monkeypatch.setenv("HUMANEVAL_OVERRIDE_PATH", str(tmp_path / "he.jsonl"))
    monkeypatch.setenv("MBPP_OVERRIDE_PATH", str(tmp_path / "mb.jsonl"))
    [h] = load("humaneval_plus")
    assert h.tests.kind == "call" and len(h.tests.cases) == 3 and h.solution.endswith("return a + b\n")
    assert len(load("humaneval_plus", use_plus_tests=False)[0].tests.cases) == 1
    [m] = load("mbpp_plus_official")
    assert m.tests.rule == "evalplus:mbpp" and m.source == "mbpp_plus_official"
    # the example assert is shown once, not twice
    assert m.question.count("assert set(similar_elements") == 1


def test_evalplus_missing_or_offline_is_a_clear_error(monkeypatch):
    import sys
    import types

    monkeypatch.delenv("HUMANEVAL_OVERRIDE_PATH", raising=False)
    monkeypatch.setitem(sys.modules, "evalplus", None)  # not installed
    monkeypatch.setitem(sys.modules, "evalplus.data", None)
    with pytest.raises(ValueError, match="evalplus package.*HUMANEVAL_OVERRIDE_PATH"):
        load("humaneval_plus")

    def offline():
        raise OSError("<urlopen error [Errno -3] Temporary failure in name resolution>")

    fake = types.ModuleType("evalplus.data")
    fake.get_human_eval_plus = offline  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "evalplus", types.ModuleType("evalplus"))
    monkeypatch.setitem(sys.modules, "evalplus.data", fake)
    with pytest.raises(ValueError, match="could not download.*offline, point .HUMANEVAL_OVERRIDE_PATH"):
        load("humaneval_plus")
