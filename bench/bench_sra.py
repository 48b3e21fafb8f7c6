"""SRA-MCTS: nodes expanded per second, batched explorer vs the authors' loop (issue 7; bench/RESULTS.md).

Baseline: a faithful sequential re-creation of the loop of the authors' implementation
(DIRECT-BIT/SRA-MCTS, `MCTS/mcts.py`): one problem at a time and one generate call per node —
every reflection, every sibling proposal (and each re-draw of a duplicate) and every evaluation
is its own call. It runs the same `BatchedSra` code with one live tree and a policy wrapper that
issues each prompt of a call as a separate call, so the prompts, parsing, selection and backup are
identical and only the batching differs. (The authors' code itself loads its model through
hard-coded paths and prints every step; it cannot run here as published.) With --authors-engine the
loop also runs on the authors' engine: each call one plain `model.generate` (their
`get_local_response`), with our stop strings - batching plus this backend against their whole stack.

Both run in the same process on the same model, problems (the paper's LeetCode questions) and
settings, after one warm-up call, in pairs of alternating order. A node is a child created by an
expansion. Also measured first: the backend's own batching gain on these prompts (one evaluation
prompt per problem, generated one per call vs in one call, greedy), which bounds the search's gain.

    .venv/bin/python bench/bench_sra.py                          # smollm2, 8 problems, 2 iterations
    .venv/bin/python bench/bench_sra.py --model tiny --problems 4
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from seer.config import ExploreConfig, SraConfig, compose
from seer.config import settings as settings_of
from seer.data.sources import load_sra_leetcode
from seer.model.factory import load_policy
from seer.llm.hf_backend import cut_at_stop
from seer.llm.policy import GenerateRequest, Generation, Policy
from seer.search.sra import BatchedSra


class OnePromptPerCall:
    """A policy that forwards each prompt of a call as its own generate call (the authors' loop)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.has_value_head = False
        self.calls = 0

    def generate(self, prompts: Sequence[str], req: GenerateRequest) -> list[list[Generation]]:
        out = []
        for p in prompts:
            self.calls += 1
            out.extend(self.policy.generate([p], req))
        return out

    def chat_prompt(self, user: str, system: str | None = None, assistant_prefix: str = "") -> str:
        return self.policy.chat_prompt(user, system, assistant_prefix)

    def count_tokens(self, text: str) -> int:
        return self.policy.count_tokens(text)

    def value(self, texts: Sequence[str]) -> list[float]:
        raise NotImplementedError


class DecoderClock:
    """Seconds in the decoder, prompt runs (several tokens a row) apart from decode steps (one);
    what is left of the wall time is the lm_head, sampling, stop checks and the search itself."""

    def __init__(self, model) -> None:
        self.decoder = model.get_decoder()
        self.real = self.decoder.forward
        self.seconds = {"prefill": 0.0, "decode": 0.0}
        self.decoder.forward = self

    def __call__(self, *args, **kw):
        t0 = time.perf_counter()
        out = self.real(*args, **kw)
        self.seconds["prefill" if kw["input_ids"].shape[1] > 1 else "decode"] += time.perf_counter() - t0
        return out


class GeneratePerCall(OnePromptPerCall):
    """The authors' engine as well as their loop: each prompt is one plain `model.generate` call
    (their `get_local_response`: static batching of one row, transformers' own sampling and KV
    cache), given our stop strings so that the search sees the same kind of text."""

    @torch.inference_mode()
    def generate(self, prompts: Sequence[str], req: GenerateRequest) -> list[list[Generation]]:
        pol = self.policy
        out = []
        for p in prompts:
            self.calls += 1
            ids = torch.tensor([pol.encode(p)])
            res = pol.model.generate(
                input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=req.max_tokens,
                do_sample=req.temperature > 0, temperature=req.temperature or None, top_p=req.top_p, top_k=0,
                stop_strings=list(req.stop) or None, tokenizer=pol.tokenizer, pad_token_id=pol.pad_id,
                eos_token_id=sorted(pol.eos_ids), output_logits=True, return_dict_in_generate=True)
            toks = res.sequences[0, ids.shape[1]:]
            lp = torch.stack([torch.log_softmax(x[0].float(), -1)[t] for x, t in zip(res.logits, toks)])
            text, stopped = cut_at_stop(pol.tokenizer.decode(toks, skip_special_tokens=True), req.stop)
            out.append([Generation(text, len(toks), float(lp.mean()) if len(toks) else 0.0,
                                   "stop" if stopped or (len(toks) and int(toks[-1]) in pol.eos_ids) else "length")])
        return out


def run(policy: Policy, problems: list, settings: SraConfig, batch_problems: int, seed: int,
        clock: DecoderClock) -> dict:
    sra = BatchedSra(policy, settings, seed=seed, batch_problems=batch_problems)
    recs: list[dict] = []
    before = dict(clock.seconds)
    t0 = time.perf_counter()
    sra(problems, recs.append)
    wall = time.perf_counter() - t0
    e = sra.engine
    spent = {k: round(clock.seconds[k] - before[k], 1) for k in before}
    return {"wall_s": round(wall, 1), "nodes": sra.nodes, "nodes_per_s": round(sra.nodes / wall, 3),
            "decoder_prefill_s": spent["prefill"], "decoder_decode_s": spent["decode"],
            "other_s": round(wall - sum(spent.values()), 1),
            "tokens": e.tokens, "tok_per_s": round(e.tokens / wall, 1),
            "generate_calls": getattr(policy, "calls", e.rounds), "generate_share": round(e.generate_seconds / wall, 3),
            "ended": sum(r["ended"] for r in recs), "retries": sum(r["stats"]["retries"] for r in recs)}


def raw_batching(policy: Policy, problems: list, settings: SraConfig) -> dict:
    """The backend's own batching gain on this machine: the evaluation prompts of the problems (one
    step each), generated one per call and then in one call, same request. Bounds what batching
    the search can gain here."""
    from seer.llm.prompts import format_question
    from seer.llm.thinking_prompts import evaluation_prompt

    users = [evaluation_prompt(format_question(p), ["Sort the input first."]) for p in problems]
    prompts = [policy.chat_prompt(u, assistant_prefix=a) for u, a in users]
    req = GenerateRequest(max_tokens=settings.max_eval_tokens, temperature=0.0)  # greedy: the same tokens both ways
    t0 = time.perf_counter()
    one = [policy.generate([x], req)[0][0].n_tokens for x in prompts]
    t_one = time.perf_counter() - t0
    t0 = time.perf_counter()
    batch = [row[0].n_tokens for row in policy.generate(prompts, req)]
    t_batch = time.perf_counter() - t0
    return {"prompts": len(prompts), "one_per_call_s": round(t_one, 1), "batched_s": round(t_batch, 1),
            "tokens": [sum(one), sum(batch)], "tok_per_s": [round(sum(one) / t_one, 1), round(sum(batch) / t_batch, 1)],
            "speedup_per_prompt": round(t_one / t_batch, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--problems", type=int, default=8, help="problems (= live trees of the batched run)")
    ap.add_argument("--iterations", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=48, help="max tokens of a proposal, evaluation or reflection")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (2 thrashes when the cores are shared)")
    ap.add_argument("--repeats", type=int, default=2, help="batched/sequential pairs, in alternating order")
    ap.add_argument("--authors-engine", action="store_true",
                    help="also run the loop on plain `model.generate` calls (the authors' engine)")
    ap.add_argument("--raw-only", action="store_true", help="only the backend's batching gain (quick, any model)")
    ap.add_argument("--out", default="", help="also write the results as json here")
    args = ap.parse_args()

    cfg = compose([f"model={args.model}", f"backend.threads={args.threads}", "backend.progress=false",
                   "tracking=disabled", f"explore.batch_problems={args.problems}",
                   f"explore.sra.iterations={args.iterations}", f"explore.sra.max_step_tokens={args.tokens}",
                   f"explore.sra.max_eval_tokens={args.tokens}", f"explore.sra.max_reflection_tokens={args.tokens}"])
    problems = load_sra_leetcode()[: args.problems]
    policy = load_policy(cfg)
    explore = settings_of(cfg.explore, ExploreConfig)
    settings = explore.sra
    policy.generate([policy.chat_prompt("Say hi.")], GenerateRequest(max_tokens=4))  # warm-up
    res: dict = {"model": args.model, "problems": len(problems), "iterations": args.iterations,
                 "max_tokens": args.tokens, "n_children": settings.n_children, "threads": args.threads,
                 "cpu_count": os.cpu_count()}
    res["raw_batching"] = run_raw = raw_batching(policy, problems, settings)
    print(json.dumps(run_raw), flush=True)
    if args.raw_only:
        if args.out:
            Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
        return
    clock = DecoderClock(policy.model)
    res["rounds"] = []
    for r in range(args.repeats):
        # alternate the order, so a change of machine load does not favour one side
        pair: dict = {}
        names = ["batched", "sequential"] + (["authors_engine"] if args.authors_engine else [])
        for name in names if r % 2 == 0 else names[::-1]:
            if name == "batched":
                pair[name] = run(policy, problems, settings, explore.batch_problems, cfg.random_seed + r, clock)
            else:
                loop = OnePromptPerCall(policy) if name == "sequential" else GeneratePerCall(policy)
                pair[name] = run(loop, problems, settings, 1, cfg.random_seed + r, clock)
            print(json.dumps({name: pair[name]}), flush=True)
        for name in names[1:]:
            pair[f"speedup_vs_{name}"] = round(pair["batched"]["nodes_per_s"] / pair[name]["nodes_per_s"], 2)
        res["rounds"].append(pair)
    for name in names[1:]:
        res[f"speedup_vs_{name}_median"] = round(statistics.median(p[f"speedup_vs_{name}"] for p in res["rounds"]), 2)
    print(json.dumps(res, indent=1), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
