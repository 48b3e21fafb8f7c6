"""`seer report`: eval.json files -> report/results.md, results.csv, figures/."""
from __future__ import annotations

from omegaconf import DictConfig

from seer.eval.report import load_scores, write_report
from seer.stages import require_io


def report(cfg: DictConfig) -> None:
    require_io(cfg, "scores", "out")  # io.scores: the eval.json files of the table
    write_report(load_scores(cfg.io.scores), cfg.io.out, title=f"Results: {cfg.experiment} ({cfg.model.name})")
    if cfg.io.run:
        from pathlib import Path

        from seer.data.jsonl import atomic_open
        from seer.eval import gpu_hours
        from seer.eval.costs import write_costs

        parts = [Path(cfg.io.out).read_text()]
        table = write_costs(cfg.io.run, Path(cfg.io.out).parent)
        if table:
            parts.append("## Job costs (Snakemake benchmarks)\n\nWall and CPU hours, peak memory and tokens per "
                         "second of every heavy job of this run (report/job_costs.csv has one row per job).\n\n"
                         f"{table}\n")
        if cfg.explore.method in gpu_hours.METHODS:
            parts.append("## Expected GPU-hours (A100 80 GB)\n\nThis experiment's configuration on GPUs, with the "
                         "constants this run measured (seer/eval/gpu_hours.py says which run may give which).\n\n"
                         f"{gpu_hours.markdown(cfg, [gpu_hours.measure(cfg.io.run)])}\n")
        with atomic_open(cfg.io.out) as f:
            f.write("\n".join(parts))
