"""SRA-MCTS: UCT, the alpha backup, duplicate retries, <end>, batching across trees, the prompts' parsers."""
import math
import random
import re

import pytest

from seer.config import SraConfig
from seer.data.schemas import Problem, Tests
from seer.llm.thinking_prompts import (
    CRITERIA,
    DEFAULT_SCORE,
    END,
    evaluation_prompt,
    is_duplicate,
    parse_evaluation,
    parse_proposal,
    parse_reflection,
    proposal_prompt,
    strip_code,
)
from seer.search.sra import (
    BatchedSra,
    backup,
    best_node,
    reward,
    select_child,
    select_leaf,
    uct,
)
from seer.search.tree import Node
from tests.fakes import ScriptedPolicy


def _node(step="", r=0.0, visits=0):
    return Node(step=step, visits=visits, meta={"r": r, "score": r})


# --- UCT and backup on hand-built trees -----------------------------------------------------------

def test_uct_arithmetic_and_greedy_selection():
    root = _node(visits=4)
    a = root.add_child(_node("a", r=6.0, visits=2))
    b = root.add_child(_node("b", r=5.0, visits=1))
    assert uct(root, a, 0.5) == pytest.approx(6.0 + 0.5 * math.sqrt(math.log(4) / 2))  # 6.416
    assert uct(root, b, 0.5) == pytest.approx(5.0 + 0.5 * math.sqrt(math.log(4) / 1))  # 5.589
    assert select_child(root, 0.5, random.Random(0)) is a
    # a large c lets exploration win: b has fewer visits
    assert uct(root, b, 3.0) > uct(root, a, 3.0)
    assert select_child(root, 3.0, random.Random(0)) is b
    # an unvisited child is infinite; among unvisited ones the higher reward goes first
    c = root.add_child(_node("c", r=1.0))
    d = root.add_child(_node("d", r=2.0))
    assert uct(root, c, 0.5) == math.inf
    assert select_child(root, 0.5, random.Random(0)) is d
    d.closed = True
    assert select_child(root, 0.5, random.Random(0)) is c


def test_select_leaf_descends_greedily_and_stops_on_a_closed_tree():
    root = _node(visits=3)
    a = root.add_child(_node("a", r=9.0, visits=2))
    root.add_child(_node("b", r=1.0, visits=1))
    a1 = a.add_child(_node("a1", r=2.0, visits=1))
    a2 = a.add_child(_node("a2", r=7.0, visits=1))
    assert select_leaf(root, 0.5, random.Random(0)) is a2
    a2.closed = True
    assert select_leaf(root, 0.5, random.Random(0)) is a1
    root.closed = True
    assert select_leaf(root, 0.5, random.Random(0)) is None


def test_alpha_backup_mixes_parent_with_visit_weighted_children():
    root = _node(r=0.0, visits=1)
    a = root.add_child(_node("a", r=6.0, visits=1))
    b = root.add_child(_node("b", r=2.0, visits=3))
    a.add_child(_node("a1", r=10.0, visits=1))
    a.add_child(_node("a2", r=4.0, visits=1))
    backup(a, alpha=0.5)
    # a: 0.5 * 6 + 0.5 * (10 + 4) / 2 = 6.5, visits 2
    assert reward(a) == pytest.approx(6.5) and a.visits == 2
    # root: 0.5 * 0 + 0.5 * (2 * 6.5 + 3 * 2) / (2 + 3) = 1.9
    assert reward(root) == pytest.approx(0.5 * (2 * 6.5 + 3 * 2.0) / 5) and root.visits == 2
    assert reward(b) == 2.0 and b.visits == 3  # siblings off the path are untouched
    backup(a.children[0], alpha=0.25)  # a leaf: only its visit changes, then a and the root mix again
    assert a.children[0].visits == 2 and reward(a.children[0]) == 10.0
    assert reward(a) == pytest.approx(0.25 * 6.5 + 0.75 * (2 * 10 + 1 * 4) / 3)


def test_best_node_prefers_reward_then_depth():
    root = _node()
    a = root.add_child(_node("a", r=7.0))
    a1 = a.add_child(_node("a1", r=7.0))
    root.add_child(_node("b", r=3.0))
    assert best_node(root) is a1
    assert best_node(_node()).steps() == []


# --- parsers --------------------------------------------------------------------------------------

