"""CoT/ToT thinking generators, the cleaning rule, think2code and the SFT adapter."""
import re

import pytest

from seer.config import SraConfig, compose
from seer.data.jsonl import read_jsonl, write_jsonl
from seer.data.schemas import Problem, SchemaError, SftRecord, Tests
from seer.llm.prompts import cot_prompt
from seer.llm.thinking_prompts import enough_words, sft_turn, strip_code
from seer.search.shards import partial_path
from seer.search.thinking import CotThinking, TotThinking
from seer.stages import thinking as stages
from tests.fakes import FakeExecutor, ScriptedPolicy, exec_judge
from tests.test_sra import kind, n_steps

TESTS = Tests(kind="assert", cases=["assert one() == 1"])


def _problems(n, tests=TESTS):
    return [Problem(id=f"p{i}", question=f"Problem number {i}.\n\n**Example 1:** one() -> 1", tests=tests)
            for i in range(n)]


# --- CoT ----------------------------------------------------------------------------------------

def test_cot_is_one_call_per_batch_and_keeps_the_numbered_plan():
    policy = ScriptedPolicy(lambda p, c, j: " Read it.\n2. Return one.\n```python\ndef one():\n    return 1\n```")
    out = []
    CotThinking(policy, SraConfig(), batch_problems=3, max_tokens=64)(_problems(5), out.append)
    assert [len(p) for p, _ in policy.calls] == [3, 2]
    assert all(p.endswith("Let's think step by step.\n1.") for p in policy.calls[0][0])
    req = policy.calls[0][1]
    assert (req.temperature, req.top_p, req.max_tokens) == (0.9, 0.98, 64)
    assert [r["problem_id"] for r in out] == [f"p{i}" for i in range(5)]
    assert out[0]["thinking"].startswith("1. Read it.\n2. Return one.\n```python")
    assert strip_code(out[0]["thinking"]) == "1. Read it.\n2. Return one."


# --- ToT ----------------------------------------------------------------------------------------

def tot_script(gate_at=None):
    """Candidate j at depth d is "p<i> d<d> c<j>"; its score is 5 + j (so c2 wins), or 10 at depth
    `gate_at`."""
    counters = {}

    def script(prompt, call, j):
        pid = re.search(r"Problem number (\d+)", prompt).group(1)
        if kind(prompt) == "evaluate":
            steps = re.findall(r"^Step (\d+): p\d+ d\d+ c(\d)", prompt, re.MULTILINE)
            depth, cand = int(steps[-1][0]), int(steps[-1][1])
            if gate_at is not None and depth == gate_at:
                return " yes\n2. Coherence: yes\n3. Completeness: yes\n4. Solution correctness: yes\nScore: 10"
            return f" yes\n2. Coherence: yes\n3. Completeness: no\nScore: {5 + cand}"
        key = (pid, n_steps(prompt), call)
        counters[key] = counters.get(key, -1) + 1
        return f" p{pid} d{n_steps(prompt) + 1} c{counters[key]}\n"
    return script


def test_tot_level_is_one_proposal_call_and_one_evaluation_call():
    policy = ScriptedPolicy(tot_script())
    tot = TotThinking(policy, SraConfig(), batch_problems=2, depth=3, branching=3, end_gate=8.8)
    out = []
    tot(_problems(2), out.append)
    assert [kind(p[0]) for p, _ in policy.calls] == ["propose", "evaluate"] * 3
    assert [len(p) for p, _ in policy.calls] == [6, 6] * 3  # 2 problems x 3 candidates
    # the best candidate (c2, score 7) is descended into at every level; no gate: best node = deepest 7
    assert out[0]["steps"] == ["p0 d1 c2", "p0 d2 c2", "p0 d3 c2"] and out[0]["ended"] is False
    assert out[1]["thinking"] == "1. p1 d1 c2\n2. p1 d2 c2\n3. p1 d3 c2"
    assert out[0]["stats"]["nodes"] == 1 + 3 * 3 and tot.engine.rounds == 6


def test_tot_stops_at_the_end_gate():
    policy = ScriptedPolicy(tot_script(gate_at=2))
    out = []
    TotThinking(policy, SraConfig(), depth=4, branching=2, end_gate=8.8)(_problems(1), out.append)
    assert len(policy.calls) == 4  # two levels, then the gate
    assert out[0]["ended"] is True and out[0]["steps"] == ["p0 d1 c1", "p0 d2 c0"]


