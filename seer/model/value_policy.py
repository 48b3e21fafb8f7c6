"""A policy-value model as a `Policy` of the transformers backend, with `value()`.

The value head becomes the backend's `value_fn`, so `has_value_head` is True and `value(texts)`
reads the head at each text's final token — what MCTS round 2 and adaptive inference need.
`seer.model.factory.load_policy` loads trained directories merged (no LoRA cost at generation
time) through this; training wraps its model in it to format prompts exactly as inference does.
"""
from __future__ import annotations

from seer.llm.hf_backend import TransformersPolicy
from seer.model.policy_value import PolicyValueModel


def as_policy(model: PolicyValueModel, *, device: str = "cpu", batch_size: int = 32, seed: int = 0,
              chat_template: bool = True, max_context: int = 0, progress: bool = True,
              prefix_sharing: bool = True) -> TransformersPolicy:
    """Wrap an in-memory policy-value model (no copy of the weights)."""
    return TransformersPolicy(model.lm, model.tokenizer, batch_size=batch_size, device=device, seed=seed,
                              chat_template=chat_template, max_context=max_context, progress=progress,
                              value_fn=model.value_head, prefix_sharing=prefix_sharing)

