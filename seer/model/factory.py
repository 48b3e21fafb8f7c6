"""`load_policy(cfg, model_dir=...)`: the one place a config becomes a `Policy`.

It chooses the backend (`backend.name`: transformers | vllm), the weights (the base model
`cfg.model`, or a trained policy-value directory: `model_dir`, else `io.model`, else
`model.adapter`) and the value head (a policy-value directory brings its own; the base model has
none, or with `untrained_value_head` a freshly initialised one, as the authors' round 1). Threads and the device are set up here once for every backend.

On vLLM the weights are served merged, and the value head by vLLM too: a second, pooling engine over
the same weights with the head as its classification layer (seer.llm.vllm_value). No transformers
model is kept beside vLLM; the pooling engine holds its own copy of the weights in its place.
"""
from __future__ import annotations

import os
from typing import Any

from seer.llm.hf_backend import TransformersPolicy
from seer.llm.load import load_model_and_tokenizer, resolve_model, setup_device, torch_dtype
from seer.llm.policy import Policy
from seer.model.value_policy import as_policy

BACKENDS = ("transformers", "vllm")


def load_policy(cfg: Any, model_dir: str | os.PathLike[str] = "", untrained_value_head: bool = False) -> Policy:
    """The Policy of `cfg.backend` over the base model or the policy-value directory (see the module);
    `untrained_value_head` gives the base model (only) a fresh value head."""
    name = cfg.backend.name
    if name not in BACKENDS:
        raise ValueError(f"backend.name: unknown backend {name!r}; valid: {', '.join(BACKENDS)}")
    d = str(model_dir or cfg.io.model or cfg.model.adapter)
    if name == "vllm":
        from seer.llm import vllm_backend

        vllm_backend.require_vllm(cfg.backend.device)  # before any weights load: names the extra / the GPU
    device = setup_device(cfg.backend)
    if name == "transformers":
        common: dict[str, Any] = {"device": device, "batch_size": cfg.backend.batch_size, "seed": cfg.random_seed,
                                  "chat_template": cfg.model.chat_template, "max_context": cfg.model.max_context}
        progress, sharing = bool(cfg.backend.progress), bool(cfg.backend.enable_prefix_caching)
        if d:
            return as_policy(_load_trained(cfg, d, device), progress=progress, prefix_sharing=sharing, **common)
        model, tok = load_model_and_tokenizer(cfg.model, device=device)
        return TransformersPolicy(model, tok, progress=progress, prefix_sharing=sharing,
                                  value_fn=_fresh_head(cfg, untrained_value_head), **common)
    head: dict[str, Any] | None = None  # the value head's state (linear.weight, linear.bias)
    if d:
        from seer.model.policy_value import merged_weights, value_head_state

        weights = merged_weights(d, cfg.model.cache_dir, dtype=torch_dtype(cfg.model.dtype, device), device=device)
        tokenizer_dir, head = d, value_head_state(d)
    else:
        weights = tokenizer_dir = resolve_model(cfg.model)
        fresh = _fresh_head(cfg, untrained_value_head)
        if fresh is not None:
            from seer.llm.vllm_value import hidden_size

            fresh.sized(hidden_size(weights))
            head = fresh.state_dict()
    return vllm_backend.build_vllm_policy(cfg, weights, tokenizer_dir, head)


def _fresh_head(cfg: Any, wanted: bool) -> Any:
    if not wanted:
        return None
    from seer.model.policy_value import UntrainedValueHead

    return UntrainedValueHead(seed=cfg.random_seed)


def _load_trained(cfg: Any, model_dir: str, device: str) -> Any:
    from seer.model.policy_value import load_policy_value

    return load_policy_value(model_dir, merge=True, cache_dir=cfg.model.cache_dir,
                             dtype=torch_dtype(cfg.model.dtype, device), device=device)
