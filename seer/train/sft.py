"""SFT on thinking data (docs/method.md section 6) through the policy-value trainer, value loss off.

An adapter, not a second trainer: each `SftRecord` becomes a `seer.train.data.Example` with the
NLL target on its response and no value targets (no step ends), and the training settings of
``train.sft`` (the SRA-MCTS paper's lr, epochs, warmup ratio and batch) replace those of SEER's
stage 1 with ``beta = 0``. `seer.train.trainer.Trainer` then runs unchanged: its value term has
nothing to fit, so the loss is plain NLL.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any

from omegaconf import DictConfig, OmegaConf

from seer.data.schemas import SftRecord
from seer.llm.hf_backend import TransformersPolicy
from seer.train.data import Example

log = logging.getLogger(__name__)


def sft_example(rec: SftRecord, fmt: TransformersPolicy, max_length: int) -> Example | None:
    """The record's chat prompt + response (+ EOS), cut on the right to `max_length`; None when the
    prompt alone does not fit. Encoded as the backend encodes prompts at generation time."""
    prompt_ids = fmt.encode(fmt.chat_prompt(rec.prompt))
    if len(prompt_ids) >= max_length:
        return None
    resp = list(fmt.tokenizer(rec.response, add_special_tokens=False)["input_ids"])
    if fmt.tokenizer.eos_token_id is not None:
        resp.append(fmt.tokenizer.eos_token_id)  # the model learns to stop after its code block
    resp = resp[: max_length - len(prompt_ids)]
    return Example(prompt_ids + resp, len(prompt_ids), step_ends=[], q_values=[], n_steps=0, reward=1.0,
                   problem_id=rec.problem_id)


def sft_examples(records: Iterable[SftRecord], fmt: TransformersPolicy, max_length: int) -> list[Example]:
    out, dropped = [], 0
    for r in records:
        ex = sft_example(r, fmt, max_length)
        if ex is None:
            dropped += 1
        else:
            out.append(ex)
    if dropped:
        log.warning("train.max_length=%d: dropped %d SFT examples whose prompt does not fit", max_length, dropped)
    return out


def sft_train_config(tcfg: DictConfig, n_examples: int) -> DictConfig:
    """`train` with the `train.sft` settings in place of stage 1's: NLL only (beta 0), warmup steps
    from the warmup ratio of the optimizer steps the epochs take."""
    s = tcfg.sft
    per_epoch = math.ceil(n_examples / max(1, int(s.batch_size)))
    micro = math.ceil(float(s.epochs) * per_epoch)
    steps = math.ceil(micro / max(1, int(s.grad_accum)))
    if int(tcfg.max_steps) > 0:
        steps = min(steps, int(tcfg.max_steps))
    over: dict[str, Any] = {"stage": 1, "beta": 0.0, "lr": float(s.lr), "epochs": float(s.epochs),
                            "batch_size": int(s.batch_size), "grad_accum": int(s.grad_accum),
                            "warmup_steps": round(float(s.warmup_ratio) * steps)}
    return OmegaConf.merge(tcfg, over)  # type: ignore[return-value]
