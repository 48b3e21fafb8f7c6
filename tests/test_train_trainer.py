import pytest
import torch
from train_fixtures import (
    make_paths,
    one_thread,  # noqa: F401 (a fixture, used by pytestmark)
    tiny_cfg,
)

from seer.model.value_policy import as_policy
from seer.model.policy_value import create_policy_value
from seer.train.data import split_heldout, tokenize_paths
from seer.train.trainer import Trainer, seed_everything

pytestmark = pytest.mark.usefixtures("one_thread")


def _setup(tmp_path, *overrides, n_problems=4):
    cfg = tiny_cfg(*overrides)
    seed_everything(int(cfg.train.random_seed))
    model = create_policy_value("tiny", cfg.train.lora)
    examples = tokenize_paths(make_paths(n_problems), as_policy(model, progress=False), int(cfg.train.max_length))
    train, heldout = split_heldout(examples, float(cfg.train.heldout_fraction), int(cfg.train.random_seed))
    trainer = Trainer(model, train, heldout, cfg.train, ckpt_dir=tmp_path / "ckpt", progress=False,
                      fingerprint="test")
    return trainer, train, heldout


def test_a_few_steps_reduce_the_loss(tiny_model_dir, tmp_path):
    # one batch holding the whole training set, seen 5 times
    trainer, train, _ = _setup(tmp_path, "train.max_steps=5", "train.epochs=0", "train.beta=1.0",
                               "train.batch_size=8", "train.lr=5e-3", "train.warmup_steps=0")
    before = trainer.evaluate(train)
    metrics = trainer.fit()
    after = trainer.evaluate(train)
    assert metrics["steps"] == 5 and trainer.step == 5
    assert after["loss"] < before["loss"] and after["nll"] < before["nll"]
    assert after["value_mse"] < before["value_mse"]
    assert metrics["tokens_per_s"] > 0 and {"heldout/value_mse", "heldout/value_acc"} <= set(metrics)


def test_resume_gives_the_same_next_losses(tiny_model_dir, tmp_path):
    args = ("train.max_steps=4", "train.epochs=0", "train.grad_accum=2", "train.save_every=2")
    straight, _, _ = _setup(tmp_path / "a", *args)
    straight.fit()
    killed, _, _ = _setup(tmp_path / "b", *args)
    killed.fit(stop_after=3)  # checkpoint at step 2, then one step that is lost
    assert (tmp_path / "b/ckpt/latest/progress.json").is_file()
    # a new process: fresh model and optimizer (its random init differs), same checkpoint dir
    seed_everything(123)
    resumed, _, _ = _setup(tmp_path / "b", *args, "train.random_seed=0")
    resumed.fit()
    assert resumed.history[0]["step"] == 3
    got = [h["loss"] for h in resumed.history]
    want = [h["loss"] for h in straight.history[2:]]
    assert got == pytest.approx(want, rel=1e-6, abs=1e-7)
    a, b = straight.model.trainable_state_dict(), resumed.model.trainable_state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_a_changed_config_does_not_resume(tiny_model_dir, tmp_path):
    first, _, _ = _setup(tmp_path, "train.max_steps=2", "train.epochs=0", "train.save_every=1")
    first.fit(stop_after=1)
    other, _, _ = _setup(tmp_path, "train.max_steps=2", "train.epochs=0", "train.save_every=1")
    other.fingerprint = "another config"
    assert not other.try_resume() and other.step == 0


def test_accumulation_matches_one_big_batch(tiny_model_dir, tmp_path):
    """Token-level means over the whole group: 2 x 2 accumulated = one batch of 4."""
    common = ("train.max_steps=1", "train.epochs=0", "train.lora.dropout=0.0", "train.heldout_fraction=0")
    big, _, _ = _setup(tmp_path / "big", *common, "train.batch_size=4", "train.grad_accum=1")
    acc, _, _ = _setup(tmp_path / "acc", *common, "train.batch_size=2", "train.grad_accum=2")
    big.fit(), acc.fit()
    assert acc.history[0]["loss"] == pytest.approx(big.history[0]["loss"], rel=1e-5)
    a, b = big.model.trainable_state_dict(), acc.model.trainable_state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


