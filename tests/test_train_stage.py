import json

import pytest
from omegaconf import OmegaConf
from train_fixtures import (
    CODE_BAD,
    CODE_OK,
    PLAN,
    QUESTION,
    TINY_OVERRIDES,
    make_paths,
    one_thread,  # noqa: F401 (a fixture, used by pytestmark)
    tiny_cfg,
)

from seer.cli import main
from seer.data.jsonl import read_jsonl, write_jsonl
from seer.data.schemas import Problem, Tests, TrainPath
from seer.stages.train import balance_and_mix, checkpoint_dir, direct_prompt_parts, label_direct

pytestmark = pytest.mark.usefixtures("one_thread")


def _seer(stage, *args):
    assert main([stage, *TINY_OVERRIDES, *args]) == 0


def test_cli_trains_both_stages_and_the_backend_loads_them(tiny_model_dir, tmp_path):
    data = tmp_path / "train/stage1.jsonl"
    write_jsonl(data, [p.to_dict() for p in make_paths(4)])
    m1, m2 = tmp_path / "models/stage1", tmp_path / "models/stage2"
    _seer("train", "train.stage=1", "train.epochs=1", "train.save_every=1", f"io.data={data}", f"io.out={m1}")
    names = {p.name for p in m1.iterdir()}
    assert {"policy_value.json", "adapter", "value_head.safetensors", "metrics.json", "config.yaml"} <= names
    assert not checkpoint_dir(m1).exists()  # removed once the model is saved
    metrics = json.loads((m1 / "metrics.json").read_text())
    assert metrics["stage"] == 1 and metrics["n_train"] == 6 and metrics["n_heldout"] == 2
    assert metrics["steps"] == 3 and "heldout/value_mse" in metrics and "train/kl" not in metrics
    resolved = OmegaConf.load(m1 / "config.yaml")
    assert resolved.train.stage == 1 and resolved.io.out == str(m1) and resolved.model.name == "tiny"

    _seer("train", "train.stage=2", "train.max_steps=2", "train.nll_weight=0.1", f"io.data={data}",
          f"io.ref_model={m1}", f"io.out={m2}")
    metrics2 = json.loads((m2 / "metrics.json").read_text())
    assert metrics2["stage"] == 2 and metrics2["steps"] == 2 and "train/kl" in metrics2
    assert json.loads((m2 / "policy_value.json").read_text())["stage"] == 2

    from seer.model.factory import load_policy

    for d in (m1, m2):
        policy = load_policy(tiny_cfg(), str(d))
        assert policy.has_value_head
        values = policy.value([policy.chat_prompt("add one") + PLAN, "x"])
        assert len(values) == 2 and all(-1 < v < 1 for v in values)


def test_cli_reports_missing_inputs(tiny_model_dir, tmp_path, capsys):
    assert main(["train", *TINY_OVERRIDES, "train.stage=2", f"io.data={tmp_path}/x.jsonl",
                 f"io.out={tmp_path}/m"]) == 1
    assert "io.ref_model is required" in capsys.readouterr().err


def test_balance_and_mix():
    def direct(pid, ok):
        r = 1.0 if ok else -1.0
        return TrainPath(pid, QUESTION, [CODE_OK if ok else CODE_BAD], [r], r, "direct")

    d = [direct(f"p{i}", i < 2) for i in range(7)]  # 2 correct, 5 incorrect
    stage1 = make_paths(10)
    mix = balance_and_mix(d, stage1, seed=0)
    ds = [p for p in mix if p.source == "direct"]
    assert sum(p.correct for p in ds) == 2 and len(ds) == 4  # balanced
    assert len(mix) == 8  # 1:1 with stage-1 paths
    assert mix == balance_and_mix(d, stage1, seed=0) and mix != balance_and_mix(d, stage1, seed=1)
    one_class = balance_and_mix(d[2:], stage1, seed=0)  # nothing correct: keep all, with a warning
    assert sum(p.source == "direct" for p in one_class) == 5
    with pytest.raises(ValueError, match="no direct samples"):
        balance_and_mix([], stage1, seed=0)


