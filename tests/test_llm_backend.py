"""The transformers Policy on the tiny random model: batching, stops, seeds, log-probs, OOM, values."""
import math

import pytest
import torch

from seer.config import compose
from seer.model.factory import load_policy
from seer.llm.hf_backend import TransformersPolicy, cut_at_stop
from seer.llm.load import load_model_and_tokenizer
from seer.llm.policy import GenerateRequest, Policy

PROMPTS = ["def add(a, b):", "Write a function to find the shared elements of two lists.", "x"]


@pytest.fixture(scope="module")
def model_tok(tiny_model_dir):
    # one thread: the tiny model's matmuls are too small to gain from more, and the test machine's
    # cores are shared (spinning OpenMP threads slow everything down)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield load_model_and_tokenizer(compose(["model=tiny"]).model, device="cpu")
    torch.set_num_threads(threads)


def make_policy(model_tok, **kw):
    model, tok = model_tok
    return TransformersPolicy(model, tok, **{"batch_size": 4, "progress": False, **kw})


def test_load_policy_loads_tiny_and_satisfies_the_protocol(tiny_model_dir):
    pol = load_policy(compose(["model=tiny", "backend.progress=false"]))
    assert isinstance(pol, Policy)
    assert pol.has_value_head is False
    assert pol.model.config.vocab_size == len(pol.tokenizer)
    assert pol.tokenizer.padding_side == "left"


def test_load_policy_other_backends():
    with pytest.raises(ImportError, match="optional extra for GPU clusters"):
        load_policy(compose(["backend=vllm"]))
    cfg = compose([])
    cfg.backend.name = "tgi"
    with pytest.raises(ValueError, match="unknown backend 'tgi'"):
        load_policy(cfg)


def test_n_samples_per_prompt_in_prompt_order(model_tok):
    pol = make_policy(model_tok)
    out = pol.generate(PROMPTS, GenerateRequest(n=3, temperature=0, max_tokens=6))
    assert [len(o) for o in out] == [3, 3, 3]
    # greedy: each prompt's batched answer equals its answer generated alone (order is preserved
    # even though rows are sorted by length and padded together)
    for p, gens in zip(PROMPTS, out):
        alone = pol.generate([p], GenerateRequest(n=1, temperature=0, max_tokens=6))[0][0]
        assert {g.text for g in gens} == {alone.text}
        assert all(g.n_tokens == 6 and g.finish_reason == "length" for g in gens)


def test_stop_string_cuts_text_and_stops_early(model_tok):
    pol = make_policy(model_tok)
    full = pol.generate([PROMPTS[0]], GenerateRequest(n=1, temperature=0, max_tokens=24))[0][0]
    assert full.n_tokens == 24 and len(full.text) > 8
    stop = full.text[4:7]  # a string the greedy continuation is known to produce
    cut = pol.generate([PROMPTS[0]], GenerateRequest(n=1, temperature=0, max_tokens=24, stop=["@@@", stop]))[0][0]
    assert cut.text == full.text[: full.text.index(stop) + len(stop)]
    assert cut.finish_reason == "stop"
    assert cut.n_tokens < full.n_tokens  # generation stopped, not just the text cut


def test_finished_rows_leave_the_batch(model_tok):
    pol = make_policy(model_tok, batch_size=8)
    req = GenerateRequest(n=1, temperature=0, max_tokens=24)
    alone = [pol.generate([p], req)[0][0] for p in PROMPTS]
    stop = alone[0].text[4:7]  # the first prompt's greedy continuation stops early, the others run on
    assert not any(stop in g.text for g in alone[1:])
    widths = []
    real = pol.model.forward

    def spy(*args, **kw):
        widths.append(kw["input_ids"].shape[0])
        return real(*args, **kw)

    pol.model.forward = spy
    try:
        out = pol.generate(PROMPTS, GenerateRequest(n=1, temperature=0, max_tokens=24, stop=[stop]))
    finally:
        del pol.model.forward
    assert out[0][0].text == alone[0].text[: alone[0].text.index(stop) + len(stop)]
    assert [o[0].text for o in out[1:]] == [g.text for g in alone[1:]]
    assert [o[0].n_tokens for o in out[1:]] == [24, 24]
    # one forward per step: 3 rows until the first one stops, 2 rows after it
    k = out[0][0].n_tokens
    assert widths == [3] * k + [2] * (24 - k)


