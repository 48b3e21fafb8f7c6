import math
import random
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from seer.data.schemas import Problem, Tests
from seer.llm.policy import Generation
from seer.config import ExploreConfig
from seer.search.mcts import BatchedMcts, backup, puct, select_child, select_leaf
from seer.search.tree import Node
from tests.fakes import FakeExecutor, FakeResult, ScriptedPolicy, exec_judge

TESTS = Tests(kind="assert", cases=["assert f() == 1"])


def _problem(pid: str) -> Problem:
    return Problem(id=pid, question=f"Return one ({pid}).", tests=TESTS)


def prompt_fn(problem, steps):
    # mirrors the real exploration prompt: steps so far, then an opened step
    return f"Q {problem.id}\n" + "".join(s + "\n" for s in steps) + "<step>\n"


def last_body(prompt: str) -> str:
    bodies = re.findall(r"<step>\n(.*?)\n</step>", prompt, re.DOTALL)
    return bodies[-1] if bodies else ""


def plan(text: str, lp: float = -0.5) -> Generation:
    return Generation(f"{text}\n</step>", 3, lp)


def code(src: str, lp: float = -0.5) -> Generation:
    return Generation(f"<code>\n```python\n{src}\n```\n</code>\n</step>", 5, lp)


PASS = "def f():\n    return 1"
FAIL = "def f():\n    return 0"


# --- PUCT arithmetic and backup on hand-built trees -------------------------------------------

def test_puct_arithmetic_on_a_hand_built_tree():
    root = Node(visits=4, value_sum=1.0)
    a = root.add_child(Node(step="a", prior=0.5, visits=2, value_sum=1.0))
    b = root.add_child(Node(step="b", prior=0.8, visits=1, value_sum=-1.0))
    c = root.add_child(Node(step="c", prior=0.3))
    # Q + c_puct * P * sqrt(N(s)) / (1 + N(s,a)), c_puct = 1.5, sqrt(4) = 2
    assert puct(root, a, 1.5) == pytest.approx(0.5 + 1.5 * 0.5 * 2 / 3)  # 1.0
    assert puct(root, b, 1.5) == pytest.approx(-1.0 + 1.5 * 0.8 * 2 / 2)  # 0.2
    assert puct(root, c, 1.5) == pytest.approx(0.0 + 1.5 * 0.3 * 2 / 1)  # 0.9
    assert select_child(root, 1.5, random.Random(0)) is a
    # with a small c_puct exploitation wins less clearly, but a's Q still dominates
    assert select_child(root, 0.1, random.Random(0)) is a
    a.closed = True  # closed (e.g. all children terminal) nodes are never selected
    assert select_child(root, 1.5, random.Random(0)) is c


def test_ties_are_broken_at_random_and_terminals_skipped():
    root = Node()
    kids = [root.add_child(Node(step=str(i), prior=0.5)) for i in range(3)]
    kids[0].set_terminal("code", 1.0)
    picks = {select_child(root, 1.0, random.Random(s)).step for s in range(40)}
    assert picks == {"1", "2"}  # N(root) = 0: every open child scores 0


def test_backup_adds_value_and_a_visit_to_every_ancestor():
    root = Node()
    a = root.add_child(Node(step="a"))
    b = a.add_child(Node(step="b"))
    sib = root.add_child(Node(step="s"))
    backup(b, 1.0)
    backup(b, -1.0)
    backup(a, 0.25)
    assert (b.visits, b.value_sum) == (2, 0.0)
    assert (a.visits, a.value_sum) == (3, 0.25)
    assert (root.visits, root.value_sum) == (3, 0.25)
    assert (sib.visits, sib.value_sum) == (0, 0.0)


def test_select_leaf_descends_to_an_unexpanded_node():
    root = Node(visits=2)
    a = root.add_child(Node(step="a", prior=0.9, visits=1, value_sum=1.0))
    root.add_child(Node(step="b", prior=0.1))
    a1 = a.add_child(Node(step="a1", prior=0.5))
    assert select_leaf(root, 1.0, random.Random(0)) is a1
    root.closed = True
    assert select_leaf(root, 1.0, random.Random(0)) is None


# --- the search driven by a scripted policy ----------------------------------------------------

EXPANSIONS = {
    "": [plan("1. A", -0.1), plan("1. B", -0.2), code(FAIL, -0.3)],
    "1. A": [code(PASS), plan("2. A2"), Generation("garbage with no closing tag", 4, -2.0, "length")],
    "1. B": [plan("2. B1", -0.5), plan("2. B2", -0.4), code(PASS)],
    "2. B2": [plan("3. too deep"), code(FAIL), code(FAIL)],
    "2. A2": [code(FAIL), code(FAIL), code(FAIL)],
    "2. B1": [code(FAIL), code(FAIL), code(FAIL)],
}


