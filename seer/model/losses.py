"""The loss terms of docs/method.md section 4, as sums plus counts.

Each term returns ``(sum, count)`` so a trainer can normalise by the count of a whole
gradient-accumulation group (token-level means that do not depend on how the group is split);
the ``*_rows`` forms return them per sequence (``[B]`` sums, ``[B]`` counts) for per-sequence means:

- NLL of the next token on label tokens (``labels != IGNORE``; the collator labels only the
  response tokens of correct paths);
- squared error of the value ``tanh(head(h_t))`` against its target ``Q_t`` where ``value_mask``;
- KL(pi_theta || pi_ref) over the full vocabulary at the same label tokens (stage 2).

Labels follow the transformers convention: ``labels[:, t]`` is the token at ``t``, predicted by
the logits at ``t - 1``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

IGNORE = -100


def _label_positions(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mask over logits positions [B, T-1], the labels they predict [B, T-1])."""
    shifted = labels[:, 1:]
    return shifted != IGNORE, shifted


def _rows(per_item: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row sums of ``per_item`` (one value per True of ``mask`` [B, T], row-major) and counts."""
    rows = mask.nonzero()[:, 0]
    sums = per_item.new_zeros(mask.shape[0]).index_add(0, rows, per_item)
    return sums, mask.sum(-1)


def nll_rows(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mask, target = _label_positions(labels)
    picked = logits[:, :-1][mask].float()  # only labelled rows: [N, V]
    return _rows(F.cross_entropy(picked, target[mask], reduction="none"), mask)


def value_sq_rows(values: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return _rows((values[mask].float() - targets[mask].float()) ** 2, mask)


def kl_rows(logits: torch.Tensor, ref_logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per sequence, the sum over label tokens of KL(pi_theta || pi_ref) = sum_v p(v) (log p(v) - log q(v))."""
    mask, _ = _label_positions(labels)
    logp = F.log_softmax(logits[:, :-1][mask].float(), dim=-1)
    logq = F.log_softmax(ref_logits[:, :-1][mask].float(), dim=-1)
    return _rows((logp.exp() * (logp - logq)).sum(-1), mask)


def _total(rows: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, int]:
    return rows[0].sum(), int(rows[1].sum())


def nll_sum(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, int]:
    return _total(nll_rows(logits, labels))


def value_sq_sum(values: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, int]:
    return _total(value_sq_rows(values, targets, mask))


def kl_sum(logits: torch.Tensor, ref_logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Sum over label tokens of KL(pi_theta || pi_ref)."""
    return _total(kl_rows(logits, ref_logits, labels))


def sequence_mean(rows: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Sum over sequences of each sequence's mean (a sequence without items counts 0, as the
    authors' loss of an incorrect path: a sum over no tokens)."""
    sums, counts = rows
    return (sums / counts.clamp(min=1)).sum()
