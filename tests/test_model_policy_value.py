import json

import pytest
import torch
from train_fixtures import (
    CODE_OK,
    PLAN,
    one_thread,  # noqa: F401 (a fixture, used by pytestmark)
    tiny_cfg,
)

from seer.model.value_policy import as_policy
from seer.model.factory import load_policy
from seer.model.losses import IGNORE, kl_sum
from seer.model.policy_value import META_FILE, PolicyValueModel, create_policy_value, load_policy_value
from seer.train.trainer import seed_everything

TEXTS = ["<|im_start|>user\nadd one<|im_end|>\n<|im_start|>assistant\n" + PLAN,
         "<|im_start|>user\nadd one<|im_end|>\n<|im_start|>assistant\n" + PLAN + "\n" + CODE_OK,
         "def f(x):"]

pytestmark = pytest.mark.usefixtures("one_thread")


def _perturbed_model(seed: int = 0) -> PolicyValueModel:
    """A stage-1 model whose LoRA is not the identity (B != 0) and whose head is random."""
    seed_everything(seed)
    m = create_policy_value("tiny", tiny_cfg().train.lora)
    with torch.no_grad():
        for n, p in m.lm.named_parameters():
            if "lora_B" in n:
                p.normal_(std=0.2)
        m.value_head.linear.weight.normal_(std=0.5)
    return m.eval()


def _values(m: PolicyValueModel, texts) -> list[float]:
    """The value at each text's last token, one unpadded forward per text (the reference)."""
    out = []
    for t in texts:
        ids = torch.tensor([m.tokenizer(t, add_special_tokens=False)["input_ids"]])
        with torch.no_grad():
            out.append(m(ids).values[0, -1].item())
    return out


def _logits(m: PolicyValueModel, text: str) -> torch.Tensor:
    ids = torch.tensor([m.tokenizer(text, add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        return m(ids).logits


def test_forward_shapes_and_value_range(tiny_model_dir):
    m = _perturbed_model()
    ids = torch.tensor([m.tokenizer(TEXTS[1], add_special_tokens=False)["input_ids"]])
    out = m(ids, torch.ones_like(ids))
    assert out.logits.shape[:2] == ids.shape and out.values.shape == ids.shape
    assert out.values.abs().max() < 1.0  # tanh
    assert [n for n, _ in m.trainable_named_parameters()]  # LoRA + head train, the base is frozen
    assert all("lora_" in n or n.startswith("value_head.") for n, _ in m.trainable_named_parameters())


def test_save_load_gives_identical_values(tiny_model_dir, tmp_path):
    m = _perturbed_model()
    before = _values(m, TEXTS)
    logits = _logits(m, TEXTS[1])
    d = m.save(tmp_path / "stage1")
    assert {"adapter", "value_head.safetensors", META_FILE, "tokenizer.json"} <= {p.name for p in d.iterdir()}
    loaded = load_policy_value(d)
    assert _values(loaded, TEXTS) == before
    assert torch.equal(_logits(loaded, TEXTS[1]), logits)
    merged = load_policy_value(d, merge=True)
    assert not merged.has_adapter
    assert _values(merged, TEXTS) == pytest.approx(before, abs=1e-5)


def test_backend_policy_has_working_values(tiny_model_dir, tmp_path):
    m = _perturbed_model()
    d = m.save(tmp_path / "stage1")
    expected = _values(m, TEXTS)
    assert len({round(v, 6) for v in expected}) == len(TEXTS)
    policy = load_policy(tiny_cfg(), d)
    assert policy.has_value_head
    # the backend left-pads and encodes with its own rules; RoPE makes padding offsets harmless
    assert policy.value(TEXTS) == pytest.approx(expected, abs=1e-4)
    assert as_policy(m, progress=False).value(TEXTS) == pytest.approx(expected, abs=1e-4)


def test_merged_weights_load_without_the_base(tiny_model_dir, tmp_path):
    m = _perturbed_model()
    before = _values(m, TEXTS)
    d = m.save(tmp_path / "stage1", merged=True)
    meta = json.loads((d / META_FILE).read_text())
    (d / META_FILE).write_text(json.dumps(dict(meta, base_model=str(tmp_path / "no-such-base"))))
    assert _values(load_policy_value(d, merge=True), TEXTS) == pytest.approx(before, abs=1e-5)


def test_kl_is_zero_when_policy_equals_reference(tiny_model_dir):
    seed_everything(0)
    m = create_policy_value("tiny", tiny_cfg().train.lora)  # fresh LoRA: B = 0
    m.train()  # LoRA dropout on: still exact, the adapter adds B(A(drop(x))) = 0
    ids = torch.tensor([m.tokenizer(TEXTS[1], add_special_tokens=False)["input_ids"]])
    labels = ids.clone()
    labels[:, :5] = IGNORE
    kl, n = kl_sum(m(ids).logits, m.reference_logits(ids), labels)
    assert n == ids.shape[1] - 5 and kl.item() == 0.0
    with torch.no_grad():
        next(p for name, p in m.lm.named_parameters() if "lora_B" in name).normal_(std=0.5)
    assert kl_sum(m(ids).logits, m.reference_logits(ids), labels)[0].item() > 1e-6


def test_stage2_reference_is_the_stage1_model(tiny_model_dir, tmp_path):
    stage1 = _perturbed_model()
    d1 = stage1.save(tmp_path / "stage1")
    ref_values, ref_logits = _values(stage1, TEXTS), _logits(stage1, TEXTS[1])
    s2 = load_policy_value(d1, new_lora=tiny_cfg().train.lora)
    assert s2.meta["stage"] == 2 and s2.has_adapter
    assert s2.value_head.linear.weight.requires_grad  # the head continues from stage 1
    ids = torch.tensor([s2.tokenizer(TEXTS[1], add_special_tokens=False)["input_ids"]])
    assert torch.allclose(s2.reference_logits(ids), ref_logits, atol=1e-5)
    with torch.no_grad():
        for n, p in s2.lm.named_parameters():
            if "lora_B" in n:
                p.normal_(std=0.2)
    s2.eval()
    d2 = s2.save(tmp_path / "stage2")
    meta = json.loads((d2 / META_FILE).read_text())
    assert meta["base_adapters"] == ["base_adapters/0"] and (d2 / "base_adapters/0").is_dir()
    expected = _values(s2, TEXTS)
    assert expected != pytest.approx(ref_values, abs=1e-4)
    # the stage-2 directory is self-contained: stage 1 may be gone
    import shutil

    shutil.rmtree(d1)
    assert _values(load_policy_value(d2), TEXTS) == pytest.approx(expected, abs=1e-5)
    assert _values(load_policy_value(d2, merge=True), TEXTS) == pytest.approx(expected, abs=1e-5)