def scripted(prompt: str, call: int, j: int) -> Generation:
    return EXPANSIONS[last_body(prompt)][j]


def test_scripted_search_expands_the_nodes_puct_predicts():
    policy = ScriptedPolicy(scripted)
    executor = FakeExecutor(exec_judge)
    settings = ExploreConfig(c_puct=1.0, n_children=3, iterations=10, max_depth=3, use_value=True)
    records = []
    BatchedMcts(policy, executor, prompt_fn, settings)([_problem("p")], records.append)
    # worked by hand in the comments of EXPANSIONS' design:
    # r0 root; r1 A (P .905 > .819); r2 B (A: .905*sqrt3/3=.52 < B: .819*sqrt3=1.42);
    # r3 B (Q=1) then B2 (P .670 > .607); r4 A (.798 > -.5+.433); r5 B1, after which all is closed
    expanded = [last_body(prompts[0]) for prompts, _ in policy.calls]
    assert expanded == ["", "1. A", "1. B", "2. B2", "2. A2", "2. B1"]
    assert all(req.n == 3 and req.stop == ["</step>"] for _, req in policy.calls)
    (rec,) = records
    root = Node.from_dict(rec["tree"])
    assert root.closed
    assert (root.visits, root.value_sum) == (13, -9.0)
    a, b, c = root.children
    assert a.prior == pytest.approx(math.exp(-0.1)) and b.prior == pytest.approx(math.exp(-0.2))
    assert (c.terminal, c.reward, c.visits) == ("code", -1.0, 1)
    a1, a2, a3 = a.children
    assert (a1.terminal, a1.reward) == ("code", 1.0)
    assert (a3.terminal, a3.reward, a3.detail) == ("invalid", -1.0, "no closing </step>")
    assert (a.visits, a.value_sum) == (5, -3.0) and (a2.visits, a2.value_sum) == (3, -3.0)
    b2 = b.children[1]
    assert (b2.children[0].terminal, b2.children[0].reward) == ("too_deep", -1.0)
    assert (b.visits, b.value_sum) == (7, -5.0)
    assert rec["stats"]["iterations"] == 6
    assert rec["stats"]["sandbox_runs"] == len(executor.runs) == 11
    assert rec["stats"]["tokens"] == sum(n.n_tokens for n in _all(root))


def _all(n):
    yield n
    for c in n.children:
        yield from _all(c)


def test_one_generate_call_per_round_over_all_live_trees():
    policy = ScriptedPolicy(lambda p, k, j: plan(f"{k}.{j} think"))
    settings = ExploreConfig(n_children=2, iterations=2, max_depth=5, batch_problems=2)
    emitted = []
    BatchedMcts(policy, FakeExecutor(exec_judge), prompt_fn, settings)(
        [_problem("p0"), _problem("p1"), _problem("p2")], lambda r: emitted.append(r["problem_id"]))
    ids = [[re.match(r"Q (\w+)", p).group(1) for p in prompts] for prompts, _ in policy.calls]
    # two live trees share each call; the third starts when a slot frees up
    assert ids == [["p0", "p1"], ["p0", "p1"], ["p2"], ["p2"]]
    assert emitted == ["p0", "p1", "p2"]


def test_value_head_scores_non_terminal_children():
    policy = ScriptedPolicy(lambda p, k, j: [plan("1. x"), plan("1. y"), code(PASS)][j] if k == 0 else code(FAIL),
                            values=lambda text: 0.5)
    settings = ExploreConfig(n_children=3, iterations=1)
    recs = []
    BatchedMcts(policy, FakeExecutor(exec_judge), prompt_fn, settings)([_problem("p")], recs.append)
    root = Node.from_dict(recs[0]["tree"])
    x, y, z = root.children
    assert (x.visits, x.value_sum) == (1, 0.5) and (y.visits, y.value_sum) == (1, 0.5)
    assert (z.visits, z.value_sum) == (1, 1.0)
    assert (root.visits, root.value_sum) == (3, 2.0)
    (texts,) = policy.value_calls
    # each child's state is read at the newline after its </step>, where training put its target
    assert texts == [prompt_fn(_problem("p"), []) + "1. x\n</step>\n", prompt_fn(_problem("p"), []) + "1. y\n</step>\n"]


def test_without_value_head_or_use_value_only_terminals_count():
    for policy, use_value in [(ScriptedPolicy(lambda p, k, j: plan("1. x")), True),
                              (ScriptedPolicy(lambda p, k, j: plan("1. x"), values=lambda t: 0.9), False)]:
        recs = []
        settings = ExploreConfig(n_children=2, iterations=1, use_value=use_value)
        BatchedMcts(policy, FakeExecutor(exec_judge), prompt_fn, settings)([_problem("p")], recs.append)
        root = Node.from_dict(recs[0]["tree"])
        assert root.visits == 0 and all(c.visits == 0 for c in root.children)
        assert policy.value_calls == []


