"""The loss terms of docs/method.md section 4, as sums plus counts.

Each term returns ``(sum, count)`` so a trainer can normalise by the count of a whole
gradient-accumulation group (token-level means that do not depend on how the group is split):

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


def nll_sum(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, int]:
    mask, target = _label_positions(labels)
    n = int(mask.sum())
    if n == 0:
        return logits.new_zeros(()), 0
    picked = logits[:, :-1][mask].float()  # only labelled rows: [N, V]
    return F.cross_entropy(picked, target[mask], reduction="sum"), n


def value_sq_sum(values: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, int]:
    n = int(mask.sum())
    if n == 0:
        return values.new_zeros(()), 0
    return ((values[mask].float() - targets[mask].float()) ** 2).sum(), n


def kl_sum(logits: torch.Tensor, ref_logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Sum over label tokens of KL(pi_theta || pi_ref) = sum_v p(v) (log p(v) - log q(v))."""
    mask, _ = _label_positions(labels)
    n = int(mask.sum())
    if n == 0:
        return logits.new_zeros(()), 0
    logp = F.log_softmax(logits[:, :-1][mask].float(), dim=-1)
    logq = F.log_softmax(ref_logits[:, :-1][mask].float(), dim=-1)
    return (logp.exp() * (logp - logq)).sum(), n