def test_cut_at_stop_takes_the_earliest_stop():
    assert cut_at_stop("a</step>b</code>", ["</code>", "</step>"]) == ("a</step>", True)
    assert cut_at_stop("abc", ["x", ""]) == ("abc", False)


def test_seeded_sampling_is_reproducible(model_tok):
    req = GenerateRequest(n=2, temperature=1.0, max_tokens=10)
    a = make_policy(model_tok, seed=5).generate(PROMPTS, req)
    b = make_policy(model_tok, seed=5).generate(PROMPTS, req)
    c = make_policy(model_tok, seed=6).generate(PROMPTS, req)
    assert [[g.text for g in o] for o in a] == [[g.text for g in o] for o in b]
    assert [[g.text for g in o] for o in a] != [[g.text for g in o] for o in c]
    # an explicit request seed fixes the samples whatever the policy's call history
    pol = make_policy(model_tok, seed=1)
    req_s = GenerateRequest(n=2, temperature=1.0, max_tokens=10, seed=42)
    first = pol.generate(PROMPTS, req_s)
    pol.generate(PROMPTS, req)
    assert [[g.text for g in o] for o in pol.generate(PROMPTS, req_s)] == [[g.text for g in o] for o in first]
    # without one, successive calls draw new samples (MCTS re-expands the same node)
    assert [[g.text for g in o] for o in pol.generate(PROMPTS, req)] != [[g.text for g in o] for o in
                                                                          pol.generate(PROMPTS, req)]


def test_greedy_is_deterministic(model_tok):
    pol = make_policy(model_tok, seed=1)
    req = GenerateRequest(n=2, temperature=0, max_tokens=10)
    a, b = pol.generate(PROMPTS, req), make_policy(model_tok, seed=2).generate(PROMPTS, req)
    assert [[g.text for g in o] for o in a] == [[g.text for g in o] for o in b]


def test_mean_logprob_is_the_models_logprob_of_the_sampled_tokens(model_tok):
    model, tok = model_tok
    pol = make_policy(model_tok)
    prompt = PROMPTS[1]
    compared = 0
    for temperature in (0.0, 0.7, 1.0):
        g = pol.generate([prompt], GenerateRequest(n=1, temperature=temperature, max_tokens=12))[0][0]
        assert math.isfinite(g.mean_logprob) and g.mean_logprob <= 0
        # recompute by teacher forcing: the untempered model distribution over the same tokens
        p_ids = pol.encode(prompt)
        g_ids = tok(g.text, add_special_tokens=False)["input_ids"]
        if len(g_ids) != g.n_tokens:  # re-tokenisation merged differently; compare only exact cases
            continue
        ids = torch.tensor([p_ids + g_ids])
        with torch.no_grad():
            lp = torch.log_softmax(model(ids).logits[0, len(p_ids) - 1:-1].float(), -1)
        expected = lp.gather(1, torch.tensor(g_ids)[:, None]).mean().item()
        assert g.mean_logprob == pytest.approx(expected, abs=1e-4)
        compared += 1
    assert compared >= 1


def test_token_counts_match_retokenisation_roughly(model_tok):
    pol = make_policy(model_tok)
    out = pol.generate(PROMPTS, GenerateRequest(n=2, temperature=1.0, max_tokens=16))
    gens = [g for o in out for g in o]
    for g in gens:
        assert 1 <= g.n_tokens <= 16
        assert g.finish_reason == "stop" or g.n_tokens == 16
    # a random model's text re-tokenises differently (merged pieces, broken bytes become U+FFFD),
    # so only the totals are compared
    ratio = sum(pol.count_tokens(g.text) for g in gens) / sum(g.n_tokens for g in gens)
    assert 0.5 <= ratio <= 2.0


