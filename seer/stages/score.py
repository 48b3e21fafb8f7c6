"""`seer score`: samples (EvalPlus jsonl) + benchmark problems -> eval.json (per-task + pass@k)."""
from __future__ import annotations

import logging

from omegaconf import DictConfig

from seer.config import config_hash
from seer.data.jsonl import read_jsonl, write_json
from seer.data.schemas import Problem
from seer.eval.score import score_samples
from seer.sandbox import SandboxPool
from seer.stages import require_io

log = logging.getLogger(__name__)


def score(cfg: DictConfig) -> None:
    require_io(cfg, "samples", "bench", "out")
    problems = {p.id: p for p in read_jsonl(cfg.io.bench, Problem.from_dict)}
    samples = read_jsonl(cfg.io.samples)
    for i, s in enumerate(samples, 1):
        if "task_id" not in s:
            raise ValueError(f"{cfg.io.samples}:{i}: sample has no 'task_id'")
    with SandboxPool.from_config(cfg.sandbox) as pool:
        result = score_samples(samples, problems, pool, progress=True)
    result["samples"] = str(cfg.io.samples)
    result["config_hash"] = config_hash(cfg)
    write_json(cfg.io.out, result)
    log.info("%s: %s over %d tasks", cfg.io.samples, result["pass_at_k"], result["n_tasks"])
