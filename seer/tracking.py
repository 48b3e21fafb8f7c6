"""wandb, offline by default: a run never needs a key or the network unless mode=online."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Iterator

from omegaconf import DictConfig

from seer import progress
from seer.config import to_container


class Tracker:
    """Thin wrapper: `log(metrics, step)` and `finish()`; a no-op when tracking is disabled."""

    def __init__(self, cfg: DictConfig, name: str, out_dir: str | os.PathLike[str]) -> None:
        self.run: Any = None
        mode = cfg.tracking.mode
        if mode == "disabled":
            return
        if mode not in ("offline", "online"):
            raise ValueError(f"tracking.mode must be offline, online or disabled, got {mode!r}")
        os.environ.setdefault("WANDB_SILENT", "true")
        import wandb

        d = Path(cfg.tracking.dir or out_dir)
        d.mkdir(parents=True, exist_ok=True)
        self.run = wandb.init(project=cfg.tracking.project, name=name, mode=mode, dir=str(d),
                              config=to_container(cfg), reinit="finish_previous")

    def log(self, metrics: dict[str, float], step: int | None = None) -> None:
        if self.run is not None:
            self.run.log(metrics, step=step)

    def finish(self) -> None:
        if self.run is not None:
            self.run.finish()
            self.run = None


@contextlib.contextmanager
def track_rounds(cfg: DictConfig, name: str, out_dir: str | os.PathLike[str]) -> Iterator[None]:
    """A search's per-round counters (seer.progress: rounds, nodes, correct, trees open, tokens/s)
    to wandb while inside; one run named ``name``."""
    tracker = Tracker(cfg, name, out_dir)
    try:
        if tracker.run is None:
            yield
        else:
            with progress.track(tracker):
                yield
    finally:
        tracker.finish()