def test_out_of_memory_halves_the_batch_and_retries(model_tok, monkeypatch):
    # plain layout: each batch's first forward is its whole prompt (a shared prefill goes through the decoder)
    pol = make_policy(model_tok, batch_size=8, prefix_sharing=False)
    ref = pol.generate(PROMPTS, GenerateRequest(n=2, temperature=0, max_tokens=5))
    real = pol.model.forward
    sizes = []

    def flaky(*args, **kw):
        if kw["past_key_values"].get_seq_length() == 0:  # a batch's first forward (its prompt)
            sizes.append(kw["input_ids"].shape[0])
        if kw["input_ids"].shape[0] > 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(*args, **kw)

    monkeypatch.setattr(pol.model, "forward", flaky)
    out = pol.generate(PROMPTS, GenerateRequest(n=2, temperature=0, max_tokens=5))
    assert sizes == [6, 3] + [1] * 6  # 6 rows: OOM at 6, OOM at 3, then one row at a time
    assert pol.batch_size == 1  # the smaller size is kept for later calls
    assert [[g.text for g in o] for o in out] == [[g.text for g in o] for o in ref]

    def broken(*args, **kw):
        raise RuntimeError("shape mismatch")

    monkeypatch.setattr(pol.model, "forward", broken)
    with pytest.raises(RuntimeError, match="shape mismatch"):  # anything but OOM propagates
        pol.generate(PROMPTS, GenerateRequest(n=1, max_tokens=2))


def test_prompt_over_context_length_is_reported(model_tok):
    pol = make_policy(model_tok, max_context=16)
    out = pol.generate(["word " * 40, "x"], GenerateRequest(n=2, temperature=0, max_tokens=30))
    assert [g.finish_reason for g in out[0]] == ["context", "context"]
    assert out[0][0].text == "" and out[0][0].n_tokens == 0
    assert out[1][0].n_tokens <= 16 - len(pol.encode("x"))  # generation capped by the context


def test_chat_prompt(model_tok):
    pol = make_policy(model_tok)
    p = pol.chat_prompt("Solve it.", system="Be brief.", assistant_prefix="<step>\n")
    assert p.startswith("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nSolve it.")
    assert p.endswith("<|im_start|>assistant\n<step>\n")
    plain = make_policy(model_tok, chat_template=False).chat_prompt("Solve it.", assistant_prefix="<step>\n")
    assert plain == "Solve it.\n\n<step>\n"
    assert pol.count_tokens("def f(x):") == len(pol.tokenizer("def f(x):")["input_ids"])


def test_value_needs_a_value_fn_and_reads_the_last_hidden_state(model_tok):
    with pytest.raises(NotImplementedError):
        make_policy(model_tok).value(["x"])
    torch.manual_seed(0)
    head = torch.nn.Linear(model_tok[0].config.hidden_size, 1)
    pol = make_policy(model_tok, value_fn=lambda h: torch.tanh(head(h)).squeeze(-1), batch_size=2)
    assert pol.has_value_head
    vals = pol.value(PROMPTS)
    assert all(-1 <= v <= 1 for v in vals)
    # batched (padded) values equal values computed one text at a time, in input order
    assert vals == pytest.approx([pol.value([t])[0] for t in PROMPTS], abs=1e-5)
    assert len({round(v, 6) for v in vals}) == 3


SHARED = "Solve the problem step by step. Write each step in its own block, then the code. Problem: "


def test_layout_shares_the_common_prefix_and_repeats():
    from seer.llm.hf_backend import layout_batch, positions

    seqs = [[5, 6, 7, 8], [5, 6, 9], [5, 6, 7, 8], [5, 6, 9]]
    lay = layout_batch(seqs, pad_id=0, share=True)
    assert lay.prefix == 2 and lay.first == [0, 1] and lay.which == [0, 1, 0, 1] and lay.saves_prefill
    assert lay.ids.tolist() == [[5, 6, 7, 8], [5, 6, 0, 9], [5, 6, 7, 8], [5, 6, 0, 9]]
    # a pad in the middle does not shift the positions: the row sees 0, 1, 2 as when left-padded
    assert positions(lay.mask)[1].tolist() == [0, 1, 0, 2]
    plain = layout_batch(seqs, pad_id=0, share=False)
    assert plain.prefix == 0 and plain.ids.tolist()[1] == [0, 5, 6, 9]
    # identical prompts keep their last token out of the prefix: generate needs it for the logits
    same = layout_batch([[1, 2, 3], [1, 2, 3]], pad_id=0, share=True)
    assert same.prefix == 2 and same.first == [0] and same.saves_prefill
    assert not layout_batch([[1, 2, 3]], pad_id=0, share=True).saves_prefill