def test_tot_redraws_duplicate_candidates():
    # the first call draws "same" for all three candidates; each re-draw is new
    drawn = []

    def script(prompt, call, j):
        if kind(prompt) == "evaluate":
            return " no\nScore: 1"
        drawn.append(call)
        return " same\n" if call == 0 else f" other {len(drawn)}\n"
    policy = ScriptedPolicy(script)
    out = []
    TotThinking(policy, SraConfig(max_retries=2), depth=1, branching=3, end_gate=8.8)(_problems(1), out.append)
    steps = [c["step"] for c in out[0]["tree"]["children"]]
    assert steps[0] == "same" and len(steps) == 3 and len(set(steps)) == 3
    assert [len(p) for p, _ in policy.calls if kind(p[0]) == "propose"] == [3, 2]


# --- cleaning and the SFT turn --------------------------------------------------------------------

def test_sft_turn_matches_the_cot_inference_prompt():
    p = _problems(1)[0]
    user, response = sft_turn(p, "1. Read it.\n2. Return one.", "def one():\n    return 1")
    infer_user, infer_prefix = cot_prompt(Problem(id="b", question="Problem number 0.", tests=TESTS))
    assert user == infer_user  # the question lost its examples, as in the authors' SFT data
    assert response.startswith(infer_prefix)
    assert response.endswith("2. Return one.\n```python\ndef one():\n    return 1\n```")
    assert enough_words("one two three", 3) and not enough_words("one two", 3)


# --- stages ---------------------------------------------------------------------------------------

def test_think2code_pieces_clean_write_verify(tmp_path):
    problems = {p.id: p for p in _problems(3)}
    recs = [{"problem_id": "p0", "method": "sra", "thinking": "1. Define one.\n2. Return the number one from it."},
            {"problem_id": "p1", "method": "cot", "thinking": "1. Short.\n```python\nx = 1 + 2 + 3 + 4 + 5 + 6\n```"},
            {"problem_id": "p2", "method": "tot", "thinking": "1. Write a function one that returns 1 always."}]
    kept, counts = stages.clean_thinking(recs, problems, min_words=6, where="t.jsonl")
    assert counts == {"records": 3, "dropped_short": 1} and [p.id for p, _, _ in kept] == ["p0", "p2"]
    with pytest.raises(ValueError, match=r"t.jsonl:1: problem 'zz'"):
        stages.clean_thinking([{"problem_id": "zz", "method": "sra", "thinking": "x"}], problems, 1, "t.jsonl")

    answers = {"p0": "def one():\n    return 1\n```", "p2": "def one():\n    return 2\n```"}
    policy = ScriptedPolicy(lambda prompt, c, j: answers[re.search(r"Problem number (\d)", prompt).group(0)
                                                          .replace("Problem number ", "p")])
    codes = stages.write_code(policy, kept, temperature=0.0, max_tokens=64, seed=0)
    assert codes == ["def one():\n    return 1", "def one():\n    return 2"]
    assert policy.calls[0][0][0].endswith("```python\n") and "### Solution:\n1. Define one." in policy.calls[0][0][0]
    records = stages.build_records(kept, codes, "h")
    assert [r.method for r in records] == ["sra", "tot"] and records[0].config_hash == "h"
    ex = FakeExecutor(exec_judge)
    passed = stages.verify(records, problems, ex)
    assert [r.problem_id for r in passed] == ["p0"] and [r.passed for r in records] == [True, False]
    no_tests = {"p0": _problems(1, Tests(kind="assert", cases=[]))[0], "p2": problems["p2"]}
    assert stages.verify(stages.build_records(kept, codes, "h"), no_tests, FakeExecutor(exec_judge)) == []


def test_sft_record_schema_names_bad_methods():
    with pytest.raises(SchemaError, match="method"):
        SftRecord.from_dict({"problem_id": "p", "method": "seer", "question": "q", "thinking": "t", "code": "c",
                             "prompt": "p", "response": "r"})


