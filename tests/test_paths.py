import random
from collections import Counter

from seer.llm.steps import format_code_step, format_plan_step
from seer.search.paths import balance, cap, problem_paths, summarize, uses_random
from seer.search.tree import Node


def _code(root: Node, parent: Node, src: str, reward: float) -> Node:
    n = parent.add_child(Node(step=format_code_step(src)))
    n.set_terminal("code", reward)
    # a real search backs the reward up; keep Q values meaningful
    m: Node | None = n
    while m is not None:
        m.visits += 1
        m.value_sum += reward
        m = m.parent
    return n


def test_problem_paths_filters_dedupes_and_carries_q():
    root = Node()
    a = root.add_child(Node(step=format_plan_step(1, "use a set")))
    _code(root, a, "def f():\n    return 1", 1.0)
    _code(root, a, "def f():\n    return 1", 1.0)  # same final step: a duplicate
    _code(root, a, "import random\ndef f():\n    return random.choice([1])", 1.0)  # random. user
    _code(root, root, "def f():\n    return 2", -1.0)  # direct, failing
    _code(root, root, "def f():\n    return 2", -1.0)  # duplicate failure
    bad = root.add_child(Node(step="<step>\n1. fine\n</step>"))
    bad.add_child(Node(step="<step>\n```python\nx\n```\n</step>")).set_terminal("code", 1.0)  # malformed
    root.add_child(Node(step="<step>\n2. x")).set_terminal("invalid", -1.0)  # not an executed path
    found = problem_paths(root)
    assert [p.steps for p in found.correct] == [[format_plan_step(1, "use a set"),
                                                 format_code_step("def f():\n    return 1")]]
    assert [p.steps for p in found.incorrect] == [[format_code_step("def f():\n    return 2")]]
    assert found.dropped_random == 1 and found.dropped_malformed == 1
    assert found.category == "mixed"
    # Q of the plan step: 3 passing rewards backed through it; code step Q = its reward
    assert found.correct[0].q_values == [1.0, 1.0]
    assert found.incorrect[0].q_values == [-1.0]


def test_categories():
    only_ok, only_bad, empty = Node(), Node(), Node()
    _code(only_ok, only_ok, "x = 1", 1.0)
    _code(only_bad, only_bad, "x = 1", -1.0)
    empty.add_child(Node(step="<step>\n1. a\n</step>")).set_terminal("too_deep", -1.0)
    assert [problem_paths(t).category for t in (only_ok, only_bad, empty)] == ["only_correct", "only_incorrect", "none"]


def test_uses_random():
    assert uses_random("import random\nx = random.randint(1, 2)")
    assert not uses_random("from secrets import choice\nrandomness = 1")


def test_cap_keeps_order_and_at_most_k():
    xs = list(range(10))
    got = cap(xs, 4, random.Random(1))
    assert len(got) == 4 and got == sorted(got) and set(got) <= set(xs)
    assert cap(xs[:3], 4, random.Random(1)) == [0, 1, 2]


def test_balance_trims_the_majority_from_the_richest_problems():
    items = [("a", True)] * 4 + [("b", True)] * 2 + [("c", True)] + [("a", False), ("b", False), ("d", False)]
    out = balance(items, lambda x: x[1], lambda x: x[0], random.Random(0))
    pos = Counter(g for g, ok in out if ok)
    assert sum(pos.values()) == 3 and sum(1 for _, ok in out if not ok) == 3
    # 4 positives dropped, each from the problem with most left: a 4->3->2, then a and b 2->1
    assert pos == {"a": 1, "b": 1, "c": 1}
    assert [x for x in out if not x[1]] == [("a", False), ("b", False), ("d", False)]
    # one class empty: nothing to balance against
    only_pos = [("a", True), ("b", True)]
    assert balance(only_pos, lambda x: x[1], lambda x: x[0], random.Random(0)) == only_pos


def test_summarize_shares_and_costs():
    stats = summarize(["only_correct", "mixed", "mixed", "none"],
                      [{"tokens": 10, "sandbox_runs": 2, "wall_time": 1.5, "nodes": 4}, {"tokens": 5}],
                      {"correct": 3, "incorrect": 3})
    assert stats["share"] == {"only_correct": 0.25, "only_incorrect": 0.0, "mixed": 0.5, "none": 0.25}
    assert (stats["tokens_generated"], stats["sandbox_runs"], stats["tree_wall_time_s_sum"]) == (15, 2, 1.5)
    assert stats["tree_wall_time_s_mean"] == 0.375
    assert stats["paths"] == {"correct": 3, "incorrect": 3}
