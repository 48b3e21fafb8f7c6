"""Hand-made training paths and a small training config for the model/train tests."""
from __future__ import annotations

import pytest
import torch
from omegaconf import DictConfig

from seer.config import compose
from seer.data.schemas import TrainPath
from seer.llm.steps import format_code_step, format_plan_step

QUESTION = "Write a function add_one(x) that returns x plus one."
PLAN = format_plan_step(1, "Return x + 1.")
CODE_OK = format_code_step("def add_one(x):\n    return x + 1")
CODE_BAD = format_code_step("def add_one(x):\n    return x - 1")


def make_paths(n_problems: int = 4) -> list[TrainPath]:
    """Per problem: a correct 2-step path (Q 0.5, 1) and an incorrect one (first Q masked, -1)."""
    out = []
    for i in range(n_problems):
        out.append(TrainPath(f"p{i}", QUESTION, [PLAN, CODE_OK], [0.5, 1.0], 1.0, "mcts"))
        out.append(TrainPath(f"p{i}", QUESTION, [PLAN, CODE_BAD], [None, -1.0], -1.0, "mcts"))
    return out


# the tiny model, CPU, no tracking, small fast LoRA training settings
TINY_OVERRIDES = ["model=tiny", "tracking=disabled", "backend.device=cpu", "backend.progress=false",
                  "train.lora.r=8", "train.lora.alpha=16", "train.lora.dropout=0.1", "train.lr=2e-2",
                  "train.warmup_steps=1", "train.batch_size=2", "train.grad_accum=1", "train.epochs=1",
                  "train.max_length=512", "train.optimizer=adamw", "train.heldout_fraction=0.25",
                  "train.save_every=0"]


def tiny_cfg(*overrides: str) -> DictConfig:
    return compose([*TINY_OVERRIDES, *overrides])


@pytest.fixture(scope="module", autouse=False)
def one_thread():
    """Tiny-model training on one torch thread: on a shared 2-core machine two OpenMP threads spin
    against other processes and run >10x slower; the previous setting is restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
