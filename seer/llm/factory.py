"""`build_policy(cfg)`: the Policy named by `cfg.backend.name`, loaded with `cfg.model`."""
from __future__ import annotations

from typing import Any

from seer.llm.policy import Policy

BACKENDS = ("transformers", "vllm")


def build_policy(cfg: Any, value_fn: Any = None) -> Policy:
    """Load `cfg.model` into the backend `cfg.backend.name`; `value_fn` see seer.llm.hf_backend."""
    name = cfg.backend.name
    if name == "transformers":
        import torch

        from seer.llm.hf_backend import TransformersPolicy
        from seer.llm.load import load_model_and_tokenizer, resolve_device

        if cfg.backend.threads > 0:
            torch.set_num_threads(cfg.backend.threads)
        device = resolve_device(cfg.backend.device)
        model, tok = load_model_and_tokenizer(cfg.model, device=device)
        return TransformersPolicy(model, tok, batch_size=cfg.backend.batch_size, device=device,
                                  seed=cfg.random_seed, chat_template=cfg.model.chat_template,
                                  max_context=cfg.model.max_context, progress=cfg.backend.progress,
                                  value_fn=value_fn, prefix_sharing=cfg.backend.enable_prefix_caching)
    if name == "vllm":
        from seer.llm.vllm_backend import build_vllm_policy  # raises ImportError naming the extra

        return build_vllm_policy(cfg, value_fn=value_fn)
    raise ValueError(f"backend.name: unknown backend {name!r}; valid: {', '.join(BACKENDS)}")
