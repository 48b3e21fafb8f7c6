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
        from seer.eval.costs import write_costs

        table = write_costs(cfg.io.run, Path(cfg.io.out).parent)
        if table:
            md = Path(cfg.io.out).read_text()
            with atomic_open(cfg.io.out) as f:
                f.write(md + "\n## Job costs (Snakemake benchmarks)\n\nWall and CPU hours, peak memory and tokens per "
                        "second of every heavy job of this run (report/job_costs.csv has one row per job).\n\n"
                        f"{table}\n")
