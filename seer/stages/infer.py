"""`seer infer`: a benchmark -> EvalPlus samples (+ `<out>.stats.json`: tokens, wall time).

Single-shot methods (direct, cot) also take several benchmarks at once (`io.benches` / `io.outs`,
parallel lists): their prompts go through one generate call, so the rows of every benchmark share
the decode steps (a step of 8 rows costs ~1.4x one of 4 on a CPU; on a GPU it is one engine start
instead of one per benchmark). Each benchmark still gets its own samples file and stats.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from seer import progress
from seer.config import InferConfig, config_hash, save_resolved, settings
from seer.data.jsonl import read_jsonl, write_json, write_jsonl
from seer.data.schemas import Problem
from seer.model.factory import load_policy
from seer.stages import require_io
from seer.tracking import track_rounds

log = logging.getLogger(__name__)


def io_pairs(cfg: DictConfig) -> list[tuple[str, str]]:
    """(benchmark file, samples file) pairs: io.benches/io.outs, else io.bench/io.out."""
    benches, outs = list(cfg.io.benches), list(cfg.io.outs)
    if benches or outs:
        if len(benches) != len(outs) or not benches:
            raise ValueError(f"seer infer: io.benches ({len(benches)}) and io.outs ({len(outs)}) must be "
                             "parallel lists of the same, non-zero length")
        if cfg.io.bench or cfg.io.out:
            raise ValueError("seer infer: give io.bench/io.out or io.benches/io.outs, not both")
        return list(zip(benches, outs))
    require_io(cfg, "bench", "out")
    return [(cfg.io.bench, cfg.io.out)]


def infer(cfg: DictConfig) -> None:
    ic = settings(cfg.infer, InferConfig)  # checks infer.method and the beam sizes before the model loads
    method = ic.method
    pairs = io_pairs(cfg)
    if method == "beam" and len(pairs) > 1:
        raise ValueError("seer infer: infer.method=beam takes one benchmark (io.bench/io.out)")
    per_bench = [read_jsonl(bench, Problem.from_dict) for bench, _ in pairs]
    problems = [p for ps in per_bench for p in ps]
    policy = load_policy(cfg)
    t0 = time.time()
    if method == "beam":
        from seer.search.beam import beam_search_samples

        with progress.task("problems", len(problems)), \
                track_rounds(cfg, f"{cfg.experiment}-infer-beam", Path(pairs[0][1]).parent):
            samples = beam_search_samples(policy, problems, ic)
    else:
        from seer.eval.single_shot import single_shot

        samples = single_shot(policy, problems, method, ic.n_samples, ic.temperature, ic.top_p, ic.max_tokens,
                              ic.random_seed)
    wall = time.time() - t0
    h = config_hash(cfg)
    for s in samples:
        s["config_hash"] = h
    total_tokens = max(1, sum(int(s.get("n_tokens", 0)) for s in samples))
    per_problem = len(samples) // max(1, len(problems))  # each problem gives the same number, in order
    start = 0
    for (_, out), ps in zip(pairs, per_bench):
        mine = samples[start:start + per_problem * len(ps)]
        start += per_problem * len(ps)
        if len(pairs) > 1:  # the CLI saved the config beside io.out only
            save_resolved(cfg, out)
        _write(out, mine, wall, total_tokens, len(ps), method, [b for b, _ in pairs])


def _write(out: str, samples: list[dict[str, Any]], wall: float, total_tokens: int, n_tasks: int, method: str,
           benches: list[str]) -> None:
    tokens = sum(int(s.get("n_tokens", 0)) for s in samples)
    stats: dict[str, Any] = {"tokens": tokens, "wall_time_s": wall, "n_samples": len(samples), "n_tasks": n_tasks,
                             "method": method}
    if len(benches) > 1:
        # the benchmarks shared one generate call: this one's share of it, by generated tokens
        stats.update(wall_time_s=wall * tokens / total_tokens, job_wall_time_s=wall, generated_with=benches)
    write_jsonl(out, samples)
    write_json(f"{out}.stats.json", stats)
    log.info("infer %s: %s: %d samples, %d tokens (%.1fs of the job's %.1fs)", method, out, len(samples), tokens,
             stats["wall_time_s"], wall)
