"""Glue shared by stage functions."""
from __future__ import annotations

from omegaconf import DictConfig

from seer.llm.policy import Policy


def load_policy(cfg: DictConfig, model_dir: str = "") -> Policy:
    """The base model (`cfg.model`), or a trained policy-value directory (`model_dir` / `io.model`)."""
    d = model_dir or cfg.io.model or cfg.model.adapter
    if d and cfg.backend.name == "vllm":
        # vLLM serves the merged weights; a transformers scorer on the same GPU reads the value head
        from seer.llm.vllm_backend import build_vllm_policy

        return build_vllm_policy(cfg, model_dir=d)
    if d:
        from seer.model.backend import build_value_policy

        return build_value_policy(cfg, d)
    from seer.llm.factory import build_policy

    return build_policy(cfg)