def test_evaluation_first_failing_criterion_fixes_the_band():
    prefix = evaluation_prompt("q", ["s"])[1]
    assert prefix == "1. Step correctness:"
    assert parse_evaluation(prefix + " yes\n2. Coherence: yes\n3. Completeness: no\nScore: 9") == 7.0  # clamped down
    assert parse_evaluation(prefix + " yes\n2. Coherence: yes\n3. Completeness: no\nScore: 6") == 6.0
    assert parse_evaluation(prefix + " yes\n2. Coherence: no\nScore: 1") == 3.0  # clamped up into 3-4
    assert parse_evaluation(prefix + " no\nScore: 8") == 2.0
    assert parse_evaluation(prefix + " no") == 1.0  # no score: the band's middle
    assert parse_evaluation(prefix + " yes\n2. Coherence: yes\n3. Completeness: yes\n4. Solution correctness: yes\n"
                                     "Score: 3") == 10.0  # all met
    assert parse_evaluation("Score: 12") == 10.0 and parse_evaluation("score: 4") == 4.0
    assert parse_evaluation("no idea") == DEFAULT_SCORE
    # the prompt states every criterion, in order, with its band
    user = evaluation_prompt("Add two numbers.", ["Read a and b."])[0]
    positions = [user.index(c.name) for c in CRITERIA]
    assert positions == sorted(positions)
    assert all(f"{c.band[0]}-{c.band[1]}" in user for c in CRITERIA)


def test_proposal_parsing_and_duplicates():
    assert parse_proposal(" Sort the array.\nmore") == "Sort the array."
    assert parse_proposal("\n\nStep 2: Use a heap.") == "Use a heap."
    assert parse_proposal(" ```python\nx = 1\n```\n1. Count the items.") == "Count the items."
    assert parse_proposal("  \n") is None and parse_proposal("x") is None
    assert is_duplicate("Sort the array", ["sort  the array."], [])
    assert is_duplicate("use a heap", [], ["Read input.", "Use a heap."])
    assert not is_duplicate("Use a stack.", ["Use a heap."], ["Read input."])
    user, prefix = proposal_prompt("Q", ["Read input."], "try a heap", ["Use a heap."])
    assert prefix == "Next step:" and "Step 1: Read input." in user and "- Use a heap." in user
    assert "Analysis: try a heap" in user


def test_reflection_parsing_and_code_stripping():
    assert parse_reflection("The steps are complete. <end>") == END
    assert parse_reflection("Analysis: consider duplicates next.") == "consider duplicates next."
    assert strip_code("1. Plan.\n```python\nx = 1\n```\n2. More.") == "1. Plan.\n\n2. More."
    assert strip_code("1. Plan.\n```python\nx = 1") == "1. Plan."  # an unclosed block goes to the end


# --- the batched explorer with a scripted model ---------------------------------------------------

def _problems(n):
    return [Problem(id=f"p{i}", question=f"Problem number {i}.", tests=Tests(kind="assert", cases=[]))
            for i in range(n)]


def kind(prompt: str) -> str:
    if prompt.endswith("Next step:"):
        return "propose"
    if prompt.endswith("1. Step correctness:"):
        return "evaluate"
    return "reflect"


def n_steps(prompt: str) -> int:
    return len(re.findall(r"^Step \d+:", prompt, re.MULTILINE))


def siblings(prompt: str) -> list[str]:
    m = re.search(r"write a different one:\n(.*?)</user>", prompt, re.DOTALL)
    return re.findall(r"^- (.*)$", m.group(1), re.MULTILINE) if m else []


def make_script(end_at_depth=None, dups=None):
    """Proposals name their problem, depth and sibling index; `dups` maps a problem number to
    (sibling k, n): its k-th sibling first repeats sibling 0, n times. Evaluations score sibling k
    with 5 + k; reflections say <end> once a path has `end_at_depth` steps."""
    state = {"dups": {}}

    def script(prompt, call, j):
        k = kind(prompt)
        pid = re.search(r"Problem number (\d+)", prompt).group(1)
        if k == "reflect":
            return f" {END}" if end_at_depth is not None and n_steps(prompt) >= end_at_depth else "Analysis: go on."
        if k == "evaluate":
            last = re.findall(r"^Step \d+: (p\d+ d\d+ s\d)", prompt, re.MULTILINE)[-1]
            return f" yes\n2. Coherence: yes\n3. Completeness: no\nScore: {5 + int(last[-1])}"
        sibs = siblings(prompt)
        key = (pid, n_steps(prompt), len(sibs))
        slot, times = (dups or {}).get(pid, (-1, 0))
        if len(sibs) == slot and state["dups"].get(key, 0) < times:
            state["dups"][key] = state["dups"].get(key, 0) + 1
            return " " + sibs[0] + "\n"
        return f" p{pid} d{n_steps(prompt) + 1} s{len(sibs)}\n"
    return script


def test_one_generate_call_per_phase_for_all_live_trees():
    policy = ScriptedPolicy(make_script())
    sra = BatchedSra(policy, SraConfig(iterations=2, n_children=3), batch_problems=3)
    out = []
    sra(_problems(3), out.append)
    # per round: reflect + 3 siblings + evaluate = 5 calls, each over all 3 trees
    assert len(policy.calls) == 2 * 5
    kinds = [kind(prompts[0]) for prompts, _ in policy.calls]
    assert kinds == ["reflect", "propose", "propose", "propose", "evaluate"] * 2
    for prompts, req in policy.calls:
        assert len({re.search(r"Problem number (\d+)", p).group(1) for p in prompts}) == 3
        assert (req.temperature, req.top_p) == (0.9, 0.98)
    assert [len(p) for p, _ in policy.calls[:5]] == [3, 3, 3, 3, 9]
    # sibling k's prompt lists siblings 0..k-1
    assert [siblings(p[0]) for p, _ in policy.calls[1:4]] == [[], ["p0 d1 s0"], ["p0 d1 s0", "p0 d1 s1"]]
    assert [r["problem_id"] for r in out] == ["p0", "p1", "p2"]
    rec = out[0]
    # round 1 scores s0..s2 as 5, 6, 7 -> s2 is chosen and expanded in round 2; no <end>: best node wins
    assert rec["steps"] == ["p0 d1 s2", "p0 d2 s2"] and rec["thinking"] == "1. p0 d1 s2\n2. p0 d2 s2"
    assert rec["ended"] is False and rec["stats"]["iterations"] == 2 and rec["stats"]["nodes"] == 7
    assert sra.nodes == 18 and sra.engine.rounds == 10


