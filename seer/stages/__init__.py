"""The stage functions `seer <stage>` runs: thin glue from a composed config to the algorithms."""
from __future__ import annotations

from typing import Any

# stage name -> "module:function" under seer.stages (imported lazily: torch is slow to import)
STAGES: dict[str, str] = {
    "seed_data": "data:seed_data",
    "bench_data": "data:bench_data",
    "check_data": "data:check_data",
    "models": "models:prepare",
    "explore": "explore:explore",
    "paths": "explore:paths",
    "perturb": "explore:perturb",
    "refine": "explore:refine",
    "stage1_data": "explore:stage1_data",
    "think2code": "thinking:think2code",
    "thinking_data": "thinking:thinking_data",
    "sft": "thinking:sft",
    "train": "train:train",
    "direct_samples": "train:direct_samples",
    "infer": "infer:infer",
    "score": "score:score",
    "report": "report:report",
}


def require_io(cfg: Any, *keys: str) -> None:
    """Raise naming every `io.<key>` path the stage needs that was not set (the rule passes them)."""
    missing = [f"io.{k}" for k in keys if not cfg.io[k]]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise ValueError(f"seer {cfg.stage or '<stage>'}: {', '.join(missing)} {verb} required")
