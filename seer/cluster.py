"""Compute resources of a `seer` stage, from the `cluster` config section.

One function, read by two callers: the Snakefile (`res(stage)` in workflow/rules/common.smk turns it
into a rule's `resources:`, which the SLURM executor maps to sbatch flags) and the `seer` CLI (in
local multi-GPU mode it claims as many devices as its stage's `gpu`, see seer.local_gpus). Both compose
the same config, so they agree on the count without passing it around.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from seer.stages import STAGES

# Snakemake resources a stage may set: the five every stage has, then SLURM extras passed through
# unchanged (see the snakemake-executor-plugin-slurm docs for their meaning)
CORE_KEYS = ("gpu", "cpus_per_task", "mem_mb", "runtime", "slurm_partition")
EXTRA_KEYS = ("gpu_model", "constraint", "qos", "slurm_account", "slurm_extra", "nodes", "tasks")
LOCAL_GPUS_ENV = "SEER_LOCAL_GPUS"


def uses_gpus(cfg: Any, environ: Mapping[str, str] | None = None) -> bool:
    """Whether GPU stages request GPUs: the backend is pinned to CUDA, or it is `auto` and the user
    declared local GPUs. Otherwise every stage gets gpu=0 so a CPU machine never waits for one."""
    env = os.environ if environ is None else environ
    device = str(cfg.backend.device)
    return device.startswith("cuda") or (device == "auto" and bool(env.get(LOCAL_GPUS_ENV, "").strip()))


def stage_resources(cfg: Any, stage: str, environ: Mapping[str, str] | None = None
                    ) -> dict[str, int | str]:
    """`cluster.default` updated with `cluster.stages.<stage>`, checked, as Snakemake resources.

    `slurm_partition` falls back to `cluster.gpu_partition` / `cluster.cpu_partition` by whether the
    stage got GPUs, and is left out when empty (the cluster's default partition).
    """
    if stage not in STAGES:
        raise ValueError(f"cluster: unknown stage {stage!r}; valid: {', '.join(STAGES)}")
    unknown = sorted(set(cfg.cluster.stages) - set(STAGES))
    if unknown:
        raise ValueError(f"cluster.stages: unknown stage(s) {', '.join(unknown)}; valid: {', '.join(STAGES)}")
    spec: dict[str, Any] = {}
    for where, part in (("cluster.default", cfg.cluster.default), (f"cluster.stages.{stage}",
                                                                    cfg.cluster.stages.get(stage) or {})):
        for key, value in part.items():
            if key not in CORE_KEYS + EXTRA_KEYS:
                raise ValueError(f"{where}.{key}: unknown resource; valid: {', '.join(CORE_KEYS + EXTRA_KEYS)}")
            spec[key] = value
    out: dict[str, int | str] = {}
    for key in ("gpu", "cpus_per_task", "mem_mb", "runtime"):
        try:
            out[key] = int(spec.get(key, 0))
        except (TypeError, ValueError):
            raise ValueError(f"cluster.stages.{stage}.{key}: {spec.get(key)!r} is not an integer "
                             "(runtime is in minutes, mem_mb in MB)") from None
        if out[key] < 0 or (key != "gpu" and out[key] == 0):
            raise ValueError(f"cluster.stages.{stage}.{key}: {out[key]} must be "
                             + ("at least 0" if key == "gpu" else "positive"))
    if not uses_gpus(cfg, environ):
        out["gpu"] = 0
    partition = spec.get("slurm_partition") or (cfg.cluster.gpu_partition if out["gpu"] else cfg.cluster.cpu_partition)
    if partition:
        out["slurm_partition"] = str(partition)
    for key in EXTRA_KEYS:
        if spec.get(key) not in (None, ""):
            out[key] = spec[key]
    return out
