"""The authors' SEER behaviours that the paper experiments select (docs/fidelity.md), one test per
behaviour, on scripted policies: no model is loaded."""
import dataclasses

import pytest

from seer.llm.policy import Generation
from seer.config import ExploreConfig, InferConfig
from seer.search.mcts import BatchedMcts, child_from_generation
from seer.search.tree import Node
from tests.fakes import FakeExecutor, ScriptedPolicy
from tests.test_mcts import FAIL, PASS, _problem, code, plan, prompt_fn

PAPER = ExploreConfig(c_puct=1.5, n_children=3, iterations=10, max_depth=4, max_step_tokens=8,
                      stop_rule="dead_end", value_backup="expanded", lenient_plan_steps=True)
SEER = dataclasses.replace(PAPER, stop_rule="exhausted", value_backup="children", lenient_plan_steps=False)


def _search(settings: ExploreConfig, script, values=None, max_context: int = 10_000) -> tuple[dict, ScriptedPolicy]:
    policy = ScriptedPolicy(script, values=values)
    out: list[dict] = []
    BatchedMcts(policy, FakeExecutor(lambda c, t: "return 1" in c), prompt_fn, settings,
                max_context=max_context)([_problem("p")], out.append)
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
    rec, policy = _search(PAPER, lambda p, c, j: plan("x"), max_context=1,
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


# --- 7. loss normalisation ---------------------------------------------------------------------

def test_sequence_loss_norm_on_a_hand_computed_two_sequence_batch():
    import math

    import torch

    from seer.model.losses import IGNORE, nll_rows, value_sq_rows
    from seer.train.trainer import group_share

    # vocabulary of 2 with uniform logits: every label token costs ln 2
    logits = torch.zeros(2, 4, 2)
    # sequence 0: a correct path with 3 label tokens; sequence 1: an incorrect path, no labels
    labels = torch.tensor([[IGNORE, 0, 1, 0], [IGNORE, IGNORE, IGNORE, IGNORE]])
    values = torch.tensor([[0.0, 0.5, 0.0, 1.0], [0.0, 0.0, 0.0, -0.5]])
    targets = torch.tensor([[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, -1.0]])
    vmask = torch.tensor([[False, True, False, True], [False, False, False, True]])
    counts = (3, 3, 2)  # the group: 3 label tokens, 3 value targets, 2 sequences
    nll, vse = nll_rows(logits, labels), value_sq_rows(values, targets, vmask)
    ln2 = math.log(2)
    # the authors: NLL mean per sequence (ln 2, and 0 for the incorrect path) averaged over 2 sequences
    assert group_share("nll", nll, counts, "sequence").item() == pytest.approx((ln2 + 0.0) / 2)
    # value: per-sequence means (0.25 + 0) / 2 = 0.125 and 0.25 / 1, averaged over 2 sequences
    assert group_share("value_mse", vse, counts, "sequence").item() == pytest.approx((0.125 + 0.25) / 2)
    # seer's token means over the group: 3 ln 2 / 3 tokens, 0.5 / 3 value targets
    assert group_share("nll", nll, counts, "token_group").item() == pytest.approx(ln2)
    assert group_share("value_mse", vse, counts, "token_group").item() == pytest.approx(0.5 / 3)


# --- 6. value targets ------------------------------------------------------------------------

def _path(steps, q, reward, source="mcts", repairs=()):
    from seer.data.schemas import TrainPath

    return TrainPath("p", "Q", list(steps), list(q), reward, source, repairs=list(repairs))


def test_an_all_one_multi_step_path_gets_no_value_targets():
    from seer.train.data import without_all_one_targets

    assert without_all_one_targets(_path(["a", "b"], [1.0, 1.0], 1.0)).q_values == [None, None]
    assert without_all_one_targets(_path(["c"], [1.0], 1.0)).q_values == [1.0]  # one step keeps it
    assert without_all_one_targets(_path(["a", "b"], [0.5, 1.0], 1.0)).q_values == [0.5, 1.0]


def test_the_prefix_an_incorrect_path_shares_with_its_refinement_is_masked():
    from seer.data.schemas import TrainPath
    from seer.train.data import mask_repaired_prefixes

    wrong = _path(["s1", "s2", "s3", "code0"], [0.2, -0.3, -0.5, -1.0], -1.0)
    sibling = _path(["s1", "s2", "x3", "code1"], [0.2, -0.3, 0.1, -1.0], -1.0)
    refined = _path(["s1", "s2", "fixed3", "code2"], [None, None, None, 1.0], 1.0, "refine", wrong.steps)
    rows = mask_repaired_prefixes([wrong, sibling, refined])
    assert rows[0].q_values == [None, None, -0.5, -1.0]  # the two shared steps lose their targets
    assert rows[1].q_values == sibling.q_values  # only the repaired path itself, as the authors
    assert rows[2] == refined
    # refined records round-trip through json with their `repairs`, other paths without the field
    assert TrainPath.from_dict(refined.to_dict()) == refined and "repairs" not in wrong.to_dict()


# --- 4, 5 and the keys: what the paper experiments select --------------------------------------

@pytest.mark.parametrize("experiment", ["paper_qwen", "paper_dsc"])
def test_paper_experiments_select_the_authors_behaviour(experiment):
    from seer.config import compose
    from seer.train.data import split_heldout

    cfg = compose([f"experiment={experiment}"])
    e, t, i = cfg.explore, cfg.train, cfg.infer
    assert (e.stop_rule, e.value_backup, e.fresh_value_head, e.prompt) == ("dead_end", "expanded", True, "plan_first")
    assert e.lenient_plan_steps and e.split_numbered_steps
    assert (e.perturb.mode, e.perturb.question_cut, e.perturb.max_per_problem) == ("mcts", "first_period", 6)
    r = e.refine
    assert (r.prompt, r.temperature, r.max_tokens, r.paths_per_problem, r.attempts_without_path, r.verify) == \
        ("from_step", 0.6, 512, 4, 6, False)
    assert t.heldout_fraction == 0.0 and list(t.lora.target_modules) == ["q_proj", "v_proj"]
    assert (t.loss_norm, t.overlong, t.skip_all_one_values, t.mask_refined_prefix) == ("sequence", "drop", True, True)
    assert (t.direct_model, t.direct_prompt, t.direct_dedup) == ("base", "plain", True)
    assert (t.value_head_dropout, t.value_head_init) == (0.1, "linear_default")
    assert (i.remove_duplicates, i.strip_asserts) == (True, True)

    class E:
        def __init__(self, pid):
            self.problem_id = pid
    train, held = split_heldout([E(str(k)) for k in range(20)], t.heldout_fraction, 0)
    assert len(train) == 20 and held == []  # the authors train on every path


# --- 8. perturbation --------------------------------------------------------------------------

def test_perturbation_runs_a_full_tree_from_the_prefix_and_keeps_its_q_values():
    import random

    from seer.data.schemas import Tests
    from seer.search.perturb import plan_job, perturb_mcts

    problem = dataclasses.replace(_problem("p"), question="Return one. Use no imports.")
    correct = {"steps": ["<step>\n1. keep\n</step>", "<step>\n<code>\n```python\ndef f():\n    return 1\n```\n"
                         "</code>\n</step>"], "q_values": [0.7, 1.0]}
    job = plan_job(problem, [correct], random.Random(1), "first_period")
    job.prefix, job.prefix_q = correct["steps"][:1], [0.7]  # the cut after the plan step
    assert job.truncated.question == "Return one"

    def script(prompt, call, j):
        return plan(f"2. idea {j}", lp=-3.0) if call == 0 else code(f"def f():\n    return {-10 * call - j}")

    policy = ScriptedPolicy(script)
    seen: list[str] = []

    def prompt_fn(problem, steps):
        seen.append(problem.question)
        return f"Q {problem.question}\n" + "".join(s + "\n" for s in steps) + "<step>\n"

    # max_depth 2 counts from the end of the prefix: prefix + plan + code (3 steps) is allowed
    settings = dataclasses.replace(PAPER, max_depth=2, iterations=3, stop_rule="exhausted")
    paths, stats = perturb_mcts([job], policy, FakeExecutor(lambda c, t: "return 1\n" in c + "\n"), prompt_fn,
                                settings, max_per_problem=4, max_context=10_000)
    assert set(seen) == {"Return one"}
    assert all(p[0].startswith("Q Return one\n<step>\n1. keep\n</step>\n") for p, _ in policy.calls)
    assert stats["trees"] == 1 and len(paths) == 4  # 3 expansions x 3 failing children, capped at 4
    for p in paths:
        assert p.question.startswith("Return one. Use no imports.") and p.reward == -1.0 and p.source == "perturb"
        assert p.steps[0] == job.prefix[0] and len(p.steps) == 3
        assert p.q_values[0] == 0.7 and p.q_values[1] == -1.0 and p.q_values[2] == -1.0  # the tree's Q


def test_question_cuts():
    from seer.search.perturb import before_first_period, first_sentence

    q = "Sort the list by key.value. Return it."
    assert before_first_period(q) == "Sort the list by key"
    assert first_sentence(q) == "Sort the list by key.value."


# --- 9. refinement ----------------------------------------------------------------------------

WRONG = ["<step>\n1. Read the input.\n</step>", "<step>\n2. Return 0.\n</step>",
         "<step>\n<code>\n```python\ndef f():\n    return 0\n```\n</code>\n</step>"]
REF = "def f():\n    return 1"
FIXED_CODE = "<step>\n<code>\n```python\ndef f():\n    return 1\n```\n</code>\n</step>"


def test_from_step_splices_at_the_named_step_and_drops_what_does_not_fit():
    from seer.search.refine_from_step import splice_from_step

    head = "From step 2, the path goes wrong. Rewriting the path from step 2.\n"
    fixed = splice_from_step(WRONG, head + "<step>\n2. Return 1.\n</step>\n" + FIXED_CODE, REF)
    assert fixed == WRONG[:1] + ["<step>\n2. Return 1.\n</step>", FIXED_CODE]
    # only the code step rewritten ("From step <code>"): every plan step kept
    assert splice_from_step(WRONG, "From step <code>, ...\n" + FIXED_CODE, REF) == WRONG[:2] + [FIXED_CODE]
    # a step not in the path, numbers out of sequence, code before the last step, no code: dropped
    assert splice_from_step(WRONG, "<step>\n5. Return 1.\n</step>\n" + FIXED_CODE, REF) is None
    assert splice_from_step(WRONG, "<step>\n2. a\n</step>\n<step>\n4. b\n</step>\n" + FIXED_CODE, REF) is None
    assert splice_from_step(WRONG, FIXED_CODE + "\n<step>\n2. a\n</step>", REF) is None
    assert splice_from_step(WRONG, "<step>\n2. Return 1.\n</step>", REF) is None
    # an empty path must be rewritten from step 1
    assert splice_from_step([], "<step>\n2. x\n</step>\n" + FIXED_CODE, REF) is None
    assert splice_from_step([], "<step>\n1. x\n</step>\n" + FIXED_CODE, REF) == ["<step>\n1. x\n</step>", FIXED_CODE]
    # rewritten code that does not parse: the reference stands in; a cut-off answer is closed first
    bad = "<step>\n2. y\n</step>\n<step>\n<code>\n```python\ndef f(:\n```\n</code>\n</step>"
    assert splice_from_step(WRONG, bad, REF)[-1] == FIXED_CODE
    cut = "<step>\n2. y\n</step>\n<step>\n<code>\n```python\ndef f():\n    return 1\n```\n</code>"
    assert splice_from_step(WRONG, cut, REF)[-1] == FIXED_CODE


def test_refine_from_step_plans_every_path_and_six_attempts_and_drops_bad_rewrites():
    import random

    from seer.search.refine import plan_jobs, refine

    problem = dataclasses.replace(_problem("p"), solution=REF)
    other = [WRONG[0], "<step>\n2. Return 2.\n</step>", WRONG[2]]
    paths = [{"steps": s} for s in (WRONG, other, WRONG[:1] + WRONG[2:], WRONG[1:], WRONG)]
    jobs = plan_jobs(problem, paths, random.Random(0), per_problem=4, attempts_without_path=6)
    assert len(jobs) == 4
    assert [j.incorrect for j in plan_jobs(problem, [], random.Random(0), 4, 6)] == [[]] * 6

    answers = iter(["<step>\n2. Return 1.\n</step>\n" + FIXED_CODE,  # good
                    "<step>\n9. Return 1.\n</step>\n" + FIXED_CODE,  # names a step not in the path
                    "<step>\n2. Return 1.\n</step>\n" + FIXED_CODE])  # a repeat of the first answer
    policy = ScriptedPolicy(lambda prompt, call, j: next(answers))
    jobs = [plan_jobs(problem, [{"steps": WRONG}], random.Random(0), 4, 6)[0]] * 3
    out, stats = refine(jobs, policy, None, 0.6, 512, "h", prompt="from_step")
    req = policy.calls[0][1]
    assert (req.temperature, req.max_tokens, req.stop) == (0.6, 512, ["</code>\n</step>"])
    prompt = policy.calls[0][0][0]
    assert "<user>" not in prompt and prompt.count("From step") >= 4 and prompt.count("Example ") == 3
    assert stats["refined"] == 1 and stats["dropped_malformed"] == 1 and stats["duplicates"] == 1
    assert out[0].steps == WRONG[:1] + ["<step>\n2. Return 1.\n</step>", FIXED_CODE]
    assert out[0].q_values == [None, None, 1.0] and out[0].repairs == WRONG


# --- 10. inference ----------------------------------------------------------------------------

def test_beam_removes_duplicate_siblings_before_scoring_and_strips_asserts():
    from seer.data.schemas import Problem, Tests
    from seer.search.beam import beam_search, beam_search_samples, without_asserts

    answer = "<code>\n```python\ndef f():\n    return 2\nassert f() == 2\n```\n</code>\n</step>"
    round0 = ["1. same plan\n</step>", " 1. same plan\n</step>\n", answer, "1. other\n</step>"]
    problem = Problem("p", "Write f.", Tests("assert", ["assert f() == 2"]), entry_point="f")
    values = lambda text: 0.9 if "return 2" in text else 0.1  # noqa: E731
    for dedup, scored in ((True, 3), (False, 4)):
        pol = ScriptedPolicy(lambda p, c, j: round0[j], values=values)
        beam_search(pol, [problem], InferConfig(b1=1, b2=4, max_depth=3, remove_duplicates=dedup))
        assert len(pol.value_calls[0]) == scored

    assert without_asserts("def f():\n    return 2\n  assert f() == 2\nx = 1") == "def f():\n    return 2\nx = 1"

    from seer.config import compose, settings

    cfg = compose(["experiment=paper_qwen", "infer.b1=1", "infer.max_depth=3"])  # b2 = 4
    pol = ScriptedPolicy(lambda p, c, j: round0[j], values=values)
    (sample,) = beam_search_samples(pol, [problem], settings(cfg.infer, InferConfig))
    assert "return 2" in sample["solution"] and "assert" not in sample["solution"]


# --- 11. stage-2 direct samples ---------------------------------------------------------------

def test_plain_direct_samples_are_code_only_and_de_duplicated():
    from seer.config import compose
    from seer.stages.train import PLAIN_DIRECT_STOP, label_direct, plain_direct_prompt

    problem = _problem("p")
    prompt = plain_direct_prompt(problem)
    assert prompt.endswith("```python\n") and "<step>" not in prompt and PLAIN_DIRECT_STOP == ["```"]
    good, bad = "def f():\n    return 1\n```", "def f():\n    return 0\n```"
    cfg = compose(["experiment=paper_qwen", "sandbox.workers=1"])
    assert (cfg.train.direct_model, cfg.train.direct_prompt, cfg.train.direct_dedup) == ("base", "plain", True)
    paths = label_direct(cfg, [problem], [[good, good, bad, good]])
    assert [p.reward for p in paths] == [1.0, -1.0]  # the repeats count once
    assert paths[0].steps == ["<step>\n<code>\n```python\ndef f():\n    return 1\n```\n</code>\n</step>"]
    cfg.train.direct_dedup = False
    assert len(label_direct(cfg, [problem], [[good, good, bad, good]])) == 4


# --- 12. the value head -----------------------------------------------------------------------

def test_value_head_init_and_training_only_dropout():
    import torch

    from seer.model.policy_value import ValueHead

    torch.manual_seed(0)
    small, default = ValueHead(256), ValueHead(256, "linear_default")
    assert small.linear.bias.item() == 0.0 and small.linear.weight.abs().max().item() < 0.05
    # torch's Linear init: uniform in +-1/sqrt(fan_in), bias too
    bound = 1 / 256 ** 0.5
    assert default.linear.weight.abs().max().item() <= bound and default.linear.bias.item() != 0.0
    assert default.linear.weight.abs().max().item() > 0.5 * bound
    h = torch.randn(8, 256)
    default.dropout = 0.1
    default.train()
    assert not torch.equal(default(h), default(h))  # dropout on h while training
    default.eval()
    assert torch.equal(default(h), default(h))
    assert "dropout" not in "".join(default.state_dict())  # never saved: a loaded head has none
    with pytest.raises(ValueError, match="linear_default"):
        ValueHead(4, "xavier")


def test_a_step_of_several_numbered_lines_is_split():
    from seer.search.paths import split_numbered_steps

    steps = ["<step>\n1. Sort.\n- ascending\n2. Scan.\n</step>", "<step>\n3. Return.\n</step>",
             "<step>\n<code>\n```python\nx = [\n1]\n```\n</code>\n</step>"]
    out, q = split_numbered_steps(steps, [0.5, 0.25, 1.0])
    assert out == ["<step>\n1. Sort.\n- ascending\n</step>", "<step>\n2. Scan.\n</step>", steps[1], steps[2]]
    assert q == [None, 0.5, 0.25, 1.0]


def test_paths_stage_splits_steps_and_refines_the_kept_paths_it_trains_on(tmp_path):
    from seer.config import compose
    from seer.data.jsonl import read_jsonl, write_jsonl
    from seer.data.schemas import TrainPath
    from seer.llm.steps import format_code_step
    from seer.stages import explore as stages

    root = Node()
    plan_node = root.add_child(Node(step="<step>\n1. Sort.\n2. Scan.\n</step>"))
    for i in range(6):  # six distinct failing code steps under one two-line plan step
        n = plan_node.add_child(Node(step=format_code_step(f"def f():\n    return {i}")))
        n.set_terminal("code", -1.0)
        for m in n.lineage():
            m.visits, m.value_sum = m.visits + 1, m.value_sum - 1.0
    seed, shard = tmp_path / "seed.jsonl", tmp_path / "shard-0.jsonl.gz"
    write_jsonl(seed, [_problem("p")])
    write_jsonl(shard, [{"problem_id": "p", "config_hash": "x", "tree": root.to_dict(), "stats": {}}])
    out = {k: tmp_path / f"{k}.jsonl" for k in ("paths", "all_pass", "all_fail")}
    cfg = compose(["experiment=paper_qwen", "tracking=disabled", f"io.seed={seed}", f"io.out={out['paths']}",
                   f"io.all_pass={out['all_pass']}", f"io.all_fail={out['all_fail']}",
                   f"io.stats={tmp_path / 'stats.json'}", f"io.trees=[{shard}]", "stage=paths"])
    stages.paths(cfg)
    (fail,) = read_jsonl(out["all_fail"])
    assert len(fail["paths"]) == 4  # the 4 kept of 6, not all of them
    assert all(p["steps"][:2] == ["<step>\n1. Sort.\n</step>", "<step>\n2. Scan.\n</step>"] for p in fail["paths"])
    assert all(p["q_values"][:2] == [None, -1.0] for p in fail["paths"])
    # the paths refinement starts from are the training paths, split the same way
    trained = read_jsonl(out["paths"], TrainPath.from_dict)
    assert sorted(t.steps for t in trained) == sorted(p["steps"] for p in fail["paths"])
