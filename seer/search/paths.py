"""From finished trees to training paths (docs/method.md section 3, first part).

Per problem: enumerate the root-to-leaf paths that end in an executed code step (each step's
target is its node's Q), drop malformed ones and correct ones whose code uses ``random.``,
de-duplicate by final step, keep at most ``max_correct`` correct and ``max_incorrect`` incorrect.
Problems with only correct paths go to perturbation, those with only incorrect or none to
refinement. ``balance`` evens positives and negatives over the whole set.
"""
from __future__ import annotations

import heapq
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence, TypeVar

from seer.llm.steps import parse_step
from seer.search.tree import Node, TreePath, enumerate_paths

T = TypeVar("T")
LENIENT_ERROR = "code in a non-final step"  # what a stored lenient plan step parses to (it is closed)
CATEGORIES: tuple[str, ...] = ("only_correct", "only_incorrect", "mixed", "none")
_RANDOM_USE = re.compile(r"\brandom\.")


def well_formed(path: TreePath, lenient: bool = False) -> bool:
    """Every step parses; only the last one is a code step. ``lenient``: a plan step holding a bare
    code fence counts as parsed (``explore.lenient_plan_steps``: exploration kept it as a plan node)."""
    if not path.steps:
        return False
    parsed = [parse_step(s) for s in path.steps]
    ok = all(p.valid or (lenient and not p.is_terminal and p.error == LENIENT_ERROR) for p in parsed[:-1])
    return ok and parsed[-1].valid and parsed[-1].is_terminal and not any(p.is_terminal for p in parsed[:-1])


def final_code(path: TreePath) -> str:
    return parse_step(path.steps[-1]).code or ""


def uses_random(code: str) -> bool:
    return bool(_RANDOM_USE.search(code))


def dedupe_by_final_step(paths: Iterable[TreePath]) -> list[TreePath]:
    """The first path of each distinct final step, in order."""
    seen: set[str] = set()
    out = []
    for p in paths:
        if p.steps[-1] not in seen:
            seen.add(p.steps[-1])
            out.append(p)
    return out


@dataclass
class ProblemPaths:
    """The usable paths of one tree, before the per-problem caps."""

    correct: list[TreePath]
    incorrect: list[TreePath]
    dropped_random: int
    dropped_malformed: int

    @property
    def category(self) -> str:
        if self.correct and self.incorrect:
            return "mixed"
        if self.correct:
            return "only_correct"
        return "only_incorrect" if self.incorrect else "none"


def problem_paths(root: Node, lenient: bool = False) -> ProblemPaths:
    executed = [p for p in enumerate_paths(root) if p.terminal == "code"]
    good = [p for p in executed if well_formed(p, lenient)]
    correct = [p for p in good if p.reward > 0]
    kept = [p for p in correct if not uses_random(final_code(p))]
    return ProblemPaths(correct=dedupe_by_final_step(kept),
                        incorrect=dedupe_by_final_step(p for p in good if p.reward <= 0),
                        dropped_random=len(correct) - len(kept), dropped_malformed=len(executed) - len(good))


def cap(paths: Sequence[T], k: int, rng: random.Random) -> list[T]:
    """At most ``k`` of ``paths``, a uniform sample that keeps their order."""
    if len(paths) <= k:
        return list(paths)
    return [paths[i] for i in sorted(rng.sample(range(len(paths)), k))]


def balance(items: Sequence[T], positive: Callable[[T], bool], group: Callable[[T], str],
            rng: random.Random) -> list[T]:
    """Drop majority-class items until both classes are equal, order kept.

    Items go from the group (problem) that has the most majority items left, ties broken at
    random, so every problem keeps as many paths as it can. With one class empty nothing can be
    balanced and ``items`` come back unchanged.
    """
    pos = [i for i, x in enumerate(items) if positive(x)]
    neg = [i for i, x in enumerate(items) if not positive(x)]
    if not pos or not neg:
        return list(items)
    major = pos if len(pos) > len(neg) else neg
    excess = abs(len(pos) - len(neg))
    by_group: dict[str, list[int]] = defaultdict(list)
    for i in major:
        by_group[group(items[i])].append(i)
    heap = [(-len(ix), rng.random(), g) for g, ix in by_group.items()]
    heapq.heapify(heap)
    drop: set[int] = set()
    for _ in range(excess):
        n, _, g = heapq.heappop(heap)
        drop.add(by_group[g].pop(rng.randrange(len(by_group[g]))))
        if n + 1 < 0:
            heapq.heappush(heap, (n + 1, rng.random(), g))
    return [x for i, x in enumerate(items) if i not in drop]


def path_record(path: TreePath) -> dict[str, Any]:
    return {"steps": path.steps, "q_values": path.q_values, "reward": path.reward}


def summarize(categories: Sequence[str], tree_stats: Sequence[dict[str, Any]],
              counts: dict[str, int]) -> dict[str, Any]:
    """stats.json: category shares, path counts and exploration cost."""
    n = len(categories)
    share = {c: (sum(1 for x in categories if x == c) / n if n else 0.0) for c in CATEGORIES}

    def total(key: str) -> float:
        return sum(s.get(key, 0) for s in tree_stats)

    return {
        "problems": n,
        "share": share,
        "problems_by_category": {c: sum(1 for x in categories if x == c) for c in CATEGORIES},
        "paths": counts,
        "tokens_generated": total("tokens"),
        "sandbox_runs": total("sandbox_runs"),
        # trees of a batch are searched side by side: the sum counts shared seconds once per tree
        "tree_wall_time_s_sum": round(total("wall_time"), 3),
        "tree_wall_time_s_mean": round(total("wall_time") / n, 3) if n else 0.0,
        "nodes": total("nodes"),
    }


_NUMBERED_LINE = re.compile(r"\n(?=\d)")


def split_numbered_steps(steps: Sequence[str], q_values: Sequence[float | None]
                         ) -> tuple[list[str], list[float | None]]:
    """A plan step holding several numbered lines becomes one step per numbered line, the value
    target staying on the last piece (`explore.split_numbered_steps`, the authors'
    preprocess_mcts_data.py 102-110 + 205: they retag such a step's text as several steps)."""
    out_steps: list[str] = []
    out_q: list[float | None] = []
    for step, q in zip(steps, q_values, strict=True):
        p = parse_step(step)
        pieces = [] if p.is_terminal else [x.strip() for x in _NUMBERED_LINE.split(p.body) if x.strip()]
        if len(pieces) <= 1:
            out_steps.append(step)
            out_q.append(q)
            continue
        out_steps += [f"<step>\n{x}\n</step>" for x in pieces]
        out_q += [None] * (len(pieces) - 1) + [q]
    return out_steps, out_q
