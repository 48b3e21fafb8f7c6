"""`train.sharding=fsdp`: the frozen base weights of a policy-value model sharded over the processes.

torch's FSDP2 (`fully_shard`) wraps each decoder layer (the model's `_no_split_modules`) as one
all-gather group and the rest of the LM (embeddings, final norm, LM head) as the root's, so a
process holds 1/P of the base and gathers one layer at a time. The trainable parameters (LoRA,
value head) are FSDP's `ignored_params`: whole on every process, their gradients summed by
`Dist.all_reduce_grads` and stepped by the same optimizer as without sharding, and their state
dicts (checkpoints, the saved adapter and head) read on rank 0 alone, no gather needed. The module
names are unchanged, so checkpoints resume with or without sharding.
"""
from __future__ import annotations

import logging

from seer.model.policy_value import PolicyValueModel
from seer.train.distributed import Dist

log = logging.getLogger(__name__)


def shard_base(model: PolicyValueModel, dist: Dist) -> None:
    """Shard `model.lm`'s frozen weights over `dist`'s processes, in place; nothing unless `dist.sharded`."""
    if not dist.sharded:
        return
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor import DTensor

    lm = model.lm.get_base_model() if model.has_adapter else model.lm
    name = type(lm).__name__  # fully_shard renames the class
    layer_types = set(getattr(lm, "_no_split_modules", None) or ())
    layers = [m for m in lm.modules() if type(m).__name__ in layer_types]
    if not layers:
        raise ValueError(f"train.sharding=fsdp: {name} names no decoder layer type "
                         f"(_no_split_modules) to shard by")
    trainable = {p for p in model.parameters() if p.requires_grad}
    mesh = init_device_mesh(next(lm.parameters()).device.type, (dist.world,))
    for layer in layers:
        fully_shard(layer, mesh=mesh, ignored_params=trainable)
    fully_shard(lm, mesh=mesh, ignored_params=trainable)
    frozen = [p for p in lm.parameters() if not p.requires_grad]
    log.info("FSDP over %d processes: %d decoder layers + the rest of %s; this process holds %d of the %d "
             "frozen weights", dist.world, len(layers), name,
             sum(p.to_local().numel() if isinstance(p, DTensor) else p.numel() for p in frozen),
             sum(p.numel() for p in frozen))
