"""Shared prefill in the transformers backend: generate calls with and without it (bench/RESULTS.md).

The same `TransformersPolicy.generate` call, once with `prefix_sharing` (one prefill per common
prefix and per distinct prompt of a batch, KV cache copied to the rows) and once without (every row
prefilled on its own, as a plain left-padded `model.generate` does), alternating in one process.
Sampling uses the same seed both ways, so both generate the same tokens (checked: token counts).
Three request shapes of this project:

- explore: SEER MCTS expansions, the exploration prompt (1 few-shot) of N seed problems x n_children;
- beam: adaptive inference round 0, the zero-shot step prompt of N benchmark tasks x B1*B2;
- sra_eval: SRA-MCTS self-evaluation, one prompt per problem (the instructions are shared);
- sra_children: SRA-MCTS self-evaluation of an expansion, 3 children per problem (each problem's
  prompt shared by its children: the grouped prefill).

    .venv/bin/python bench/bench_prefill.py                         # qwen2.5-coder-0.5b
    .venv/bin/python bench/bench_prefill.py --model tiny --problems 4 --tokens 8
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from seer.config import compose
from seer.data.benchmarks import load_benchmark
from seer.data.sources import load_seed, load_sra_leetcode
from seer.model.factory import load_policy
from seer.llm.policy import GenerateRequest
from seer.llm.prompts import STEP_STOP, exploration_prompt, format_question
from seer.llm.thinking_prompts import evaluation_prompt
from seer.stages.explore import exploration_prompt_fn


def workloads(policy, cfg, n_problems: int, tokens: int) -> dict[str, tuple[list[str], GenerateRequest]]:
    seeds = load_seed(cfg.data)[:n_problems]
    explore = exploration_prompt_fn(policy, 1, cfg.random_seed)
    tasks = load_benchmark("humaneval", cfg.bench)[:n_problems]
    beam = [policy.chat_prompt(*exploration_prompt(t, (), ())) for t in tasks]
    leetcode = load_sra_leetcode()[:n_problems]
    sra = [policy.chat_prompt(*evaluation_prompt(format_question(p), ["Sort the input first."])) for p in leetcode]
    children = [policy.chat_prompt(*evaluation_prompt(format_question(p), [step])) for p in leetcode
                for step in ("Sort the input first.", "Use a hash map from value to index.",
                             "Try every pair with two nested loops and keep the best one.")]
    step = dict(temperature=1.0, max_tokens=tokens, stop=list(STEP_STOP), seed=7)
    return {"explore": ([explore(p, []) for p in seeds], GenerateRequest(n=cfg.explore.n_children, **step)),
            "beam": (beam, GenerateRequest(n=cfg.infer.b1 * cfg.infer.b2, **step)),
            "sra_eval": (sra, GenerateRequest(n=1, temperature=0.0, max_tokens=tokens)),
            "sra_children": (children, GenerateRequest(n=1, temperature=0.0, max_tokens=tokens))}


class TokenCounter:
    """Counts the tokens that go through the decoder (prefill and decode steps alike)."""

    def __init__(self, policy) -> None:
        self.decoder = policy.model.get_decoder()
        self.real = self.decoder.forward
        self.tokens = 0
        self.decoder.forward = self

    def __call__(self, *args, **kw):
        self.tokens += kw["input_ids"].numel()
        return self.real(*args, **kw)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen05")
    ap.add_argument("--problems", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=32, help="max new tokens per row")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2, help="rounds of (shared, plain), order alternating; medians")
    ap.add_argument("--only", nargs="*", default=[], help="workload names to run (default: all)")
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    cfg = compose(["experiment=quickstart", f"model={args.model}", f"backend.threads={args.threads}",
                   "backend.progress=false", "tracking=disabled", "explore.n_children=3"])
    policy = load_policy(cfg)
    policy.generate([policy.chat_prompt("Say hi.")], GenerateRequest(max_tokens=4))  # warm-up
    counter = TokenCounter(policy)
    res: dict = {"model": args.model, "threads": args.threads, "batch_size": policy.batch_size,
                 "load_before": os.getloadavg(), "workloads": {}}
    for name, (prompts, req) in workloads(policy, cfg, args.problems, args.tokens).items():
        if args.only and name not in args.only:
            continue
        times: dict[str, list[float]] = {"shared": [], "plain": []}
        toks: dict[str, int] = {}
        prefill: dict[str, int] = {}
        for r in range(args.repeats):
            for mode in (("shared", "plain") if r % 2 == 0 else ("plain", "shared")):
                policy.prefix_sharing = mode == "shared"
                before = counter.tokens
                t0 = time.perf_counter()
                out = policy.generate(prompts, req)
                times[mode].append(time.perf_counter() - t0)
                toks[mode] = sum(g.n_tokens for row in out for g in row)
                # every row's first generated token comes from the prefill, each later one costs a decode step
                prefill[mode] = counter.tokens - before - sum(g.n_tokens - 1 for row in out for g in row)
        row = {"prompts": len(prompts), "n": req.n, "prompt_tokens": prefill,
               "generated_tokens": toks, "seconds": {k: [round(x, 1) for x in v] for k, v in times.items()},
               "speedup": round(statistics.median(times["plain"]) / statistics.median(times["shared"]), 2)}
        res["workloads"][name] = row
        print(json.dumps({name: row}), flush=True)
    res["load_after"] = os.getloadavg()
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