def test_direct_samples_are_labelled_by_the_tests():
    problem = Problem(id="add", question=QUESTION, tests=Tests(kind="assert", cases=["assert add_one(1) == 2"]),
                      entry_point="add_one")
    user, prefix = direct_prompt_parts(problem)
    assert "add_one" in user and prefix.endswith("<code>\n```python\n")
    conts = ["def add_one(x):\n    return x + 1\n```\n</code>\n</step>",
             "def add_one(x):\n    return x - 1\n```\n</code>\n</step>",
             "def add_one(x:\n```\n</code>\n</step>"]  # does not parse: -1 without running
    paths = label_direct(tiny_cfg(), [problem], [conts])
    assert [p.reward for p in paths] == [1.0, -1.0, -1.0]
    assert all(p.source == "direct" and p.q_values == [p.reward] and len(p.steps) == 1 for p in paths)
    assert paths[0].steps[0] == CODE_OK


@pytest.mark.slow
def test_cli_direct_samples_end_to_end(tiny_model_dir, tmp_path):
    """The tiny random model writes nonsense: every sample is -1, the mix still forms."""
    seed = tmp_path / "seed.jsonl"
    probs = [Problem(id=f"p{i}", question=QUESTION, tests=Tests(kind="assert", cases=["assert add_one(1) == 2"]))
             for i in range(2)]
    write_jsonl(seed, [p.to_dict() for p in probs])
    data = tmp_path / "stage1.jsonl"
    write_jsonl(data, [p.to_dict() for p in make_paths(3)])
    m1 = tmp_path / "stage1"
    _seer("train", "train.max_steps=1", f"io.data={data}", f"io.out={m1}")
    direct, mix = tmp_path / "direct.jsonl", tmp_path / "stage2.jsonl"
    _seer("direct_samples", "train.direct_n=2", "explore.max_step_tokens=16", f"io.model={m1}", f"io.seed={seed}",
          f"io.data={data}", f"io.samples={direct}", f"io.out={mix}")
    d = read_jsonl(direct, TrainPath.from_dict)
    assert len(d) == 4 and {p.problem_id for p in d} == {"p0", "p1"}
    assert all(p.steps[0].startswith("<step>\n<code>") for p in d)
    m = read_jsonl(mix, TrainPath.from_dict)
    assert sum(p.source == "direct" for p in m) == 4 and len(m) == 8


def test_training_on_a_bf16_base_keeps_the_trained_weights_in_float32(tiny_model_dir, tmp_path):
    """model.dtype=auto is bf16 on CPUs with native bf16 (the quickstart): the frozen base runs in bf16,
    the LoRA and value head train in fp32 and both stages save and load."""
    import math

    import torch
    from safetensors.torch import load_file

    data = tmp_path / "stage1.jsonl"
    write_jsonl(data, [p.to_dict() for p in make_paths(4)])
    m1, m2 = tmp_path / "stage1", tmp_path / "stage2"
    _seer("train", "model.dtype=bfloat16", "train.stage=1", "train.max_steps=2", f"io.data={data}", f"io.out={m1}")
    _seer("train", "model.dtype=bfloat16", "train.stage=2", "train.max_steps=2", f"io.data={data}",
          f"io.ref_model={m1}", f"io.out={m2}")
    for m in (m1, m2):
        metrics = json.loads((m / "metrics.json").read_text())
        assert metrics["steps"] == 2 and all(math.isfinite(v) for v in metrics.values() if isinstance(v, float))
        adapter = load_file(str(m / "adapter" / "adapter_model.safetensors"))
        assert adapter and all(t.dtype == torch.float32 for t in adapter.values())
        assert all(t.dtype == torch.float32 for t in load_file(str(m / "value_head.safetensors")).values())
