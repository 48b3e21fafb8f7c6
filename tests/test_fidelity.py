"""The authors' SEER behaviours that the paper experiments select (docs/fidelity.md), one test per
behaviour, on scripted policies: no model is loaded."""
import dataclasses

import pytest

from seer.llm.policy import Generation
from seer.search.mcts import BatchedMcts, MctsSettings, child_from_generation
from seer.search.tree import Node
from tests.fakes import FakeExecutor, ScriptedPolicy
from tests.test_mcts import FAIL, PASS, _problem, code, plan, prompt_fn

PAPER = MctsSettings(c_puct=1.5, n_children=3, iterations=10, max_depth=4, max_step_tokens=8, max_context=10_000,
                     stop_rule="dead_end", value_backup="expanded", lenient_plan_steps=True)
SEER = dataclasses.replace(PAPER, stop_rule="exhausted", value_backup="children", lenient_plan_steps=False)


def _search(settings: MctsSettings, script, values=None) -> tuple[dict, ScriptedPolicy]:
    policy = ScriptedPolicy(script, values=values)
    out: list[dict] = []
    BatchedMcts(policy, FakeExecutor(lambda c, t: "return 1" in c), prompt_fn, settings)([_problem("p")], out.append)
    return out[0], policy


# --- 1. when a tree stops ----------------------------------------------------------------------

def _root_then_plans(prompt: str, call: int, j: int) -> Generation:
    # the root's children: all code (terminal); any deeper expansion would be plans
    return code(PASS if j == 0 else FAIL) if call == 0 else plan(f"{call}.{j} plan")


def test_dead_end_stops_the_tree_when_every_child_of_the_selected_node_is_terminal():
    rec, policy = _search(PAPER, _root_then_plans)
    assert rec["stats"]["iterations"] == 1 and len(policy.calls) == 1
    assert Node.from_dict(rec["tree"]).closed


def test_dead_end_stops_below_the_root_while_exhausted_searches_on():
    def script(prompt, call, j):
        # unlikely plans (small priors) whose children all pass: once one plan is expanded, its
        # Q = 1 outweighs its siblings' exploration bonus and selection goes back to it
        return plan(f"p{j}", lp=-3.0) if call == 0 else code(PASS)

    paper, _ = _search(PAPER, script)
    seer, _ = _search(SEER, script)
    # the authors: root, one plan (into terminals), then selection reaches that plan again: stop
    assert paper["stats"]["iterations"] == 2
    assert len(Node.from_dict(paper["tree"]).children[0].children) + \
        sum(len(c.children) for c in Node.from_dict(paper["tree"]).children[1:]) == 3
    # seer closes that plan and expands its two siblings too; then the root is closed
    assert seer["stats"]["iterations"] == 4


# --- 2. values during exploration -------------------------------------------------------------

def test_expanded_backs_up_one_value_of_the_expanded_node_read_at_its_prompt():
    rec, policy = _search(dataclasses.replace(PAPER, iterations=2), lambda p, c, j: plan(f"{c}.{j}"),
                          values=lambda text: 0.5 if text.endswith("Q p\n<step>\n") else -0.25)
    # one value call per expansion, each holding exactly the prompt that was expanded
    assert [len(v) for v in policy.value_calls] == [1, 1]
    assert policy.value_calls[0] == [policy.calls[0][0][0]]
    assert policy.value_calls[1] == [policy.calls[1][0][0]]
    root = Node.from_dict(rec["tree"])
    assert (root.visits, root.value_sum) == (2, pytest.approx(0.5 - 0.25))
    expanded = next(c for c in root.children if c.children)
    assert (expanded.visits, expanded.value_sum) == (1, pytest.approx(-0.25))
    assert all(c.visits == 0 for c in expanded.children)  # children get no value of their own


def test_children_backup_scores_every_non_terminal_child_instead():
    _, policy = _search(dataclasses.replace(SEER, iterations=1), lambda p, c, j: plan(f"{c}.{j}"),
                        values=lambda text: 0.0)
    assert [len(v) for v in policy.value_calls] == [3]


