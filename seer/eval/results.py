"""One score of the results table (a model, a benchmark, a sweep point) and the benchmarks' labels:
shared by the table (seer.eval.report) and the figures (seer.eval.figures)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# a seed override in a point name: runs that differ only by it are folded into mean ± std
_SEED = re.compile(r"(^|,)([\w.]*random_seed)=\d+")

BENCH_LABELS = {"humaneval": "HumanEval", "humaneval_plus": "HumanEval+", "mbpp": "MBPP",
                "mbppplus": "MBPP+", "lcb": "LiveCodeBench (public)"}


@dataclass
class Score:
    model: str
    bench: str
    point: str
    pass1: float
    n_tasks: int
    cost: dict[str, float]
    path: Path

    @property
    def row(self) -> str:
        return f"{self.model}/{_SEED.sub('', self.point).strip(',') or 'default'}"
