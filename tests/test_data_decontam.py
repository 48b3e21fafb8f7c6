"""Decontamination: planted near-duplicates go, unrelated problems stay, the report counts them."""
from __future__ import annotations

import time

import pytest
from omegaconf import OmegaConf

from seer.data.benchmarks import load_benchmark
from seer.data.decontam import decontaminate, ngram_hashes, words
from seer.data.schemas import Problem, Tests


def problem(pid: str, question: str, solution: str = "") -> Problem:
    return Problem(id=pid, question=question, solution=solution, tests=Tests(kind="assert", cases=[]))


@pytest.fixture(scope="module")
def benches():
    cfg = OmegaConf.create({"names": [], "limit": 0, "mbppplus_ids": "v0.2", "use_plus_tests": True})
    return {name: load_benchmark(name, cfg) for name in ("humaneval", "mbpp", "lcb")}


def test_normalisation_ignores_case_punctuation_and_layout():
    assert words("def F(x):\n\treturn x+1") == ["def", "f", "x", "return", "x", "1"]
    assert ngram_hashes("A b, C d", 2) == ngram_hashes("a   B\nc (d)", 2)
    assert ngram_hashes("too short", 10) == set()


def test_planted_near_duplicate_removed_unrelated_kept(benches):
    he0 = benches["humaneval"][0]
    # a light paraphrase of HumanEval/0: renamed function, reworded first line, same docstring/code
    planted = problem("seed/planted",
                      he0.prompt.replace("has_close_elements", "any_two_close").replace("Check if", "Determine if"),
                      he0.solution.replace("has_close_elements", "any_two_close"))
    unrelated = problem("seed/unrelated",
                        "Given the coordinates of three tents on a campsite, print the name of the tent "
                        "that is farthest from the river, breaking ties alphabetically by tent colour.",
                        "def farthest(tents):\n    return max(sorted(tents), key=lambda t: t[1])[0]\n")
    kept, report = decontaminate([planted, unrelated], benches, n=10, threshold=0.3)
    assert [p.id for p in kept] == ["seed/unrelated"]
    assert report.removed == 1 and report.removed_by_benchmark == {"humaneval": 1}
    [m] = report.matches
    assert m["id"] == "seed/planted" and m["closest"] == "HumanEval/0" and m["fraction"] >= 0.3
    d = report.to_dict()
    assert d["kept"] == 1 and d["removed_ids"] == {"humaneval": ["seed/planted"]}


def test_threshold_is_configurable(benches):
    he0 = benches["humaneval"][0]
    # half of the text copied, half new: overlap fraction well between 0.1 and 0.9
    half = problem("seed/half", he0.prompt + " ".join(f"novel{i}" for i in range(60)))
    assert len(decontaminate([half], benches, 10, 0.1)[0]) == 0
    assert len(decontaminate([half], benches, 10, 0.9)[0]) == 1
    with pytest.raises(ValueError, match="threshold"):
        decontaminate([half], benches, 10, 0.0)


def test_real_mbpp_seed_against_benchmarks_is_fast(benches):
    from seer.data.mbpp import load_mbpp

    seed = load_mbpp(["train", "validation", "prompt"])
    t0 = time.time()
    kept, report = decontaminate(seed, benches, 10, 0.3)
    assert time.time() - t0 < 10
    # MBPP has near-duplicate tasks across its own splits: some train tasks match the test split
    assert 0 < report.removed_by_benchmark.get("mbpp", 0) < 60
    assert len(kept) == len(seed) - report.removed
