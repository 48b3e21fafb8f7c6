import json

import pytest
import torch
from train_fixtures import (
    CODE_BAD,
    CODE_OK,
    PLAN,
    QUESTION,
    make_paths,
    one_thread,  # noqa: F401 (a fixture, used by pytestmark)
)

from seer.data.jsonl import DataError
from seer.data.schemas import Problem, Tests, TrainPath
from seer.llm.hf_backend import TransformersPolicy
from seer.llm.load import load_tokenizer
from seer.llm.prompts import exploration_prompt, format_question, value_prefix
from seer.model.losses import IGNORE
from seer.train.data import (
    BatchPlan,
    Collator,
    Example,
    read_paths,
    split_heldout,
    step_user_message,
    tokenize_path,
    tokenize_paths,
)
from seer.train.metrics import roc_auc, value_metrics

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def fmt(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    return TransformersPolicy(model, load_tokenizer(str(tiny_model_dir)), progress=False)


def test_masks_on_a_hand_made_batch(fmt):
    good = TrainPath("a", QUESTION, [PLAN, CODE_OK], [0.5, 1.0], 1.0, "mcts")
    bad = TrainPath("a", QUESTION, [PLAN, CODE_BAD], [None, -1.0], -1.0, "mcts")
    exs = [tokenize_path(good, fmt, 512), tokenize_path(bad, fmt, 512)]
    batch = Collator(pad_id=fmt.tokenizer.pad_token_id)(exs)
    tok = fmt.tokenizer
    g, b = exs
    n_good, n_bad = len(g.input_ids), len(b.input_ids)
    # the prompt is exactly what the backend encodes for generation
    assert g.input_ids[:g.prompt_len] == fmt.encode(fmt.chat_prompt(step_user_message(QUESTION)))
    # NLL: every response token of the correct path (incl. EOS), nothing else
    labels = batch["labels"]
    assert labels[0, :g.prompt_len].eq(IGNORE).all()
    assert labels[0, g.prompt_len:n_good].tolist() == g.input_ids[g.prompt_len:]
    assert g.input_ids[-1] == tok.eos_token_id
    assert labels[0, n_good:].eq(IGNORE).all() and labels[1].eq(IGNORE).all()
    assert batch["attention_mask"][1].sum() == n_bad and labels.shape[1] == max(n_good, n_bad)
    # value targets: the token of the newline after each step, of the final step's last character;
    # the masked Q (None) has no target
    for row, ex, steps in ((0, g, good.steps), (1, b, bad.steps)):
        for i, pos in enumerate(ex.step_ends):
            upto = tok.decode(ex.input_ids[ex.prompt_len:pos + 1])
            assert upto == value_prefix(steps[:i + 1], terminal=i == len(steps) - 1)
    assert batch["value_mask"][0].nonzero().flatten().tolist() == g.step_ends
    assert batch["value_targets"][0, g.step_ends].tolist() == [0.5, 1.0]
    assert batch["value_mask"][1].nonzero().flatten().tolist() == [b.step_ends[1]]
    assert batch["value_targets"][1, b.step_ends[1]].item() == -1.0
    assert batch["value_mask"].sum() == 3
    assert batch["final_pos"].tolist() == [g.step_ends[-1], b.step_ends[-1]]
    assert batch["rewards"].tolist() == [1.0, -1.0]


def test_training_prompt_is_the_inference_prompt_of_the_problem():
    # a HumanEval-like problem: format_question adds the code prompt and the entry point's name;
    # paths store that text, so the trained model is prompted as adaptive inference prompts it
    problem = Problem(id="t", question="Add two numbers.", prompt="def add(a, b):\n",
                      tests=Tests(kind="call", cases=[{"input": [1, 2], "output": 3}], fn_name="plus"))
    shown = format_question(problem)
    assert "def add(a, b):" in shown and "`plus`" in shown
    assert step_user_message(shown) == exploration_prompt(problem, (), ())[0]


def test_inference_reads_each_value_where_training_put_its_target(fmt):
    # beam search and MCTS score a state from the last token of prompt + value_prefix(steps); that
    # token must be the one training put the step's target on, with the same tokens before it
    path = TrainPath("a", QUESTION, [PLAN, PLAN.replace("1.", "2."), CODE_OK], [0.1, 0.2, 1.0], 1.0, "mcts")
    ex = tokenize_path(path, fmt, 512)
    for i, end in enumerate(ex.step_ends):
        state = fmt.encode(fmt.chat_prompt(step_user_message(QUESTION),
                                           assistant_prefix=value_prefix(path.steps[:i + 1], i == 2)))
        assert len(state) - 1 == end and state == ex.input_ids[:end + 1], i


def test_truncation_drops_cut_steps_and_overlong_prompts(fmt):
    path = TrainPath("a", QUESTION, [PLAN, CODE_OK], [0.5, 1.0], 1.0, "mcts")
    full = tokenize_path(path, fmt, 512)
    # room for the first step only
    cut = tokenize_path(path, fmt, full.step_ends[0] + 3)
    assert len(cut.input_ids) == full.step_ends[0] + 3
    assert cut.step_ends == full.step_ends[:1] and cut.n_steps == 2
    no_steps = Example(full.input_ids, full.prompt_len, [], [], 0, 1.0, "a")  # an SFT example
    batch = Collator(0)([cut, no_steps])
    assert batch["final_pos"].tolist() == [-1, -1]  # no final value to judge the path by
    assert batch["value_mask"][1].sum() == 0
    assert (batch["labels"][1] != IGNORE).sum() == len(full.input_ids) - full.prompt_len
    assert tokenize_path(path, fmt, full.prompt_len) is None
    assert len(tokenize_paths([path, path], fmt, full.prompt_len)) == 0


def test_overlong_drop_removes_a_path_that_does_not_fit_instead_of_truncating(fmt):
    # train.overlong=drop, the authors' train_multi.py 121-128 + 283-287 (docs/fidelity.md, item 6)
    path = TrainPath("a", QUESTION, [PLAN, CODE_OK], [0.5, 1.0], 1.0, "mcts")
    full = tokenize_path(path, fmt, 512)
    n = len(full.input_ids)
    assert tokenize_path(path, fmt, n, "drop").input_ids == full.input_ids  # fits exactly: kept whole
    assert tokenize_path(path, fmt, n - 1, "drop") is None
    assert len(tokenize_path(path, fmt, n - 1, "truncate").input_ids) == n - 1
    assert tokenize_paths([path, path], fmt, n - 1, "drop") == []


def test_heldout_split_is_by_problem_and_deterministic():
    class E:
        def __init__(self, pid):
            self.problem_id = pid

    exs = [E(f"p{i % 10}") for i in range(40)]
    tr, ho = split_heldout(exs, 0.2, seed=1)
    assert {e.problem_id for e in tr}.isdisjoint({e.problem_id for e in ho})
    assert len({e.problem_id for e in ho}) == 2 and len(tr) + len(ho) == 40
    assert [e.problem_id for e in split_heldout(exs, 0.2, seed=1)[1]] == [e.problem_id for e in ho]
    assert split_heldout(exs[:4], 0.1, seed=0)[1]  # at least one problem held out
    assert not split_heldout(exs, 0.0, seed=0)[1]


def test_batch_plan_is_a_function_of_seed_epoch_and_index():
    plan = BatchPlan(n_examples=7, batch_size=3, seed=5)
    assert plan.per_epoch == 3
    epoch0 = [plan.micro_batch(k) for k in range(3)]
    assert sorted(i for mb in epoch0 for i in mb) == list(range(7))
    again = BatchPlan(7, 3, 5)
    assert [again.micro_batch(k) for k in (4, 0, 1, 2)] == [plan.micro_batch(4), *epoch0]
    assert [plan.micro_batch(k) for k in range(3, 6)] != epoch0  # reshuffled each epoch


def test_read_paths_names_file_and_line(tmp_path):
    p = tmp_path / "stage1.jsonl"
    good = make_paths(1)[0].to_dict()
    bad = dict(good, q_values=[1.0])
    p.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(DataError, match=r"stage1.jsonl:2: .*q_values"):
        read_paths(p)
    p.write_text(json.dumps(good) + "\n")
    assert read_paths(p)[0].steps == good["steps"]


def test_roc_auc_matches_pairwise_definition():
    scores = [0.9, 0.1, 0.4, 0.4, -0.3, 0.8]
    pos = [True, False, True, False, False, True]
    pairs = [(s, t) for s, p in zip(scores, pos) if p for t, q in zip(scores, pos) if not q]
    expected = sum(1.0 if s > t else 0.5 if s == t else 0.0 for s, t in pairs) / len(pairs)
    assert roc_auc(scores, pos) == pytest.approx(expected)
    assert roc_auc([0.1, 0.2], [True, True]) is None
    m = value_metrics([0.5, -0.2, 0.3], [1.0, -1.0, -1.0])
    assert m["value_acc"] == pytest.approx(2 / 3) and m["value_auc"] == 1.0


def test_losses_on_hand_made_tensors():
    from seer.model.losses import kl_sum, nll_sum, value_sq_sum

    torch.manual_seed(0)
    logits = torch.randn(2, 4, 5)
    labels = torch.tensor([[IGNORE, 3, 1, IGNORE], [IGNORE, IGNORE, IGNORE, IGNORE]])
    s, n = nll_sum(logits, labels)
    manual = -(torch.log_softmax(logits[0, 0], -1)[3] + torch.log_softmax(logits[0, 1], -1)[1])
    assert n == 2 and s.item() == pytest.approx(manual.item(), rel=1e-6)
    assert nll_sum(logits, torch.full_like(labels, IGNORE))[1] == 0
    values = torch.tensor([[0.1, 0.2, 0.3, 0.4]])
    sq, n = value_sq_sum(values, torch.tensor([[9.0, 1.0, 9.0, -1.0]]), torch.tensor([[False, True, False, True]]))
    assert n == 2 and sq.item() == pytest.approx(0.8 ** 2 + 1.4 ** 2)
    kl, n = kl_sum(logits, logits.clone(), labels)
    assert n == 2 and kl.item() == pytest.approx(0.0, abs=1e-6)
    assert kl_sum(logits, torch.zeros_like(logits), labels)[0].item() > 0
