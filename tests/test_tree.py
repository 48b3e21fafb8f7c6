import json

import pytest

from seer.llm.steps import format_code_step, format_plan_step
from seer.search.tree import Node, enumerate_paths, iter_nodes


def _tree() -> Node:
    root = Node(visits=3, value_sum=-1.0)
    a = root.add_child(Node(step=format_plan_step(1, "a"), prior=0.9, visits=2, value_sum=0.0, n_tokens=7))
    a.add_child(Node(step=format_code_step("x = 1"), prior=0.5, visits=1, value_sum=1.0, terminal="code",
                     reward=1.0, detail="passed", closed=True))
    a.add_child(Node(step=format_code_step("x = 2"), prior=0.25, visits=1, value_sum=-1.0, terminal="code",
                     reward=-1.0, detail="failed", closed=True))
    root.add_child(Node(step="<step>\nbad", prior=0.1, visits=1, value_sum=-1.0, terminal="invalid",
                        reward=-1.0, detail="no closing </step>", closed=True))
    root.add_child(Node(step=format_plan_step(1, "b"), prior=0.3))  # unexpanded, unvisited
    return root


def test_json_round_trip_is_lossless():
    root = _tree()
    text = json.dumps(root.to_dict())
    back = Node.from_dict(json.loads(text))
    assert back.to_dict() == root.to_dict()
    assert json.dumps(back.to_dict()) == text
    # parent links are rebuilt
    leaf = back.children[0].children[1]
    assert leaf.parent is back.children[0] and leaf.parent.parent is back
    assert leaf.depth == 2 and leaf.steps() == [format_plan_step(1, "a"), format_code_step("x = 2")]


def test_from_dict_names_bad_fields():
    with pytest.raises(ValueError, match="unknown tree node field"):
        Node.from_dict({"step": "", "visit": 1})
    with pytest.raises(ValueError, match="terminal"):
        Node.from_dict({"terminal": "weird"})


def test_q_is_value_sum_over_visits_and_zero_when_unvisited():
    root = _tree()
    assert root.q == pytest.approx(-1 / 3)
    assert root.children[0].q == 0.0
    assert root.children[2].q == 0.0 and root.children[2].visits == 0


def test_paths_end_in_terminals_with_per_step_q():
    paths = enumerate_paths(_tree())
    assert [(p.terminal, p.reward) for p in paths] == [("code", 1.0), ("code", -1.0), ("invalid", -1.0)]
    assert paths[0].steps == [format_plan_step(1, "a"), format_code_step("x = 1")]
    assert paths[0].q_values == [0.0, 1.0]
    assert paths[1].q_values == [0.0, -1.0]
    assert paths[2].q_values == [-1.0]


def test_closing_propagates_only_when_all_children_closed():
    root = Node()
    a = root.add_child(Node(step="a"))
    b = root.add_child(Node(step="b"))
    a1 = a.add_child(Node(step="a1"))
    a1.set_terminal("too_deep", -1.0)
    a.refresh_closed()
    assert a.closed and not root.closed  # b is still open
    b.add_child(Node(step="b1")).set_terminal("code", 1.0)
    b.refresh_closed()
    assert b.closed and root.closed
    assert [n.step for n in iter_nodes(root)] == ["", "a", "a1", "b", "b1"]