def test_thinking_data_stage_is_sharded_and_resumable(tmp_path, monkeypatch):
    from tests.test_sra import make_script

    seed = tmp_path / "seed.jsonl"
    write_jsonl(seed, _problems(5))
    built = []

    def fake_build(cfg):
        built.append(ScriptedPolicy(make_script()))
        return built[-1]
    monkeypatch.setattr("seer.model.factory.load_policy", fake_build)
    out = tmp_path / "thinking/sra/shard-1.jsonl.gz"
    cfg = compose(["explore.method=sra", "explore.shards=2", "shard=1", "explore.sra.iterations=2",
                   f"io.seed={seed}", f"io.out={out}", "stage=thinking_data"])
    stages.thinking_data(cfg)
    recs = read_jsonl(out)
    assert [r["problem_id"] for r in recs] == ["p1", "p3"] and len(built) == 1
    assert all(r["method"] == "sra" and r["thinking"].startswith("1. ") for r in recs)
    assert not partial_path(out).exists()
    # killed after p1: the rerun explores only p3 and keeps p1's record as it was
    out.unlink()
    write_jsonl(partial_path(out), recs[:1])
    stages.thinking_data(cfg)
    final = read_jsonl(out)
    assert final[0] == recs[0] and final[1]["problem_id"] == "p3" and len(built) == 2
    assert all("Problem number 3" in p for prompts, _ in built[1].calls for p in prompts)
    cfg.explore.method = "seer"
    with pytest.raises(ValueError, match="sra, cot, tot"):
        stages.thinking_data(cfg)


def test_sft_adapter_and_stage_on_the_tiny_model(tmp_path, tiny_model_dir):
    import json

    from seer.llm.hf_backend import TransformersPolicy
    from seer.llm.load import load_model_and_tokenizer
    from seer.train.data import Collator
    from seer.train.sft import sft_example, sft_train_config

    p = _problems(1)[0]
    user, response = sft_turn(p, "1. Define one.\n2. Return 1.", "def one():\n    return 1")
    rec = SftRecord("p0", "sra", p.question, "t", "c", user, response)
    cfg = compose(["model=tiny", "backend.progress=false"])
    model, tok = load_model_and_tokenizer(cfg.model, device="cpu")
    fmt = TransformersPolicy(model, tok, progress=False)
    ex = sft_example(rec, fmt, max_length=512)
    assert ex.input_ids[:ex.prompt_len] == fmt.encode(fmt.chat_prompt(user))
    assert tok.decode(ex.input_ids[ex.prompt_len:], skip_special_tokens=True) == response
    assert ex.input_ids[-1] == tok.eos_token_id
    batch = Collator(pad_id=0)([ex])
    assert (batch["labels"][0, ex.prompt_len:] == batch["input_ids"][0, ex.prompt_len:]).all()
    assert (batch["labels"][0, :ex.prompt_len] == -100).all()
    assert not batch["value_mask"].any() and int(batch["final_pos"][0]) == -1
    assert sft_example(rec, fmt, max_length=ex.prompt_len) is None
    # train.max_steps=0: the quickstart default caps training, which would cap the warmup too
    tc = sft_train_config(compose(["train.max_steps=0", "train.sft.batch_size=2", "train.sft.epochs=2",
                                   "train.sft.grad_accum=1", "train.sft.warmup_ratio=0.25"]).train, n_examples=8)
    assert (tc.beta, tc.stage, tc.batch_size, tc.warmup_steps, tc.lr) == (0.0, 1, 2, 2, 1e-4)  # 8 steps

    data = tmp_path / "sft.jsonl"
    write_jsonl(data, [SftRecord(f"p{i}", "sra", p.question, "t", "c", user, response) for i in range(4)])
    out = tmp_path / "models/sft-sra"
    cfg = compose(["model=tiny", "tracking=disabled", "backend.progress=false", "train.lora.r=2", "train.lora.alpha=4",
                   "train.max_length=256", "train.sft.batch_size=2", "train.sft.epochs=1",
                   f"io.data={data}", f"io.out={out}", "stage=sft"])
    metrics = stages.sft(cfg)
    assert metrics["train/value_mse"] == 0.0 and metrics["train/nll"] > 0 and metrics["steps"] == 2
    assert json.loads((out / "metrics.json").read_text())["n_records"] == 4
    assert (out / "adapter").is_dir() and not (tmp_path / "models/sft-sra.ckpt").exists()
