"""`seer score`: samples (EvalPlus jsonl) + benchmark problems -> eval.json (per-task + pass@k).

One run per sample gives both of EvalPlus's numbers: ``base_pass_at_k`` (base tests) and
``pass_at_k`` (base + extra tests; for benchmarks without extra tests the two are equal).
EvalPlus benchmarks are scored with at least EvalPlus's memory limit (4 GiB per program).
"""
from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from seer.config import config_hash
from seer.data.jsonl import read_jsonl, write_json
from seer.data.schemas import Problem
from seer.eval.score import score_samples
from seer.sandbox import SandboxPool
from seer.sandbox.compare import EVALPLUS_MEMORY_MB
from seer.stages import require_io


def score(cfg: DictConfig) -> None:
    require_io(cfg, "samples", "bench", "out")
    problems = {p.id: p for p in read_jsonl(cfg.io.bench, Problem.from_dict)}
    samples = read_jsonl(cfg.io.samples)
    for i, s in enumerate(samples, 1):
        if "task_id" not in s:
            raise ValueError(f"{cfg.io.samples}:{i}: sample has no 'task_id'")
    sandbox = OmegaConf.merge(cfg.sandbox, {})
    if any(p.tests.rule.startswith("evalplus:") for p in problems.values()):
        # EvalPlus judges with 4 GiB per program (Mbpp/255's correct answers hold 1.1 GB)
        sandbox.memory_mb = max(sandbox.memory_mb, EVALPLUS_MEMORY_MB)
    with SandboxPool.from_config(sandbox) as pool:
        result = score_samples(samples, problems, pool, progress=True)
    result["samples"] = str(cfg.io.samples)
    result["config_hash"] = config_hash(cfg)
    write_json(cfg.io.out, result)
    print(f"{cfg.io.samples}: {result['n_samples']} samples over {result['n_tasks']} tasks\n"
          f"  base tests:          {_fmt(result['base_pass_at_k'])}\n"
          f"  base + extra tests:  {_fmt(result['pass_at_k'])}")


def _fmt(pass_at_k: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:.4f}" for k, v in pass_at_k.items())
