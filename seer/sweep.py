"""Sweeps: Hydra sweeper-syntax grids -> deterministic, resumable sweep points.

A sweep file (conf/sweep/<name>.yaml) lists ``params: {key: "v1,v2" | "range(a,b)" | ...}`` in
Hydra's override grammar. Each point of the grid is a sorted list of ``key=value`` overrides; its
directory name is those overrides joined with "," (Hydra's ``override_dirname``), so a rerun finds
finished points. Overrides are routed to the stage they change: training keys make a *train point*
(shared by every inference point that needs it; stage-1 ignores stage-2-only keys, so a KL sweep
trains stage 1 once), the rest make the *inference point*.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Mapping

from hydra.core.override_parser.overrides_parser import OverridesParser

DEFAULT = "default"
DIRECT_KEYS = ("train.direct_n", "train.direct_temperature")  # shape direct_samples (stage-2 data)
STAGE2_ONLY = ("train.kl_weight", "train.nll_weight", *DIRECT_KEYS)
TRAIN_PREFIXES = ("train.",)


@dataclass(frozen=True)
class SweepPoint:
    overrides: tuple[str, ...]  # sorted key=value

    @property
    def train(self) -> tuple[str, ...]:
        return tuple(o for o in self.overrides if o.startswith(TRAIN_PREFIXES))

    @property
    def stage1(self) -> tuple[str, ...]:
        return tuple(o for o in self.train if o.split("=", 1)[0] not in STAGE2_ONLY)

    @property
    def direct(self) -> tuple[str, ...]:
        """What direct_samples depends on: the stage-1 model and the direct-sampling keys."""
        return tuple(o for o in self.train if o.split("=", 1)[0] not in STAGE2_ONLY or
                     o.split("=", 1)[0] in DIRECT_KEYS)

    @property
    def infer(self) -> tuple[str, ...]:
        return tuple(o for o in self.overrides if not o.startswith(TRAIN_PREFIXES))

    def value(self, key: str) -> str | None:
        for o in self.overrides:
            k, v = o.split("=", 1)
            if k == key:
                return v
        return None


def point_name(overrides: tuple[str, ...] | list[str]) -> str:
    return ",".join(sorted(overrides)) or DEFAULT


def model_suffix(overrides: tuple[str, ...] | list[str]) -> str:
    """The suffix of a trained model's name for a train point: "" (default) or "@k=v,k=v"."""
    return f"@{point_name(overrides)}" if overrides else ""


def parse_point_name(name: str) -> tuple[str, ...]:
    """Inverse of `point_name` (values in our grids never contain ',')."""
    return () if name == DEFAULT else tuple(name.split(","))


def expand(params: Mapping[str, Any]) -> list[SweepPoint]:
    """All points of a grid given in Hydra's sweep syntax (cartesian product, keys sorted)."""
    if not params:
        return [SweepPoint(())]
    parser = OverridesParser.create()
    axes = []
    for key in sorted(params):
        (ov,) = parser.parse_overrides([f"{key}={params[key]}"])
        values = list(ov.sweep_string_iterator()) if ov.is_sweep_override() else [ov.get_value_element_as_str()]
        if any("," in v or "/" in v for v in values):
            raise ValueError(f"sweep key {key}: values must not contain ',' or '/': {values}")
        axes.append([f"{key}={v}" for v in values])
    return [SweepPoint(tuple(sorted(combo))) for combo in itertools.product(*axes)]


def check_keys(points: list[SweepPoint], compose_fn: Any) -> None:
    """Compose every distinct override once so a typo in a sweep file fails before any job runs."""
    seen: set[str] = set()
    for p in points:
        new = [o for o in p.overrides if o not in seen]
        if new:
            compose_fn(list(p.overrides))
            seen.update(new)
