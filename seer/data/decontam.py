"""Decontamination of seed problems against benchmarks by word n-gram overlap.

Text = question + prompt + reference code, lower-cased and split into words (runs of letters,
digits, underscores), so formatting, punctuation and indentation do not matter. A seed problem is
removed when the fraction of its distinct n-grams (n = 10 by default) that occur anywhere in a
benchmark reaches ``threshold`` (0.3). N-grams are kept as hashes in one dict for all benchmarks,
so the cost is linear in the total text. A text shorter than n words has no n-grams and is kept.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from seer.data.schemas import Problem

log = logging.getLogger(__name__)

_WORD = re.compile(r"[a-z0-9_]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def ngram_hashes(text: str, n: int) -> set[int]:
    w = words(text)
    return {hash(tuple(w[i:i + n])) for i in range(len(w) - n + 1)}


def problem_text(p: Problem) -> str:
    return "\n".join(x for x in (p.question, p.prompt, p.solution) if x)


@dataclass
class DecontamReport:
    ngram: int
    threshold: float
    checked: int = 0
    removed: int = 0
    removed_by_benchmark: dict[str, int] = field(default_factory=dict)
    # one entry per removed problem: its id, the benchmark, the overlap fraction and the benchmark
    # task sharing the most n-grams with it
    matches: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"ngram": self.ngram, "threshold": self.threshold, "checked": self.checked,
                "removed": self.removed, "kept": self.checked - self.removed,
                "removed_by_benchmark": self.removed_by_benchmark,
                "removed_ids": {b: [m["id"] for m in self.matches if m["benchmark"] == b]
                                for b in self.removed_by_benchmark},
                "matches": self.matches}


def decontaminate(seed: list[Problem], benchmarks: Mapping[str, list[Problem]], n: int = 10,
                  threshold: float = 0.3) -> tuple[list[Problem], DecontamReport]:
    """Drop seed problems whose n-gram overlap with any benchmark is >= threshold."""
    if n < 1 or not 0 < threshold <= 1:
        raise ValueError(f"decontamination needs ngram >= 1 and 0 < threshold <= 1, got {n}, {threshold}")
    names = list(benchmarks)
    # n-gram hash -> indices (into `owners`) of the benchmark problems containing it
    index: dict[int, list[int]] = {}
    owners: list[tuple[int, str]] = []  # (benchmark index, problem id)
    for b, name in enumerate(names):
        for p in benchmarks[name]:
            owners.append((b, p.id))
            k = len(owners) - 1
            for h in ngram_hashes(problem_text(p), n):
                index.setdefault(h, []).append(k)

    report = DecontamReport(ngram=n, threshold=threshold, checked=len(seed))
    kept = []
    for p in seed:
        grams = ngram_hashes(problem_text(p), n)
        if not grams:
            kept.append(p)
            continue
        per_bench: Counter[int] = Counter()
        per_task: Counter[int] = Counter()
        for h in grams:
            hits = index.get(h)
            if hits:
                per_task.update(hits)
                per_bench.update({owners[k][0] for k in hits})
        if not per_bench:
            kept.append(p)
            continue
        b, shared = per_bench.most_common(1)[0]
        frac = shared / len(grams)
        if frac < threshold:
            kept.append(p)
            continue
        task = max((k for k in per_task if owners[k][0] == b), key=lambda k: per_task[k])
        report.removed += 1
        report.removed_by_benchmark[names[b]] = report.removed_by_benchmark.get(names[b], 0) + 1
        report.matches.append({"id": p.id, "benchmark": names[b], "fraction": round(frac, 4),
                               "closest": owners[task][1]})
    log.info("decontamination (%d-grams, threshold %.2f): %d of %d seed problems removed %s",
             n, threshold, report.removed, report.checked, report.removed_by_benchmark)
    return kept, report
