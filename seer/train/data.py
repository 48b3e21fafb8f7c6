"""Training examples for the policy-value model: tokenisation, held-out split, collation.

One example is one reasoning path (a `train/stage1.jsonl` or `train/stage2.jsonl` record):
prompt = the chat prompt of the exploration prompt's user message (zero-shot) for the question,
response = the steps joined by newlines (`TrainPath.response()`, the exploration state text) + EOS. Two kinds of targets (docs/method.md section 4):

- NLL labels on the response tokens of correct paths only (reward > 0);
- a value target Q on the LAST token of each step, masked where the record's q-value is None.

Prompts are built and encoded exactly as the transformers backend does at generation time
(`TransformersPolicy.chat_prompt` / `.encode`), so training and inference see the same tokens.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import os
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import torch

from seer.data.jsonl import read_jsonl
from seer.data.schemas import Problem, Tests, TrainPath
from seer.llm.hf_backend import TransformersPolicy
from seer.llm.prompts import exploration_prompt
from seer.model.losses import IGNORE

log = logging.getLogger(__name__)


def read_paths(path: str | os.PathLike[str]) -> list[TrainPath]:
    """Path records of a jsonl file (errors name file:line and the bad field)."""
    return read_jsonl(path, TrainPath.from_dict)


def step_user_message(question: str) -> str:
    """The exploration prompt's user message for a path's question, without few-shot examples:
    the trained model has learnt the step format, so inference prompts it zero-shot too."""
    # a path keeps only its question; the tests do not enter the prompt
    problem = Problem(id="", question=question, tests=Tests(kind="assert", cases=[]))
    return exploration_prompt(problem, (), ())[0]


@dataclass
class Example:
    input_ids: list[int]
    prompt_len: int  # tokens before the response
    step_ends: list[int]  # index in input_ids of each kept step's last token
    q_values: list[float | None]  # aligned with step_ends
    n_steps: int  # steps of the path (step_ends is shorter when truncation cut the tail)
    reward: float
    problem_id: str

    @property
    def correct(self) -> bool:
        return self.reward > 0


def _step_spans(path: TrainPath) -> tuple[str, list[int]]:
    """The response text and, per step, the character index just past where its value is read: the
    newline after a step, the end of the final step (`prompts.value_prefix`, which inference reads)."""
    text, ends, pos = path.response(), [], 0
    for i, s in enumerate(path.steps):
        pos = text.index(s, pos) + len(s)
        ends.append(pos if i == len(path.steps) - 1 else pos + 1)
    return text, ends


def without_all_one_targets(path: TrainPath) -> TrainPath:
    """No value targets on a multi-step path whose Q values are all 1 (`train.skip_all_one_values`,
    the authors' train_multi.py 108-109); a one-step path keeps its target."""
    if len(path.q_values) > 1 and all(q == 1 for q in path.q_values):
        return dataclasses.replace(path, q_values=[None] * len(path.q_values))
    return path


def mask_repaired_prefixes(rows: Sequence[TrainPath]) -> list[TrainPath]:
    """An incorrect path that a refined path repairs loses the value targets of the steps the two
    share (`train.mask_refined_prefix`, the authors' preprocess_mcts_data.py 399-403)."""
    shared: dict[tuple[str, tuple[str, ...]], int] = {}
    for r in rows:
        if r.repairs:
            n = 0
            while n < min(len(r.repairs), len(r.steps) - 1) and r.steps[n] == r.repairs[n]:
                n += 1
            key = (r.problem_id, tuple(r.repairs))
            shared[key] = max(shared.get(key, 0), n)
    out = []
    for r in rows:
        n = shared.get((r.problem_id, tuple(r.steps)), 0) if not r.correct else 0
        out.append(dataclasses.replace(r, q_values=[None] * n + list(r.q_values[n:])) if n else r)
    return out


def tokenize_path(path: TrainPath, fmt: TransformersPolicy, max_length: int,
                  overlong: str = "truncate") -> Example | None:
    """One example, or None when the prompt alone does not fit `max_length` (or, with
    ``overlong="drop"``, the whole path does not: the authors drop such examples).

    ``truncate``: the response is cut on the right to fit; steps cut off lose their value target.
    """
    tok = fmt.tokenizer
    prompt_ids = fmt.encode(fmt.chat_prompt(step_user_message(path.question)))
    if len(prompt_ids) >= max_length:
        return None
    text, char_ends = _step_spans(path)
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    resp_ids = list(enc["input_ids"])
    starts = [a for a, _ in enc["offset_mapping"]]
    if tok.eos_token_id is not None:
        resp_ids.append(tok.eos_token_id)  # a correct path teaches the model to stop after its code
    if overlong == "drop" and len(prompt_ids) + len(resp_ids) > max_length:
        return None
    resp_ids = resp_ids[: max_length - len(prompt_ids)]
    step_ends, qs, j = [], [], 0
    for end_char, q in zip(char_ends, path.q_values):
        # the token holding the step's last character (a token may straddle the join)
        while j + 1 < len(starts) and starts[j + 1] <= end_char - 1:
            j += 1
        if j >= len(resp_ids):
            break
        step_ends.append(len(prompt_ids) + j)
        qs.append(q)
    return Example(prompt_ids + resp_ids, len(prompt_ids), step_ends, qs, len(path.steps), path.reward,
                   path.problem_id)


def tokenize_paths(paths: Iterable[TrainPath], fmt: TransformersPolicy, max_length: int,
                   overlong: str = "truncate") -> list[Example]:
    out, dropped, cut = [], 0, 0
    for p in paths:
        ex = tokenize_path(p, fmt, max_length, overlong)
        if ex is None:
            dropped += 1
            continue
        cut += len(ex.step_ends) < ex.n_steps
        out.append(ex)
    if dropped or cut:
        log.warning("train.max_length=%d: dropped %d paths that do not fit (train.overlong=%s), truncated %d",
                    max_length, dropped, overlong, cut)
    return out


def split_heldout(examples: Sequence[Example], fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """(train, held-out), split by problem so no problem is on both sides.

    Problems are ordered by a seeded hash; the first round(fraction * n) are held out (at least one
    when fraction > 0 and there are two or more problems).
    """
    pids = sorted({e.problem_id for e in examples},
                  key=lambda p: hashlib.sha256(f"{seed}:{p}".encode()).hexdigest())
    k = round(fraction * len(pids))
    if fraction > 0 and len(pids) >= 2:
        k = min(max(k, 1), len(pids) - 1)
    held = set(pids[:k])
    return [e for e in examples if e.problem_id not in held], [e for e in examples if e.problem_id in held]


@dataclass
class Collator:
    """Right-pads examples into a batch of tensors (see the module docstring for the targets)."""

    pad_id: int

    def __call__(self, examples: Sequence[Example]) -> dict[str, torch.Tensor]:
        b, width = len(examples), max(len(e.input_ids) for e in examples)
        ids = torch.full((b, width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((b, width), dtype=torch.long)
        labels = torch.full((b, width), IGNORE, dtype=torch.long)
        v_target = torch.zeros((b, width), dtype=torch.float32)
        v_mask = torch.zeros((b, width), dtype=torch.bool)
        final_pos = torch.full((b,), -1, dtype=torch.long)
        for i, e in enumerate(examples):
            n = len(e.input_ids)
            ids[i, :n] = torch.tensor(e.input_ids)
            mask[i, :n] = 1
            if e.correct:
                labels[i, e.prompt_len:n] = ids[i, e.prompt_len:n]
            for pos, q in zip(e.step_ends, e.q_values):
                if q is not None:
                    v_target[i, pos] = q
                    v_mask[i, pos] = True
            if e.step_ends and len(e.step_ends) == e.n_steps:  # SFT examples have no steps
                final_pos[i] = e.step_ends[-1]
        return {"input_ids": ids, "attention_mask": mask, "labels": labels, "value_targets": v_target,
                "value_mask": v_mask, "final_pos": final_pos,
                "rewards": torch.tensor([e.reward for e in examples], dtype=torch.float32)}


@dataclass
class BatchPlan:
    """Which examples form each micro-batch, epoch by epoch, reproducibly from the seed.

    Micro-batch k of epoch e is a function of (seed, e, k) alone, so training can resume at any
    micro-batch without replaying a data loader.
    """

    n_examples: int
    batch_size: int
    seed: int
    _cache: dict[int, list[list[int]]] = field(default_factory=dict, init=False, repr=False)

    @property
    def per_epoch(self) -> int:
        return math.ceil(self.n_examples / self.batch_size)

    def epoch(self, e: int) -> list[list[int]]:
        if e not in self._cache:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + e)
            order = torch.randperm(self.n_examples, generator=g).tolist()
            # one epoch cached: training walks the epochs in order
            self._cache = {e: [order[i:i + self.batch_size] for i in range(0, self.n_examples, self.batch_size)]}
        return self._cache[e]

    def micro_batch(self, k: int) -> list[int]:
        """Indices of the k-th micro-batch counted from the start of training."""
        return self.epoch(k // self.per_epoch)[k % self.per_epoch]