@pytest.mark.parametrize("temperature", [0.0, 0.8])
def test_shared_prefill_generates_what_plain_padding_generates(model_tok, temperature):
    # samples of one prompt (MCTS children) and prompts opening with the same instructions: the
    # shared prefill must give every row exactly its own tokens, positions and random draws
    prompts = [SHARED + "add two numbers.", SHARED + "find the longest common prefix of the words.",
               SHARED + "x"]
    req = GenerateRequest(n=3, temperature=temperature, max_tokens=8, seed=11)
    pol = make_policy(model_tok, batch_size=16)
    calls = []
    prefill = pol._prefill_shared
    pol._prefill_shared = lambda lay, seqs: calls.append(lay.prefix) or prefill(lay, seqs)
    shared = pol.generate(prompts, req)
    assert len(calls) == 1 and calls[0] >= len(pol.encode(SHARED)) - 2  # one batch, the instructions shared
    unshared = make_policy(model_tok, batch_size=16, prefix_sharing=False)
    unshared._prefill_shared = lambda lay, seqs: pytest.fail("prefix_sharing=False must prefill every row itself")
    plain = unshared.generate(prompts, req)
    assert [[g.text for g in row] for row in shared] == [[g.text for g in row] for row in plain]
    for rs, rp in zip(shared, plain):
        for a, b in zip(rs, rp):
            assert a.n_tokens == b.n_tokens and a.mean_logprob == pytest.approx(b.mean_logprob, abs=1e-4)


@pytest.mark.parametrize("temperature", [0.0, 0.8])
def test_grouped_prefill_runs_each_tasks_prompt_once(model_tok, temperature):
    # the evaluations of two nodes' children (SRA-MCTS): each task's long prompt once, then each child's step
    add = SHARED + "write a function that adds two numbers given as strings of decimal digits, " * 4
    rev = SHARED + "write a function that reverses a list in place without using the slice syntax, " * 4
    prompts = [add + "Step: use a loop.", rev + "Step: swap the ends.", add + "Step: convert with int and add.",
               rev + "Step: walk two indices towards the middle.", add + "Step: pad the shorter one."]
    req = GenerateRequest(n=2, temperature=temperature, max_tokens=8, seed=3)
    runs = {}
    for sharing in (True, False):
        pol = make_policy(model_tok, batch_size=16, prefix_sharing=sharing)
        decoder, tokens = pol.model.get_decoder(), []
        real = decoder.forward

        def spy(*args, **kw):
            if kw["input_ids"].shape[1] > 1:  # prefill, not a decode step
                tokens.append(kw["input_ids"].numel())
            return real(*args, **kw)

        decoder.forward = spy
        try:
            runs[sharing] = (pol.generate(prompts, req), sum(tokens))
        finally:
            del decoder.forward
    (shared, n_shared), (plain, _) = runs[True], runs[False]
    assert [[g.text for g in row] for row in shared] == [[g.text for g in row] for row in plain]
    for rs, rp in zip(shared, plain):
        assert [g.n_tokens for g in rs] == [g.n_tokens for g in rp]
        assert [g.mean_logprob for g in rs] == pytest.approx([g.mean_logprob for g in rp], abs=1e-4)
    n = lambda text: len(make_policy(model_tok).encode(text))  # noqa: E731
    steps = sum(n(p) - n(add if p.startswith(add) else rev) for p in prompts)
    # each task's prompt once, each step once (a token of slack per prompt where tokens merge at the seam)
    assert n_shared <= n(add) + n(rev) + steps + len(prompts)
    assert n_shared < runs[False][1] / 2


