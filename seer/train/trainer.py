"""The training loop of both SEER stages (docs/method.md section 4).

loss = nll_weight * NLL(correct paths' response tokens)
     + beta * MSE(value at each step's last token, Q)            (masked where Q is None)
     + kl_weight * KL(pi_theta || pi_ref) on the same label tokens (stage 2; pi_ref = the model with
                                                                   its trainable adapter disabled)
Stage 1 fixes nll_weight = 1 and kl_weight = 0; stage 2 reads both from the config.

`train.loss_norm`: token_group - every term is a token-level mean over the whole gradient-
accumulation group, so the effective batch behaves like one big batch; sequence - each sequence's
terms are its own token means (an incorrect path's NLL is 0) and the group averages sequences, as
the authors' trainer did with one sequence per micro-batch. Either way the normaliser counts the
whole group, which lets several processes split a group and sum their gradients
(seer.train.distributed). Each micro-batch draws its dropout masks from its own seed, so a
micro-batch trains the same whichever process runs it, and after a resume.
Checkpoints (trainable weights, optimizer, scheduler, RNG states, step) are written every
`save_every` optimizer steps; `fit` resumes from the latest one.
"""
from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from seer import progress
from seer.model.losses import IGNORE, kl_rows, nll_rows, sequence_mean, value_sq_rows
from seer.model.policy_value import PolicyValueModel
from seer.train.data import BatchPlan, Collator, Example
from seer.train.distributed import Dist, batch_layout
from seer.train.metrics import value_metrics

log = logging.getLogger(__name__)

CKPT_NAME = "latest"


@dataclass(frozen=True)
class LossWeights:
    nll: float
    beta: float
    kl: float

    @classmethod
    def for_stage(cls, stage: int, tcfg: Any) -> "LossWeights":
        if stage == 1:
            return cls(nll=1.0, beta=float(tcfg.beta), kl=0.0)
        if stage == 2:
            return cls(nll=float(tcfg.nll_weight), beta=float(tcfg.beta), kl=float(tcfg.kl_weight))
        raise ValueError(f"train.stage must be 1 or 2, got {stage!r}")


def group_share(term: str, rows: tuple[torch.Tensor, torch.Tensor], counts: tuple[int, int, int],
                loss_norm: str) -> torch.Tensor:
    """A micro-batch's share of a loss term of its accumulation group. ``rows``: per-sequence sums
    and counts of the term; ``counts``: the group's label tokens, value targets and sequences.
    token_group: sum / the group's tokens (or value targets); sequence: sum of per-sequence means /
    the group's sequences."""
    n_label, n_value, n_seq = counts
    if loss_norm == "sequence":
        return sequence_mean(rows) / max(n_seq, 1)
    return rows[0].sum() / max(n_value if term == "value_mse" else n_label, 1)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def use_bf16(requested: bool, device: str) -> bool:
    # autocast on capable GPUs only; a CPU gets bf16 through model.dtype=auto (a bf16 base where the CPU
    # computes bf16 natively, seer.llm.load.torch_dtype), which needs no autocast
    return requested and device.startswith("cuda") and torch.cuda.is_bf16_supported()


def make_optimizer(params: list[torch.nn.Parameter], tcfg: Any) -> torch.optim.Optimizer:
    if tcfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=tcfg.lr, weight_decay=0.0)
    if tcfg.optimizer == "adafactor":
        from transformers.optimization import Adafactor

        # a fixed, externally scheduled lr (the paper's linear schedule), not Adafactor's relative step
        return Adafactor(params, lr=tcfg.lr, scale_parameter=False, relative_step=False, warmup_init=False)
    raise ValueError(f"train.optimizer must be adamw or adafactor, got {tcfg.optimizer!r}")