def test_end_reflection_stops_the_tree_at_that_path():
    policy = ScriptedPolicy(make_script(end_at_depth=1))
    out = []
    BatchedSra(policy, SraConfig(iterations=5, n_children=2), batch_problems=2)(_problems(2), out.append)
    # round 1: root reflection (no steps: <end> ignored) + 2 siblings + evaluation; round 2: the
    # chosen child's reflection says <end>, so nothing more is generated
    assert [kind(p[0]) for p, _ in policy.calls] == ["reflect", "propose", "propose", "evaluate", "reflect"]
    assert all(r["ended"] and r["steps"] == [f"{r['problem_id']} d1 s1"] for r in out)
    assert out[0]["tree"]["children"][1]["meta"]["reflection"] == END
    assert out[0]["stats"]["iterations"] == 1


def test_duplicate_sibling_is_redrawn_at_most_max_retries_times():
    policy = ScriptedPolicy(make_script(dups={"0": (1, 2)}))
    out = []
    BatchedSra(policy, SraConfig(iterations=1, n_children=3, max_retries=5), seed=0)(_problems(1), out.append)
    kinds = [kind(p[0]) for p, _ in policy.calls]
    # sibling 1 is drawn 3 times (2 duplicates), then sibling 2 once
    assert kinds == ["reflect", "propose", "propose", "propose", "propose", "propose", "evaluate"]
    assert [c["step"] for c in out[0]["tree"]["children"]] == ["p0 d1 s0", "p0 d1 s1", "p0 d1 s2"]
    assert out[0]["stats"]["retries"] == 2 and out[0]["stats"]["skipped"] == 0

    policy = ScriptedPolicy(make_script(dups={"0": (1, 100)}))
    out = []
    BatchedSra(policy, SraConfig(iterations=1, n_children=3, max_retries=5))(_problems(1), out.append)
    # 1 + 5 draws of sibling 1, all duplicates: it is skipped; sibling 2 then sees one sibling again
    n_prop = sum(kind(p[0]) == "propose" for p, _ in policy.calls)
    assert n_prop == 1 + 6 + 6
    assert [c["step"] for c in out[0]["tree"]["children"]] == ["p0 d1 s0"]
    assert out[0]["stats"]["skipped"] == 2 and out[0]["stats"]["retries"] == 10


def test_trees_redraw_independently_so_calls_number_the_longest_tree():
    # problem 0 re-draws its 2nd sibling twice, problem 1 its 3rd: each needs 5 draws
    policy = ScriptedPolicy(make_script(dups={"0": (1, 2), "1": (2, 2)}))
    out = []
    BatchedSra(policy, SraConfig(iterations=1, n_children=3), batch_problems=2)(_problems(2), out.append)
    proposals = [prompts for prompts, _ in policy.calls if kind(prompts[0]) == "propose"]
    assert [len(p) for p in proposals] == [2] * 5  # a slot-by-slot schedule would need 7 calls
    assert [[siblings(x) for x in p] for p in proposals][2] == [["p0 d1 s0"], ["p1 d1 s0", "p1 d1 s1"]]
    assert all(len(r["tree"]["children"]) == 3 and r["stats"]["retries"] == 2 for r in out)


def test_a_leaf_without_children_is_closed_and_the_tree_finishes():
    policy = ScriptedPolicy(lambda p, c, j: "Analysis: x" if kind(p) == "reflect" else "  \n")
    out = []
    BatchedSra(policy, SraConfig(iterations=5, n_children=2, max_retries=1))(_problems(1), out.append)
    assert out[0]["steps"] == [] and out[0]["tree"]["closed"] is True
    assert out[0]["stats"]["iterations"] == 1


def test_trees_are_independent_of_their_batch_neighbours():
    alone, together = [], []
    BatchedSra(ScriptedPolicy(make_script()), SraConfig(iterations=3), batch_problems=1)(_problems(3), alone.append)
    BatchedSra(ScriptedPolicy(make_script()), SraConfig(iterations=3), batch_problems=3)(_problems(3), together.append)
    strip = [{k: v for k, v in r.items() if k != "stats"} for r in alone]
    assert strip == [{k: v for k, v in r.items() if k != "stats"} for r in together]
