"""`seer report`: eval.json files -> report/results.md, results.csv, figures/."""
from __future__ import annotations

from omegaconf import DictConfig

from seer.eval.report import load_scores, write_report
from seer.stages import require_io


def report(cfg: DictConfig) -> None:
    require_io(cfg, "scores", "out")  # io.scores: the eval.json files of the table
    write_report(load_scores(cfg.io.scores), cfg.io.out, title=f"Results: {cfg.experiment} ({cfg.model.name})")