def test_prompt_over_context_is_a_minus_one_terminal():
    def long_prompt(problem, steps):
        return prompt_fn(problem, steps) + " pad" * (100 * len(steps))

    policy = ScriptedPolicy(lambda p, k, j: plan(f"1. s{j}"))
    settings = ExploreConfig(n_children=2, iterations=10, max_step_tokens=10)
    recs = []
    BatchedMcts(policy, FakeExecutor(exec_judge), long_prompt, settings, max_context=60)([_problem("p")], recs.append)
    root = Node.from_dict(recs[0]["tree"])
    assert len(policy.calls) == 1  # both children are too long to expand: the tree is done
    assert [(c.terminal, c.reward) for c in root.children] == [("over_length", -1.0)] * 2
    assert root.closed and (root.visits, root.value_sum) == (2, -2.0)


def test_code_goes_to_the_executor_with_the_problem_tests():
    executor = FakeExecutor(exec_judge)
    policy = ScriptedPolicy(lambda p, k, j: code(PASS if j == 0 else FAIL))
    recs = []
    BatchedMcts(policy, executor, prompt_fn, ExploreConfig(n_children=2, iterations=3))([_problem("p")], recs.append)
    assert executor.runs == [PASS, FAIL]
    root = Node.from_dict(recs[0]["tree"])
    assert [(c.reward, c.detail) for c in root.children] == [(1.0, "passed"), (-1.0, "failed")]
    assert recs[0]["stats"]["iterations"] == 1  # the root closed after one round


class GatedExecutor:
    """Results arrive only after `gate` is set (or a timeout): exposes whether work overlaps them."""

    def __init__(self):
        self.gate = threading.Event()
        self.pool = ThreadPoolExecutor(2)
        self.opened_in_time = []

    def submit(self, code_text, tests) -> Future:
        def run():
            self.opened_in_time.append(self.gate.wait(timeout=5))
            return FakeResult(False, "failed", 0.0)
        return self.pool.submit(run)


def test_prompts_of_other_trees_are_built_while_the_sandbox_runs():
    ex = GatedExecutor()

    def script(prompt, k, j):
        return code(FAIL) if prompt.startswith("Q slow") else plan(f"1. t{k}{j}")

    def gated_prompt_fn(problem, steps):
        if problem.id == "fast" and steps:  # the fast tree's next prompt: built before any result exists
            ex.gate.set()
        return prompt_fn(problem, steps)

    policy = ScriptedPolicy(script)
    BatchedMcts(policy, ex, gated_prompt_fn, ExploreConfig(n_children=1, iterations=2))(
        [_problem("slow"), _problem("fast")], lambda r: None)
    ex.pool.shutdown()
    assert ex.opened_in_time == [True]


def test_terminal_rewards_from_the_real_sandbox():
    from seer.sandbox import SandboxPool

    gens = [code(PASS), code(FAIL), code("def f():\n    while True:\n        pass"), code("import os\nos._exit(0)")]
    policy = ScriptedPolicy(lambda p, k, j: gens[j])
    recs = []
    with SandboxPool(workers=2, timeout=2.0) as pool:
        BatchedMcts(policy, pool, prompt_fn, ExploreConfig(n_children=4, iterations=2))([_problem("p")], recs.append)
    root = Node.from_dict(recs[0]["tree"])
    assert [(c.terminal, c.reward, c.detail) for c in root.children] == [
        ("code", 1.0, "pass"), ("code", -1.0, "fail"), ("code", -1.0, "timeout"), ("code", -1.0, "error")]
    assert (root.visits, root.value_sum) == (4, -2.0)


def test_a_code_block_ended_by_eos_is_a_code_step_but_a_cut_one_is_invalid():
    from seer.llm.steps import format_code_step
    from seer.search.mcts import child_from_generation

    text = "<code>\n```python\ndef f():\n    return 1\n```\n"
    eos = child_from_generation(Generation(text, 12, -0.2, "stop"), 1, 4)
    assert (eos.terminal, eos.step) == ("code", format_code_step(PASS))
    cut = child_from_generation(Generation(text, 12, -0.2, "length"), 1, 4)
    assert (cut.terminal, cut.reward, cut.detail) == ("invalid", -1.0, "no closing </step>")
    plan_eos = child_from_generation(Generation("1. a plan that just ends", 6, -0.2, "stop"), 1, 4)
    assert plan_eos.terminal == "invalid"
