"""Adaptive inference: engine utilisation and cost per solved task (issue 6 bench; bench/RESULTS.md).

Engine utilisation: generated tokens/s over a whole value-guided beam search (docs/method.md section 5) of
N benchmark tasks (generation, step parsing, the value pass, ranking: wall clock) divided by the
tokens/s of one raw batched `policy.generate` of the same round-0 request (N root prompts x B1*B2
samples, `</step>` stop) in the same process, measured before and after the search.

Cost per solved task: adaptive inference (the model picks direct or plan per sample, as SEER runs
it) against always-CoT beam search (every first step forced to open a plan: `direct_fraction=0`,
the "without adaptive CoT" ablation) on the same tasks, same model, same seeds; tokens generated
divided by tasks solved in the sandbox.

    .venv/bin/python bench/bench_infer.py --model-dir results/quickstart/models/stage2 --problems 8
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from seer.config import InferConfig, compose, settings
from seer.data.benchmarks import load_benchmark
from seer.eval.score import score_samples
from seer.llm.policy import GenerateRequest
from seer.llm.prompts import STEP_STOP, exploration_prompt
from seer.sandbox import SandboxPool
from seer.sandbox.references import fill_expected_outputs
from seer.search.beam import beam_search_samples
from seer.model.factory import load_policy


def raw_rate(policy, cfg, problems) -> dict:
    """One batched generate of the search's round-0 request: the engine's rate on these prompts."""
    s = settings(cfg.infer, InferConfig)
    prompts = []
    for p in problems:
        user, prefix = exploration_prompt(p, (), ())
        prompts.append(policy.chat_prompt(user, assistant_prefix=prefix))
    req = GenerateRequest(n=s.b1 * s.b2, temperature=s.temperature, top_p=s.top_p, max_tokens=s.max_step_tokens,
                          stop=list(STEP_STOP), seed=s.random_seed)
    t0 = time.perf_counter()
    outs = policy.generate(prompts, req)
    dt = time.perf_counter() - t0
    tokens = sum(g.n_tokens for row in outs for g in row)
    return {"rows": len(prompts) * req.n, "tokens": tokens, "seconds": round(dt, 1), "tok_per_s": round(tokens / dt, 1)}


def search_run(policy, cfg, problems, pool) -> dict:
    t0 = time.perf_counter()
    samples = beam_search_samples(policy, problems, settings(cfg.infer, InferConfig))
    wall = time.perf_counter() - t0
    scores = score_samples(samples, {p.id: p for p in problems}, pool)
    solved = sum(t["correct"] > 0 for t in scores["tasks"].values())
    tokens = sum(s["n_tokens"] for s in samples)
    direct = sum(s["trace"]["direct"] for s in samples)
    return {"direct_fraction": cfg.infer.direct_fraction, "tasks": len(problems), "solved": solved,
            "direct_answers": direct, "tokens": tokens, "wall_s": round(wall, 1),
            "tok_per_s": round(tokens / wall, 1),
            "tokens_per_solved": round(tokens / solved, 1) if solved else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", required=True, help="a trained policy-value model (models/stage2)")
    ap.add_argument("--experiment", default="quickstart")
    ap.add_argument("--bench", default="humaneval")
    ap.add_argument("--problems", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="", help="also write the results as json here")
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides, e.g. infer.b1=3 infer.b2=4")
    args = ap.parse_args()

    base = [f"experiment={args.experiment}", f"backend.threads={args.threads}", "backend.progress=false",
            "tracking=disabled", f"bench.limit={args.problems}", *args.overrides]
    cfg = compose(base)
    problems = fill_expected_outputs(load_benchmark(args.bench, cfg.bench))  # scored below
    policy = load_policy(cfg, args.model_dir)
    s = settings(cfg.infer, InferConfig)
    res: dict = {"model_dir": args.model_dir, "bench": args.bench, "b1": s.b1, "b2": s.b2,
                 "max_depth": s.max_depth, "max_step_tokens": s.max_step_tokens, "threads": args.threads,
                 "cpu_count": os.cpu_count()}
    policy.generate([policy.chat_prompt("Say hi.")], GenerateRequest(max_tokens=4))  # warm-up
    with SandboxPool.from_config(cfg.sandbox) as pool:
        raw = [raw_rate(policy, cfg, problems)]
        res["adaptive"] = search_run(policy, cfg, problems, pool)
        raw.append(raw_rate(policy, cfg, problems))
        res["always_cot"] = search_run(policy, compose([*base, "infer.direct_fraction=0"]), problems, pool)
    res["raw"] = {"before": raw[0], "after": raw[1], "tok_per_s": round((raw[0]["tok_per_s"] + raw[1]["tok_per_s"]) / 2, 1)}
    res["utilisation"] = round(res["adaptive"]["tok_per_s"] / res["raw"]["tok_per_s"], 3)
    a, c = res["adaptive"]["tokens_per_solved"], res["always_cot"]["tokens_per_solved"]
    res["cost_ratio_adaptive_vs_cot"] = round(a / c, 3) if a and c else None
    print(json.dumps(res, indent=1), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
