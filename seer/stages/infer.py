"""`seer infer`: a benchmark -> EvalPlus samples (+ `<out>.stats.json`: tokens, wall time)."""
from __future__ import annotations

import logging
import time
from pathlib import Path

from omegaconf import DictConfig

from seer import progress
from seer.config import InferConfig, config_hash, settings
from seer.data.jsonl import read_jsonl, write_json, write_jsonl
from seer.data.schemas import Problem
from seer.model.factory import load_policy
from seer.stages import require_io
from seer.tracking import track_rounds

log = logging.getLogger(__name__)


def infer(cfg: DictConfig) -> None:
    require_io(cfg, "bench", "out")
    ic = settings(cfg.infer, InferConfig)  # checks infer.method and the beam sizes before the model loads
    method = ic.method
    problems = read_jsonl(cfg.io.bench, Problem.from_dict)
    policy = load_policy(cfg)
    t0 = time.time()
    if method == "beam":
        from seer.search.beam import beam_search_samples

        with progress.task("problems", len(problems)), \
                track_rounds(cfg, f"{cfg.experiment}-infer-beam", Path(cfg.io.out).parent):
            samples = beam_search_samples(policy, problems, ic)
    else:
        from seer.eval.single_shot import single_shot

        samples = single_shot(policy, problems, method, ic.n_samples, ic.temperature, ic.top_p, ic.max_tokens,
                              ic.random_seed)
    h = config_hash(cfg)
    for s in samples:
        s["config_hash"] = h
    write_jsonl(cfg.io.out, samples)
    stats = {"tokens": sum(int(s.get("n_tokens", 0)) for s in samples), "wall_time_s": time.time() - t0,
             "n_samples": len(samples), "n_tasks": len(problems), "method": method}
    write_json(f"{cfg.io.out}.stats.json", stats)
    log.info("infer %s: %d samples, %d tokens in %.1fs", method, len(samples), stats["tokens"], stats["wall_time_s"])
