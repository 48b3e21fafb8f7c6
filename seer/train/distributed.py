"""Data-parallel training across processes: `accelerate launch` starts them, this module syncs them.

A training job with more than one device runs one process per device (`seer.train.launch` builds
the `accelerate launch` command from the stage's resources). Every process holds the whole data
and the same `BatchPlan`, so each knows the global group of `train.grad_accum` micro-batches of an
optimizer step; process r runs micro-batches r, r+P, r+2P, ... of it. The loss terms are already
normalised by group-wide token/value counts (seer.train.trainer), so the SUM of the processes'
gradients is exactly the one-process gradient: `all_reduce_grads` sums them in one flat bucket
(what DDP does, without DDP's requirement that every rank runs a backward: a partial last group
may leave a rank without a micro-batch). Every process then takes the same optimizer step.

The effective batch is the config's, whatever the number of processes:
    batch_size (micro) x grad_accum / P (per process) x P (processes) = batch_size x grad_accum,
so `train.grad_accum` must be a multiple of P (SEER: 4 x 32 = 128 on 1, 2, 4, 8, 16 or 32 GPUs).

Only rank 0 writes the model directory, the checkpoints, metrics.json and the tracker's run; the
others wait at `barrier()` where rank 0 writes something they read next.

`train.sharding`: none (the default) - each process holds the whole frozen base, the fastest when it
fits; fsdp - the base weights are sharded over the processes (seer.train.sharding), for a base that
does not fit one device with its activations (7B in bf16 is 14 GB before the 2,048-token sequences of
a micro-batch). The trainable LoRA and value head stay whole on every process and are synced as
above, so the math is the same. A sharded forward/backward is collective (each layer all-gathers its
weights), so every process must run as many as the others: one short of micro-batches in a partial
last group repeats the group's first with weight 0 (zero gradients, no metrics). The stage-2 KL
reference is the same model with its new adapter disabled, so it is sharded with it. DeepSpeed is
not offered: it cannot run (nor be tested) on this project's CPU machines, and FSDP covers the
memory case.
"""
from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports this module for `is_rank0` before torch is needed
    import torch

log = logging.getLogger(__name__)


def world_size(environ: dict[str, str] | None = None) -> int:
    """Processes of this training job (WORLD_SIZE, set by accelerate / torchrun); 1 when unset."""
    env = os.environ if environ is None else environ
    return int(env.get("WORLD_SIZE", "1") or 1)


def is_rank0(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return int(env.get("RANK", "0") or 0) == 0


@dataclass
class Dist:
    """This process's place in the job; the one-process default does no communication."""

    rank: int = 0
    world: int = 1
    device: str = ""  # the process's own device ("" = the configured one)
    sharded: bool = False  # the base weights are sharded over the processes (train.sharding=fsdp)
    _group: Any = field(default=None, repr=False)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls, device: str, sharding: str = "none") -> Dist:
        """Join the job `accelerate launch` started (gloo on the CPU, nccl on CUDA); one process
        (nothing sharded) when WORLD_SIZE is unset or 1."""
        if world_size() <= 1:
            return cls()
        from accelerate import PartialState

        state = PartialState(cpu=not device.startswith("cuda"))
        own = str(state.device) if device.startswith("cuda") else device
        if not state.is_main_process:
            # one log per job: the other ranks report only problems
            logging.getLogger("seer").setLevel(logging.WARNING)
        sharded = sharding == "fsdp"
        log.info("data-parallel training: %d processes (%s backend)%s", state.num_processes, state.backend,
                 ", base weights sharded (FSDP)" if sharded else "")
        return cls(rank=state.process_index, world=state.num_processes, device=own, sharded=sharded, _group=state)

    def my_micro_batches(self, group: Sequence[int]) -> list[tuple[int, float]]:
        """(micro-batch, weight) pairs this process runs of a global group: round-robin, weight 1;
        sharded, padded with weight-0 repeats of the group's first so every process runs as many."""
        mine = [(k, 1.0) for k in group[self.rank::self.world]]
        if self.sharded and group:
            mine += [(group[0], 0.0)] * (math.ceil(len(group) / self.world) - len(mine))
        return mine

    def all_reduce_grads(self, params: Sequence[torch.nn.Parameter]) -> None:
        """Sum the gradients over the processes (a missing gradient counts as zeros)."""
        if self.world <= 1:
            return
        import torch
        import torch.distributed as td

        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        td.all_reduce(flat, op=td.ReduceOp.SUM)
        offset = 0
        for p in params:
            n = p.numel()
            p.grad = flat[offset:offset + n].view_as(p).clone()
            offset += n

    def sum_floats(self, values: dict[str, float], keys: Sequence[str]) -> dict[str, float]:
        """`values` summed over the processes, for the given keys (a missing key counts as 0)."""
        if self.world <= 1:
            return {k: values.get(k, 0.0) for k in keys if k in values}
        import torch
        import torch.distributed as td

        t = torch.tensor([float(values.get(k, 0.0)) for k in keys], dtype=torch.float64)
        td.all_reduce(t, op=td.ReduceOp.SUM)
        return dict(zip(keys, t.tolist()))

    def barrier(self) -> None:
        if self.world > 1:
            self._group.wait_for_everyone()


def per_process_accum(grad_accum: int, world: int) -> int:
    """Micro-batches each process accumulates per optimizer step (see the module docstring)."""
    accum = max(1, int(grad_accum))
    if accum % world:
        raise ValueError(f"train.grad_accum={accum} is not a multiple of the {world} training processes: the "
                         f"effective batch (train.batch_size x train.grad_accum) must split evenly over them")
    return accum // world


def batch_layout(tcfg: Any, world: int) -> dict[str, int]:
    """micro-batch x accumulation per process x processes = effective batch, from the config."""
    micro, accum = int(tcfg.batch_size), per_process_accum(int(tcfg.grad_accum), world)
    return {"micro_batch": micro, "accum_per_process": accum, "processes": world,
            "effective_batch": micro * accum * world}