def test_a_prompt_over_the_context_is_closed_with_minus_one_and_no_value():
    rec, policy = _search(dataclasses.replace(PAPER, max_context=1), lambda p, c, j: plan("x"),
                          values=lambda text: 0.9)
    root = Node.from_dict(rec["tree"])
    assert root.terminal == "over_length" and root.value_sum == -1.0 and policy.value_calls == []


# --- 12. plan steps the authors' parser keeps ------------------------------------------------

@pytest.mark.parametrize("text", ["1. loop over\n```python\nfor x in y: pass\n```\n</step>",
                                  "1. a plan cut at the token lim"])
def test_lenient_plan_steps_keep_fenced_or_cut_plans_as_plan_nodes(text):
    gen = Generation(text, 8, -0.5, "stop" if "</step>" in text else "length")
    assert child_from_generation(gen, 1, 4).terminal == "invalid"
    node = child_from_generation(gen, 1, 4, lenient=True)
    assert node.terminal is None and not node.closed
    # a cut code step is still invalid: it can only fail
    cut = Generation("<code>\n```python\ndef f(", 8, -0.5, "length")
    assert child_from_generation(cut, 1, 4, lenient=True).terminal == "invalid"


def test_round_one_head_is_untrained_seeded_and_near_zero():
    import torch

    from seer.model.policy_value import UntrainedValueHead

    h = torch.randn(4, 64)
    a, b = UntrainedValueHead(seed=3), UntrainedValueHead(seed=3)
    va, vb = a(h), b(h)
    assert va.shape == (4,) and torch.equal(va, vb)  # reproducible from the seed
    assert a.linear.bias.item() == 0.0 and abs(a.linear.weight.detach().std().item() - 0.02) < 0.01
    assert not torch.equal(va, UntrainedValueHead(seed=4)(h))


# --- 3. the exploration prompt ----------------------------------------------------------------

def test_plan_first_examples_are_plans_of_three_or_four_steps_whose_code_passes():
    from seer.data.schemas import Tests
    from seer.llm.plan_prompt import PLAN_FEWSHOT
    from seer.llm.steps import parse_step
    from tests.fakes import exec_judge

    assert len(PLAN_FEWSHOT) == 7
    for ex in PLAN_FEWSHOT:
        assert 3 <= len(ex.plan) <= 4
        parsed = [parse_step(s) for s in ex.steps()]
        assert all(p.valid for p in parsed) and parsed[-1].is_terminal and not any(p.is_terminal for p in parsed[:-1])
        assert exec_judge(ex.code, Tests(kind="assert", cases=list(ex.tests))), ex.question


def test_plan_first_prompt_is_raw_text_and_redraws_its_examples_at_every_call():
    from seer.stages.explore import exploration_prompt_fn

    policy = ScriptedPolicy(lambda p, c, j: "")
    fn = exploration_prompt_fn(policy, 3, seed=0, style="plan_first")
    problem = _problem("p")
    first = fn(problem, [])
    assert "<user>" not in first  # no chat template
    assert first.count("Example ") == 3 and first.endswith("Question: Return one (p).\nAnswer:\n<step>\n")
    step = "<step>\n1. plan\n</step>"
    deeper = fn(problem, [step])
    assert deeper.endswith(f"Answer:\n{step}\n<step>\n")
    # the same call again draws the same examples (a resumed shard), other nodes draw others
    assert fn(problem, []) == first
    draws = {tuple(line for line in fn(problem, [f"<step>\n{i}. x\n</step>"]).splitlines()
                   if line.startswith("Question: Write")) for i in range(12)}
    assert len(draws) > 3
    # the chat prompt keeps one draw per problem
    chat = exploration_prompt_fn(policy, 3, seed=0, style="chat")
    assert "<user>" in chat(problem, []) and chat(problem, [step]).startswith(chat(problem, []).split("<assistant>")[0])
