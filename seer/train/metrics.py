"""Value-head quality on held-out paths: how well the value at a path's final step predicts its reward."""
from __future__ import annotations

from typing import Sequence


def roc_auc(scores: Sequence[float], positive: Sequence[bool]) -> float | None:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties); None if a class is empty."""
    if len(scores) != len(positive):
        raise ValueError(f"roc_auc: {len(scores)} scores but {len(positive)} labels")
    n_pos = sum(bool(p) for p in positive)
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1  # ties share their average 1-based rank
        i = j + 1
    rank_sum = sum(r for r, p in zip(ranks, positive) if p)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def value_metrics(final_values: Sequence[float], rewards: Sequence[float]) -> dict[str, float]:
    """`value_acc` (sign of the value = sign of the reward) and `value_auc` (value ranks correct paths
    above incorrect ones); AUC is left out when held-out paths are all of one class."""
    if not final_values:
        return {}
    positive = [r > 0 for r in rewards]
    out = {"value_acc": sum((v > 0) == p for v, p in zip(final_values, positive)) / len(final_values),
           "n_paths": float(len(final_values))}
    auc = roc_auc(final_values, positive)
    if auc is not None:
        out["value_auc"] = auc
    return out