def test_stage2_loss_has_kl_and_starts_at_zero_kl(tiny_model_dir, tmp_path):
    from seer.model.policy_value import load_policy_value

    trainer, train, heldout = _setup(tmp_path, "train.max_steps=2", "train.epochs=0")
    trainer.fit()
    d = trainer.model.save(tmp_path / "stage1")
    cfg = tiny_cfg("train.stage=2", "train.max_steps=2", "train.epochs=0", "train.kl_weight=1.0",
                   "train.nll_weight=0.5", "train.warmup_steps=0")
    s2 = load_policy_value(d, new_lora=cfg.train.lora)
    t2 = Trainer(s2, train, heldout, cfg.train, ckpt_dir=tmp_path / "ckpt2", progress=False)
    start = t2.evaluate(train)
    assert start["kl"] == pytest.approx(0.0, abs=1e-7)
    assert start["loss"] == pytest.approx(0.5 * start["nll"] + cfg.train.beta * start["value_mse"], rel=1e-6)
    t2.fit()
    assert t2.history[-1]["kl"] > 0  # the new adapter moved away from the reference
    no_kl = Trainer(load_policy_value(d, new_lora=cfg.train.lora), train, heldout,
                    tiny_cfg("train.stage=2", "train.kl_weight=0").train, ckpt_dir=tmp_path / "c3", progress=False)
    assert "kl" not in no_kl.evaluate(train)  # the ablation skips the reference forward


def test_heldout_value_auc_is_recorded(tiny_model_dir, tmp_path, capsys):
    trainer, _, heldout = _setup(tmp_path, "train.epochs=1", "train.batch_size=4", "train.beta=5.0",
                                 n_problems=8)
    metrics = trainer.fit()
    assert len({e.problem_id for e in heldout}) == 2
    assert 0.0 <= metrics["heldout/value_auc"] <= 1.0 and metrics["heldout/n_paths"] == len(heldout)
    with capsys.disabled():
        print(f"\n[record] tiny model, {trainer.step} steps: held-out value AUC "
              f"{metrics['heldout/value_auc']:.3f}, acc {metrics['heldout/value_acc']:.3f}")


def test_metrics_go_to_the_tracker(tiny_model_dir, tmp_path):
    class Recorder:
        def __init__(self):
            self.logged = []

        def log(self, metrics, step=None):
            self.logged.append((step, metrics))

    trainer, _, _ = _setup(tmp_path, "train.max_steps=2", "train.epochs=0")
    trainer.tracker = Recorder()
    trainer.fit()
    steps = [s for s, m in trainer.tracker.logged if "train/loss" in m]
    assert steps == [1, 2]
    first = trainer.tracker.logged[0][1]
    assert {"train/nll", "train/value_mse", "train/lr", "train/tokens_per_s"} <= set(first)
    assert any("heldout/value_acc" in m for _, m in trainer.tracker.logged)  # the final evaluation


def test_gradient_checkpointing_gives_the_same_step(tiny_model_dir, tmp_path):
    common = ("train.max_steps=1", "train.epochs=0", "train.lora.dropout=0.0", "train.warmup_steps=0")
    plain, _, _ = _setup(tmp_path / "a", *common)
    ckpt, _, _ = _setup(tmp_path / "b", *common, "train.gradient_checkpointing=true")
    plain.fit(), ckpt.fit()
    assert ckpt.model.lm.is_gradient_checkpointing
    assert ckpt.history[0]["loss"] == pytest.approx(plain.history[0]["loss"], rel=1e-6)
    a, b = plain.model.trainable_state_dict(), ckpt.model.trainable_state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
