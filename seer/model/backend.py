"""A trained policy-value directory as a `Policy` of the transformers backend, with `value()`.

The adapter is merged into the base (no LoRA cost at generation time) and the value head becomes
the backend's `value_fn`, so `has_value_head` is True and `value(texts)` reads the head at each
text's final token — what MCTS round 2 and adaptive inference need.
"""
from __future__ import annotations

import os
from typing import Any

from seer.llm.hf_backend import TransformersPolicy
from seer.model.policy_value import PolicyValueModel, load_policy_value


def as_policy(model: PolicyValueModel, *, device: str = "cpu", batch_size: int = 32, seed: int = 0,
              chat_template: bool = True, max_context: int = 0, progress: bool = True,
              prefix_sharing: bool = True) -> TransformersPolicy:
    """Wrap an in-memory policy-value model (no copy of the weights)."""
    return TransformersPolicy(model.lm, model.tokenizer, batch_size=batch_size, device=device, seed=seed,
                              chat_template=chat_template, max_context=max_context, progress=progress,
                              value_fn=model.value_head, prefix_sharing=prefix_sharing)


def build_value_policy(cfg: Any, model_dir: str | os.PathLike[str] | None = None) -> TransformersPolicy:
    """Load `model_dir` (default `cfg.model.adapter`) with the `cfg.backend` / `cfg.model` settings."""
    import torch

    from seer.llm.load import resolve_device, torch_dtype

    d = model_dir or cfg.model.adapter
    if not d:
        raise ValueError("no policy-value model: pass a directory or set model.adapter")
    if cfg.backend.name != "transformers":
        raise ValueError(f"backend.name={cfg.backend.name}: policy-value directories load in the transformers "
                         "backend (vllm scores values through it too)")
    if cfg.backend.threads > 0:
        torch.set_num_threads(cfg.backend.threads)
    device = resolve_device(cfg.backend.device)
    model = load_policy_value(d, merge=True, cache_dir=cfg.model.cache_dir,
                              dtype=torch_dtype(cfg.model.dtype, device), device=device)
    return as_policy(model, device=device, batch_size=cfg.backend.batch_size, seed=cfg.random_seed,
                     chat_template=cfg.model.chat_template, max_context=cfg.model.max_context,
                     progress=cfg.backend.progress, prefix_sharing=cfg.backend.enable_prefix_caching)
