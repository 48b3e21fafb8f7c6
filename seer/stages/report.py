"""`seer report`: eval.json files -> report/results.md, results.csv, figures/."""
from __future__ import annotations

from omegaconf import DictConfig

from seer.eval.report import load_scores, write_report


def report(cfg: DictConfig) -> None:
    if not cfg.io.scores or not cfg.io.out:
        raise ValueError("report needs io.scores (a list of eval.json files) and io.out")
    write_report(load_scores(cfg.io.scores), cfg.io.out, title=f"Results: {cfg.experiment} ({cfg.model.name})")
