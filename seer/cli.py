"""`seer <stage> [hydra overrides...]`: the one entry point every Snakemake rule calls.

Composes conf/ with the overrides (a typo is an error naming the valid keys), saves the resolved
config beside the stage's output, then runs the stage function `seer.stages.<module>:<func>(cfg)`
inside a progress job (`[progress]` lines in its log, seer/progress.py).
`seer status [experiment=E]` is the other command: the state of a run (seer/status.py).
"""
from __future__ import annotations

import importlib
import logging
import sys
import time
from typing import Any

from seer import progress
from seer.config import ConfigError, compose, save_resolved
from seer.stages import STAGES

log = logging.getLogger("seer")


def _usage() -> str:
    return ("usage: seer <stage> [key=value ...]\n"
            f"stages: {', '.join(STAGES)}\n"
            "example: seer infer experiment=quickstart infer.method=direct io.bench=... io.out=...\n"
            "       seer status [experiment=E]   (the state of a run: jobs done, running, failed)")


def job_label(stage: str, cfg: Any) -> str:
    """What a `[progress]` line calls the job: the stage, and the shard or training stage."""
    if stage in ("explore", "thinking_data"):
        return f"{stage} shard-{cfg.shard}"
    if stage == "train":
        return f"train stage{cfg.train.stage}"
    return stage


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    stage, overrides = argv[0], argv[1:]
    if stage == "status":
        from seer.status import main as status_main

        return status_main(overrides)
    if stage not in STAGES:
        print(f"seer: unknown stage {stage!r}\n{_usage()}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr)
    try:
        cfg = compose([*overrides, f"stage={stage}"])
    except ConfigError as e:
        print(f"seer {stage}: bad configuration\n{e}", file=sys.stderr)
        return 2
    from seer.train.distributed import is_rank0

    if cfg.io.out and is_rank0():  # one writer in a multi-process training job
        save_resolved(cfg, cfg.io.out)
    from seer.local_gpus import claim_local_gpus

    try:
        # local multi-GPU mode (SEER_LOCAL_GPUS): claim this stage's devices before CUDA starts
        lease = claim_local_gpus(cfg, stage)
    except ValueError as e:
        print(f"seer {stage}: bad configuration\n{e}", file=sys.stderr)
        return 2
    module, func = STAGES[stage].split(":")
    t0 = time.time()
    try:
        # the job starts before the stage's imports: third-party warnings are filtered from the start
        with progress.job(job_label(stage, cfg), cfg.progress.every_s, bars=bool(cfg.backend.progress), quiet=True):
            getattr(importlib.import_module(f"seer.stages.{module}"), func)(cfg)
    except (ValueError, FileNotFoundError, OSError) as e:
        # data and config problems: one clear line, not a traceback
        if log.isEnabledFor(logging.DEBUG):
            raise
        print(f"seer {stage}: error: {e}", file=sys.stderr)
        return 1
    finally:
        if lease is not None:
            lease.release()
    log.info("%s finished in %.1fs", stage, time.time() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