def test_shared_values_equal_plain_values_and_group_by_prompt(model_tok):
    from seer.llm.hf_backend import prompt_groups

    torch.manual_seed(0)
    head = torch.nn.Linear(model_tok[0].config.hidden_size, 1)
    fn = lambda h: torch.tanh(head(h)).squeeze(-1)  # noqa: E731
    # beam candidates: a few continuations of two prompts, one repeated, in mixed order
    # (the instructions all texts open with are shorter than each task's own part, as in real prompts)
    add = SHARED + "write a function that adds two numbers given as strings of decimal digits, " * 4
    rev = SHARED + "write a function that reverses a list in place without using the slice syntax, " * 4
    texts = [add + "\n1. Use +.", rev + "\n1. Swap ends.", add + "\n1. Call sum on the pair.", rev + "\n1. Swap ends.",
             add + "\n"]
    shared = make_policy(model_tok, value_fn=fn, batch_size=8)
    plain = make_policy(model_tok, value_fn=fn, batch_size=8, prefix_sharing=False)
    assert shared.value(texts) == pytest.approx(plain.value(texts), abs=1e-4)
    seqs = sorted(shared.encode(t) for t in texts)
    assert sorted(len(g) for g in prompt_groups(seqs)) == [2, 3]  # one run per prompt


@pytest.mark.parametrize("top_p", [1.0, 0.9])
def test_pick_tokens_draws_from_the_tempered_nucleus(monkeypatch, top_p):
    from seer.llm import hf_backend

    # few candidates: draws outside them (top_p=1) and nuclei reaching past them (0.9) both happen
    monkeypatch.setattr(hf_backend, "CANDIDATES", 6)
    logits = torch.randn(3, 40, generator=torch.Generator().manual_seed(0)) * 2
    gen = torch.Generator().manual_seed(1)
    rows = logits.repeat(4000, 1)
    picks = torch.stack([hf_backend.pick_tokens(rows, 0.8, top_p, gen) for _ in range(3)]).view(-1, 3)
    empirical = torch.stack([torch.bincount(picks[:, r], minlength=40).float() / len(picks) for r in range(3)])
    # the reference: transformers' temperature then top-p warper (sort ascending, drop the cumulative <= 1 - p)
    scores = logits / 0.8
    ordered, order = torch.sort(scores)
    drop = ordered.softmax(-1).cumsum(-1) <= 1 - top_p
    drop[:, -1] = False
    expected = scores.masked_fill(drop.scatter(1, order, drop), float("-inf")).softmax(-1)
    assert (empirical[expected == 0] == 0).all()  # nothing outside the nucleus
    assert (empirical - expected).abs().max() < 0.015  # 12,000 draws per row
    assert (hf_backend.pick_tokens(logits, 0.0, top_p, gen) == logits.argmax(-1)).all()


def test_growing_cache_layer_matches_the_dynamic_cache(model_tok):
    from transformers import DynamicCache

    from seer.llm.hf_backend import GrowingLayer, new_cache

    model, _ = model_tok
    ids = torch.randint(5, 100, (3, 90), generator=torch.Generator().manual_seed(0))
    logits = {}
    for name, cache in (("dynamic", DynamicCache(config=model.config)), ("growing", new_cache(model.config))):
        out = [model(input_ids=ids[:, :40], past_key_values=cache, use_cache=True).logits[:, -1]]
        # decode steps past the first buffer (80 tokens after a 40-token prompt); a row leaves half-way
        for t in range(40, 90):
            if t == 60:
                cache.batch_select_indices(torch.tensor([0, 2]))
            rows = ids[[0, 2], t:t + 1] if t >= 60 else ids[:, t:t + 1]
            out.append(model(input_ids=rows, past_key_values=cache, use_cache=True).logits[:, -1])
        logits[name] = out
    assert all(isinstance(layer, GrowingLayer) for layer in cache.layers)
    assert cache.layers[0].buf_k.shape[-2] >= 90 > 80  # it grew
    for a, b in zip(logits["dynamic"], logits["growing"]):
        assert torch.allclose(a, b, atol=1e-5)
