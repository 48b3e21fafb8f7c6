"""The Policy protocol every backend implements (transformers, vllm, scripted fakes in tests)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence, runtime_checkable


@dataclass
class Generation:
    """One sampled continuation."""

    text: str  # the continuation, cut after the stop string (the stop string itself is kept)
    n_tokens: int  # generated tokens (up to and including the one that completed a stop string or EOS)
    # mean log-prob of the generated tokens under the model's own distribution (untempered, untruncated),
    # so it is comparable across sampling settings; SEER's PUCT prior is exp of it
    mean_logprob: float
    finish_reason: str = "stop"  # stop (stop string or EOS) | length (max_tokens) | context (prompt too long)


@dataclass
class GenerateRequest:
    """Sampling settings shared by one batched call."""

    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 512
    stop: list[str] = field(default_factory=list)
    seed: int | None = None


@runtime_checkable
class Policy(Protocol):
    """Batched text generation (+ a value head when the model has one).

    ``generate`` returns, for every prompt, ``req.n`` generations (a list of lists in prompt order).
    Prompts are raw text: callers apply chat templates via ``chat_prompt`` first.
    ``value`` scores full texts (prompt + steps so far) in [-1, 1]; it raises NotImplementedError
    on a policy without a value head (check ``has_value_head``).
    """

    has_value_head: bool

    def generate(self, prompts: Sequence[str], req: GenerateRequest) -> list[list[Generation]]: ...

    def value(self, texts: Sequence[str]) -> list[float]: ...

    def chat_prompt(self, user: str, system: str | None = None, assistant_prefix: str = "") -> str: ...

    def count_tokens(self, text: str) -> int: ...
