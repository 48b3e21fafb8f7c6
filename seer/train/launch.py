"""`python -m seer.train.launch --processes G [--nodes N] <stage> [overrides...]`: a training stage
(train, sft) on G processes per node, one per device, through `accelerate launch` (torchrun).

The Snakemake train rules call it with G = the stage's `gpu` resource (`cluster.stages.train.gpu`)
and N = its `nodes` (workflow/rules/common.smk `seer_train`). G x N = 1 runs `python -m seer` in
this process's place, so a laptop run is unchanged. Across nodes under SLURM the rule runs this
module once per node (`srun --ntasks-per-node=1`): the node's rank is SLURM_NODEID and the first
host of SLURM_JOB_NODELIST is the rendezvous. In local multi-GPU mode (SEER_LOCAL_GPUS) the
stage's devices are claimed here, once for all its processes (seer.local_gpus).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence

RENDEZVOUS_PORT = 29517


def job_shape(resources: Mapping[str, object], stage: str = "train") -> tuple[int, int]:
    """(processes per node, nodes) of a training stage's resources: one process per GPU. `gpu` is the
    job's total (SLURM's --gpus), split evenly over its `nodes`; no GPU is one process."""
    gpus, nodes = max(1, int(resources.get("gpu", 0) or 0)), int(resources.get("nodes", 1) or 1)
    if nodes < 1 or gpus % nodes:
        raise ValueError(f"cluster.stages.{stage}: gpu={gpus} does not split evenly over nodes={nodes} "
                         "(gpu is the job's total)")
    return gpus // nodes, nodes


def first_slurm_host(environ: Mapping[str, str]) -> str:
    """The first host of the job's node list (`scontrol show hostnames` expands ranges)."""
    nodelist = environ.get("SLURM_JOB_NODELIST", "")
    if not nodelist:
        raise ValueError("a multi-node training job needs SLURM (SLURM_JOB_NODELIST is not set)")
    out = subprocess.run(["scontrol", "show", "hostnames", nodelist], check=True, capture_output=True, text=True)
    return out.stdout.split()[0]


def launch_command(processes: int, nodes: int, args: Sequence[str], *, python: str = sys.executable,
                   node_rank: int = 0, main_host: str = "127.0.0.1") -> list[str]:
    """The command line of one node of the job; `args` = the seer stage and its overrides."""
    if processes < 1 or nodes < 1:
        raise ValueError(f"training processes per node ({processes}) and nodes ({nodes}) must be at least 1")
    if processes * nodes == 1:
        return [python, "-m", "seer", *args]
    # --multi_gpu is accelerate's torchrun launcher; on a machine without CUDA its processes join
    # with gloo (seer.train.distributed)
    cmd = [python, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes * nodes),
           "--num_machines", str(nodes), "--mixed_precision", "no", "--dynamo_backend", "no"]
    if nodes > 1:
        cmd += ["--machine_rank", str(node_rank), "--main_process_ip", main_host,
                "--main_process_port", str(RENDEZVOUS_PORT)]
    return [*cmd, "-m", "seer", *args]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m seer.train.launch", description=__doc__.split("\n")[0])
    ap.add_argument("--processes", type=int, default=1, help="processes (devices) per node")
    ap.add_argument("--nodes", type=int, default=1)
    ap.add_argument("args", nargs=argparse.REMAINDER, help="seer stage and overrides")
    ns = ap.parse_args(argv)
    if not ns.args:
        ap.error("missing the seer stage (train or sft)")
    env = os.environ
    node_rank, host = 0, "127.0.0.1"
    if ns.nodes > 1:
        node_rank, host = int(env.get("SLURM_NODEID", "0")), first_slurm_host(env)
    lease = None
    if env.get("SEER_LOCAL_GPUS", "").strip():
        from seer.config import compose
        from seer.local_gpus import claim_local_gpus

        stage, overrides = ns.args[0], ns.args[1:]
        lease = claim_local_gpus(compose([*overrides, f"stage={stage}"]), stage)
    cmd = launch_command(ns.processes, ns.nodes, ns.args, node_rank=node_rank, main_host=host)
    try:
        return subprocess.call(cmd)
    finally:
        if lease is not None:
            lease.release()


if __name__ == "__main__":
    sys.exit(main())
