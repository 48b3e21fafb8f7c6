"""SRA-MCTS: nodes expanded per second, batched explorer vs the authors' loop (issue 7; bench/RESULTS.md).

Baseline: a faithful sequential re-creation of the loop of the authors' implementation
(DIRECT-BIT/SRA-MCTS, `MCTS/mcts.py`): one problem at a time and one generate call per node —
every reflection, every sibling proposal (and each re-draw of a duplicate) and every evaluation
is its own call. It runs the same `BatchedSra` code with one live tree and a policy wrapper that
issues each prompt of a call as a separate call, so the prompts, parsing, selection and backup are
identical and only the batching differs. (The authors' code itself loads its model through
hard-coded paths and prints every step; it cannot run here as published.)

Both run in the same process on the same model, problems (the paper's LeetCode questions) and
settings, after one warm-up call. A node is a child created by an expansion.

    .venv/bin/python bench/bench_sra.py                          # smollm2, 8 problems, 2 iterations
    .venv/bin/python bench/bench_sra.py --model tiny --problems 4
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from seer.config import compose
from seer.data.sources import load_sra_leetcode
from seer.llm.factory import build_policy
from seer.llm.policy import GenerateRequest, Generation, Policy
from seer.search.sra import BatchedSra, SraSettings


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


def run(policy: Policy, problems: list, settings: SraSettings, seed: int) -> dict:
    sra = BatchedSra(policy, settings, seed=seed)
    recs: list[dict] = []
    t0 = time.perf_counter()
    sra(problems, recs.append)
    wall = time.perf_counter() - t0
    e = sra.engine
    return {"wall_s": round(wall, 1), "nodes": sra.nodes, "nodes_per_s": round(sra.nodes / wall, 3),
            "tokens": e.tokens, "tok_per_s": round(e.tokens / wall, 1),
            "generate_calls": getattr(policy, "calls", e.rounds), "generate_share": round(e.generate_seconds / wall, 3),
            "ended": sum(r["ended"] for r in recs), "retries": sum(r["stats"]["retries"] for r in recs)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--problems", type=int, default=8, help="problems (= live trees of the batched run)")
    ap.add_argument("--iterations", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=48, help="max tokens of a proposal, evaluation or reflection")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="", help="also write the results as json here")
    args = ap.parse_args()

    cfg = compose([f"model={args.model}", f"backend.threads={args.threads}", "backend.progress=false",
                   "tracking=disabled", f"explore.batch_problems={args.problems}",
                   f"explore.sra.iterations={args.iterations}", f"explore.sra.max_step_tokens={args.tokens}",
                   f"explore.sra.max_eval_tokens={args.tokens}", f"explore.sra.max_reflection_tokens={args.tokens}"])
    problems = load_sra_leetcode()[: args.problems]
    policy = build_policy(cfg)
    settings = SraSettings.from_config(cfg)
    policy.generate([policy.chat_prompt("Say hi.")], GenerateRequest(max_tokens=4))  # warm-up
    res: dict = {"model": args.model, "problems": len(problems), "iterations": args.iterations,
                 "max_tokens": args.tokens, "n_children": settings.n_children, "threads": args.threads,
                 "cpu_count": os.cpu_count()}
    res["batched"] = run(policy, problems, settings, cfg.random_seed)
    print(json.dumps(res, indent=1), flush=True)
    res["sequential"] = run(OnePromptPerCall(policy), problems, dataclasses.replace(settings, batch_problems=1),
                            cfg.random_seed)
    res["speedup_nodes_per_s"] = round(res["batched"]["nodes_per_s"] / res["sequential"]["nodes_per_s"], 2)
    print(json.dumps(res, indent=1), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
