"""Unbiased pass@k (Chen et al., 2021): 1 - C(n-c, k) / C(n, k), computed stably."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn from n (c correct) passes."""
    if not 0 <= c <= n or k < 1:
        raise ValueError(f"need 0 <= c <= n and k >= 1, got n={n} c={c} k={k}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def ks_for(ns: Sequence[int], candidates: Sequence[int] = (1, 5, 10, 100)) -> list[int]:
    """The k values reportable for these sample counts: k=1 always, others only if every task has n >= k."""
    m = min(ns) if ns else 0
    return [k for k in candidates if k == 1 or k <= m]


def mean_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> float:
    """Mean pass@k over tasks given (n, c) per task."""
    if not counts:
        return 0.0
    return float(np.mean([pass_at_k(n, c, min(k, n)) for n, c in counts]))