class Trainer:
    """Trains `model` on `train` examples; evaluates on `heldout`; checkpoints into `ckpt_dir`.

    `fingerprint` identifies the run (config + data); a checkpoint with another fingerprint is
    ignored, so a changed config never resumes a stale run.
    """

    def __init__(self, model: PolicyValueModel, train: Sequence[Example], heldout: Sequence[Example], tcfg: Any,
                 *, ckpt_dir: str | Path, device: str = "cpu", tracker: Any = None, fingerprint: str = "",
                 progress: bool = True, dist: Dist | None = None) -> None:
        if not train:
            raise ValueError("no training examples")
        self.model = model
        self.train_set, self.heldout = list(train), list(heldout)
        self.tcfg = tcfg
        self.stage = int(tcfg.stage)
        self.weights = LossWeights.for_stage(self.stage, tcfg)
        if self.weights.kl and not model.has_adapter:
            raise ValueError("kl_weight > 0 needs a LoRA on the stage-1 model (the reference is it, disabled)")
        self.ckpt_dir = Path(ckpt_dir)
        self.device = device
        self.tracker = tracker if (dist is None or dist.is_main) else None
        self.fingerprint = fingerprint
        self.dist = dist or Dist()
        self.progress = progress and self.dist.is_main
        self.layout = batch_layout(tcfg, self.dist.world)
        self.bf16 = use_bf16(bool(tcfg.bf16), device)
        self.collate = Collator(pad_id=model.tokenizer.pad_token_id or 0)
        self.plan = BatchPlan(len(self.train_set), int(tcfg.batch_size), int(tcfg.random_seed))
        self.accum = max(1, int(tcfg.grad_accum))
        micro_by_epochs = math.ceil(float(tcfg.epochs) * self.plan.per_epoch) if tcfg.epochs > 0 else 0
        max_steps = int(tcfg.max_steps)
        if micro_by_epochs == 0 and max_steps <= 0:
            raise ValueError("train.epochs or train.max_steps must be > 0")
        steps = math.ceil(micro_by_epochs / self.accum) if micro_by_epochs else max_steps
        self.total_steps = min(steps, max_steps) if max_steps > 0 else steps
        self.total_micro = min(micro_by_epochs, self.total_steps * self.accum) if micro_by_epochs \
            else self.total_steps * self.accum
        self.params = [p for _, p in model.trainable_named_parameters()]
        if not self.params:
            raise ValueError("the model has no trainable parameters")
        self.optimizer = make_optimizer(self.params, tcfg)
        from transformers import get_linear_schedule_with_warmup

        self.scheduler = get_linear_schedule_with_warmup(self.optimizer, int(tcfg.warmup_steps), self.total_steps)
        if tcfg.gradient_checkpointing:
            # non-reentrant checkpointing needs no input grads, which frozen-base LoRA lacks
            model.lm.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        self.step = 0
        self.tokens = 0
        log.info("effective batch %(effective_batch)d = micro-batch %(micro_batch)d x accumulation "
                 "%(accum_per_process)d x %(processes)d process(es)", self.layout)
        self.history: list[dict[str, float]] = []

    # ---- one group ---------------------------------------------------------------------------
    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.bf16:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _to_device(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {k: v.to(self.device) for k, v in batch.items()}

    def _forward(self, batch: dict[str, torch.Tensor],
                 counts: tuple[int, int, int]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Loss terms of one micro-batch, each normalised by its group-wide count (label tokens,
        value targets, or sequences: `_counts`), and the values."""
        with self._autocast():
            out = self.model(batch["input_ids"], batch["attention_mask"])
            terms = {"nll": nll_rows(out.logits, batch["labels"]),
                     "value_mse": value_sq_rows(out.values, batch["value_targets"], batch["value_mask"])}
            if self.weights.kl:
                ref = self.model.reference_logits(batch["input_ids"], batch["attention_mask"])
                terms["kl"] = kl_rows(out.logits, ref, batch["labels"])
        parts = {k: group_share(k, rows, counts, self.tcfg.loss_norm) for k, rows in terms.items()}
        w = self.weights
        parts["loss"] = w.nll * parts["nll"] + w.beta * parts["value_mse"] + w.kl * parts.get("kl", 0.0)
        return parts, out.values

    @staticmethod
    def _counts(batches: Sequence[dict[str, torch.Tensor]]) -> tuple[int, int, int]:
        n_label = sum(int((b["labels"][:, 1:] != IGNORE).sum()) for b in batches)
        return n_label, sum(int(b["value_mask"].sum()) for b in batches), sum(len(b["input_ids"]) for b in batches)

    def _train_step(self) -> dict[str, float]:
        self.model.train()
        first = self.step * self.accum
        ks = list(range(first, min(first + self.accum, self.total_micro)))
        group = [self.collate([self.train_set[i] for i in self.plan.micro_batch(k)]) for k in ks]
        counts = self._counts(group)
        sums: dict[str, float] = {}
        tokens = 0
        for k, weight in self.dist.my_micro_batches(ks):
            torch.manual_seed(int(self.tcfg.random_seed) * 1_000_003 + k)
            batch = self._to_device(group[k - first])
            parts, _ = self._forward(batch, counts)
            if parts["loss"].requires_grad:
                (parts["loss"] * weight).backward()
            if not weight:  # a sharded process's filler pass (seer.train.distributed): adds nothing
                continue
            for key, v in parts.items():
                sums[key] = sums.get(key, 0.0) + float(v.detach())
            tokens += int(batch["attention_mask"].sum())
        self.dist.all_reduce_grads(self.params)
        keys = ["loss", "nll", "value_mse", *(["kl"] if self.weights.kl else []), "tokens"]
        sums = self.dist.sum_floats({**sums, "tokens": float(tokens)}, keys)
        self.tokens += int(sums.pop("tokens"))
        grad_norm = (torch.nn.utils.clip_grad_norm_(self.params, self.tcfg.max_grad_norm)
                     if self.tcfg.max_grad_norm > 0 else None)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        sums["lr"] = self.scheduler.get_last_lr()[0]
        if grad_norm is not None:
            sums["grad_norm"] = float(grad_norm)
        return sums

    # ---- evaluation --------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, examples: Sequence[Example]) -> dict[str, float]:
        """Loss parts (means over the set) and value accuracy/AUC at each path's final step."""
        if not examples:
            return {}
        self.model.eval()
        bs = int(self.tcfg.batch_size)
        batches = [self.collate(examples[i:i + bs]) for i in range(0, len(examples), bs)]
        counts = self._counts(batches)
        sums: dict[str, float] = {}
        finals: list[float] = []
        rewards: list[float] = []
        for batch in batches:
            batch = self._to_device(batch)
            parts, values = self._forward(batch, counts)
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + float(v)
            keep = batch["final_pos"] >= 0
            rows = keep.nonzero().flatten()
            finals.extend(values[rows, batch["final_pos"][rows]].float().tolist())
            rewards.extend(batch["rewards"][rows].tolist())
        return {**sums, **value_metrics(finals, rewards)}

    # ---- checkpoints -------------------------------------------------------------------------
    def save_checkpoint(self) -> Path:
        """Rank 0 writes the checkpoint; every process returns once it is complete."""
        final = self.ckpt_dir / CKPT_NAME
        if self.dist.is_main:
            self._write_checkpoint()
        self.dist.barrier()
        return final

    def _write_checkpoint(self) -> None:
        from safetensors.torch import save_file

        final = self.ckpt_dir / CKPT_NAME
        tmp = self.ckpt_dir / f".{CKPT_NAME}.tmp"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        save_file(self.model.trainable_state_dict(), str(tmp / "trainable.safetensors"))
        torch.save({"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                    "rng": _rng_state()}, tmp / "state.pt")
        (tmp / "progress.json").write_text(json.dumps({"step": self.step, "tokens": self.tokens,
                                                       "fingerprint": self.fingerprint}))
        old = self.ckpt_dir / f".{CKPT_NAME}.old"
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        if old.exists():
            shutil.rmtree(old)

    def try_resume(self) -> bool:
        """Load the latest checkpoint of this run, if there is one; True when resumed."""
        from safetensors.torch import load_file

        d = self.ckpt_dir / CKPT_NAME
        if not (d / "progress.json").is_file():
            d = self.ckpt_dir / f".{CKPT_NAME}.old"  # killed between the two renames of a save
            if not (d / "progress.json").is_file():
                return False
        saved = json.loads((d / "progress.json").read_text())
        if saved.get("fingerprint") != self.fingerprint:
            log.warning("%s: checkpoint of another configuration or data; starting afresh", d)
            return False
        self.model.load_trainable_state_dict(load_file(str(d / "trainable.safetensors")))
        # our own file (optimizer tensors + Python/numpy RNG tuples), not untrusted input
        state = torch.load(d / "state.pt", weights_only=False)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        _set_rng_state(state["rng"])
        self.step, self.tokens = int(saved["step"]), int(saved["tokens"])
        log.info("resumed from %s at step %d/%d", d, self.step, self.total_steps)
        return True

    # ---- the loop ----------------------------------------------------------------------------
    def fit(self, stop_after: int | None = None) -> dict[str, float]:
        """Train to the end (or until step `stop_after`, for tests that simulate a kill).

        Returns the final metrics: `train/*` (means over the steps of this call), `heldout/*`,
        tokens/s of this call and the step counts.
        """
        self.try_resume()
        end = self.total_steps if stop_after is None else min(stop_after, self.total_steps)
        t0, tok0, step0 = time.time(), self.tokens, self.step
        means: dict[str, float] = {}
        save_every = int(self.tcfg.save_every)
        with progress.task("steps", self.total_steps, initial=self.step, bar=self.progress) as bar:
            while self.step < end:
                parts = self._train_step()
                self.history.append(dict(parts, step=self.step))
                elapsed = max(time.time() - t0, 1e-9)
                parts["tokens_per_s"] = (self.tokens - tok0) / elapsed
                for k, v in parts.items():
                    means[k] = means.get(k, 0.0) + v
                if self.tracker is not None:
                    self.tracker.log({f"train/{k}": v for k, v in parts.items()}, step=self.step)
                if self._ends_epoch(self.step) and self.heldout and self.step < self.total_steps:
                    self._log_eval()
                if save_every > 0 and self.step % save_every == 0 and self.step < self.total_steps:
                    self.save_checkpoint()
                bar.postfix(loss=f"{parts['loss']:.4f}")
                bar.advance()
                progress.gauge(loss=round(parts["loss"], 4))
        n = max(self.step - step0, 1)
        metrics = {f"train/{k}": v / n for k, v in means.items() if k != "tokens_per_s"}
        metrics.update({"steps": float(self.step), "total_steps": float(self.total_steps),
                        "tokens": float(self.tokens),
                        "tokens_per_s": (self.tokens - tok0) / max(time.time() - t0, 1e-9)})
        if self.step >= self.total_steps:
            metrics.update(self._log_eval())
        return metrics

    def _ends_epoch(self, step: int) -> bool:
        """Whether optimizer step `step` consumed the last micro-batch of an epoch."""
        per = self.plan.per_epoch
        return (step * self.accum) // per > ((step - 1) * self.accum) // per

    def _log_eval(self) -> dict[str, float]:
        if not (self.dist.is_main or self.dist.sharded):  # the others' metrics are never read
            return {}
        # sharded, every process runs the (collective) forwards; only rank 0's metrics are kept
        res = {f"heldout/{k}": v for k, v in self.evaluate(self.heldout).items()}
        if not self.dist.is_main:
            return {}
        if res:
            log.info("step %d held-out: %s", self.step, ", ".join(f"{k}={v:.4f}" for k, v in res.items()))
            if self.tracker is not None:
                self.tracker.log(res, step=self.step)
        return res
