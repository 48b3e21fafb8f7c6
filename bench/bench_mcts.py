"""Batched MCTS: engine utilisation and scaling (issue 4 bench; results in bench/RESULTS.md).

Engine utilisation: generated tokens/s over a whole MCTS run of N seed problems (selection,
generation, sandbox runs, backups, prompt building: wall clock) divided by the tokens/s of a raw
batched `policy.generate` at the same batch size (N problems x n_children sequences, the same
root prompts, the same request) measured in the same process. Also reported: the raw rate without
the `</step>` stop (every row runs to max_step_tokens), which exposes what static batching loses
when rows stop at different lengths.

Scaling: MCTS wall time for 8 / 16 / 32 problems in one process (batch_problems=16), and the
explore stage run as 1 shard (2 threads, then 1 thread) vs 2 shards in parallel (1 thread each) on
the same 16 problems.

    .venv/bin/python bench/bench_mcts.py                         # smollm2, embedded explore settings
    .venv/bin/python bench/bench_mcts.py --model qwen05 --problems 16 --skip-scaling
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from seer.config import ExploreConfig, compose
from seer.config import settings as settings_of
from seer.data.jsonl import read_jsonl, write_jsonl
from seer.data.sources import load_seed
from seer.model.factory import load_policy
from seer.sandbox import SandboxPool
from seer.search.mcts import BatchedMcts, step_request
from seer.stages.explore import exploration_prompt_fn


def overrides(args: argparse.Namespace, threads: int) -> list[str]:
    return [f"model={args.model}", f"backend.threads={threads}", "backend.progress=false", "tracking=disabled",
            f"explore.iterations={args.iterations}", f"explore.max_step_tokens={args.step_tokens}",
            "data.splits=[train]", f"data.limit={max(args.sizes)}"]


def mcts_run(policy, pool, cfg, problems, batch: int) -> dict:
    settings = dataclasses.replace(settings_of(cfg.explore, ExploreConfig), batch_problems=batch)
    mcts = BatchedMcts(policy, pool, exploration_prompt_fn(policy, cfg.explore.n_fewshot, cfg.random_seed), settings,
                       max_context=cfg.model.max_context)
    recs: list[dict] = []
    t0 = time.perf_counter()
    mcts(problems, recs.append)
    wall = time.perf_counter() - t0
    e = mcts.engine
    return {"problems": len(problems), "wall_s": round(wall, 1), "tokens": e.tokens, "rounds": e.rounds,
            "generate_s": round(e.generate_seconds, 1), "tok_per_s": round(e.tokens / wall, 1),
            "generate_share": round(e.generate_seconds / wall, 3),
            "sandbox_runs": sum(r["stats"]["sandbox_runs"] for r in recs)}


def raw_rate(policy, cfg, problems, stop: bool) -> dict:
    settings = settings_of(cfg.explore, ExploreConfig)
    fn = exploration_prompt_fn(policy, cfg.explore.n_fewshot, cfg.random_seed)
    req = step_request(settings, settings.n_children)
    if not stop:
        req.stop = []
    t0 = time.perf_counter()
    outs = policy.generate([fn(p, []) for p in problems], req)
    dt = time.perf_counter() - t0
    tokens = sum(g.n_tokens for row in outs for g in row)
    return {"rows": len(problems) * settings.n_children, "tokens": tokens, "seconds": round(dt, 1),
            "tok_per_s": round(tokens / dt, 1)}


def shard_runs(args: argparse.Namespace, seed: Path, n_shards: int, threads: int, workdir: Path) -> dict:
    """The real `seer explore` stage: n_shards processes in parallel, each with `threads` torch threads."""
    procs = []
    t0 = time.perf_counter()
    for k in range(n_shards):
        out = workdir / f"{n_shards}x{threads}" / f"shard-{k}.jsonl.gz"
        cmd = [sys.executable, "-m", "seer", "explore", *overrides(args, threads), f"explore.shards={n_shards}",
               f"shard={k}", f"io.seed={seed}", f"io.out={out}", f"sandbox.workers={max(1, 2 // n_shards)}"]
        procs.append((out, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)))
    for _, p in procs:
        err = p.communicate()[1]
        if p.returncode != 0:
            raise RuntimeError(f"explore shard failed:\n{err[-2000:]}")
    wall = time.perf_counter() - t0
    recs = [r for out, _ in procs for r in read_jsonl(out)]
    return {"shards": n_shards, "threads_each": threads, "problems": len(recs), "wall_s": round(wall, 1),
            "tokens": sum(r["stats"]["tokens"] for r in recs),
            "tok_per_s": round(sum(r["stats"]["tokens"] for r in recs) / wall, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--problems", type=int, default=16, help="problems of the utilisation run (= live trees)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32])
    ap.add_argument("--iterations", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads in-process (on 2 busy cores 1 decodes ~10x faster than 2)")
    ap.add_argument("--step-tokens", type=int, default=64)
    ap.add_argument("--skip-scaling", action="store_true")
    ap.add_argument("--out", default="", help="also write the results as json here")
    args = ap.parse_args()
    args.sizes = sorted(set(args.sizes) | {args.problems})

    cfg = compose(overrides(args, args.threads))
    problems = load_seed(cfg.data)[: max(args.sizes)]
    policy = load_policy(cfg)
    res: dict = {"model": args.model, "iterations": args.iterations, "step_tokens": args.step_tokens,
                 "n_children": cfg.explore.n_children, "cpu_count": os.cpu_count()}
    with SandboxPool.from_config(cfg.sandbox) as pool:
        batch = problems[: args.problems]
        warm = exploration_prompt_fn(policy, 1, 0)(batch[0], [])
        policy.generate([warm], step_request(settings_of(cfg.explore, ExploreConfig), 1))
        # raw rate before and after the MCTS run: the machine's load drifts (2 shared cores)
        raw = [raw_rate(policy, cfg, batch, stop=True)]
        res["mcts"] = mcts_run(policy, pool, cfg, batch, batch=args.problems)
        raw.append(raw_rate(policy, cfg, batch, stop=True))
        res["raw_nostop"] = raw_rate(policy, cfg, batch, stop=False)
        res["raw_stop"] = {"before": raw[0], "after": raw[1],
                           "tok_per_s": round((raw[0]["tok_per_s"] + raw[1]["tok_per_s"]) / 2, 1)}
        res["utilisation"] = round(res["mcts"]["tok_per_s"] / res["raw_stop"]["tok_per_s"], 3)
        res["utilisation_vs_full_rows"] = round(res["mcts"]["tok_per_s"] / res["raw_nostop"]["tok_per_s"], 3)
        print(json.dumps(res, indent=1), flush=True)
        if not args.skip_scaling:
            res["scaling"] = [res["mcts"] if n == args.problems else mcts_run(policy, pool, cfg, problems[:n], batch=16)
                              for n in args.sizes]
            print(json.dumps(res["scaling"], indent=1), flush=True)
    if not args.skip_scaling:
        del policy
        with tempfile.TemporaryDirectory() as d:
            seed = Path(d) / "seed.jsonl"
            write_jsonl(seed, problems[: args.problems])
            # 1 shard with both cores' threads, 1 shard with one thread, 2 shards with one thread each
            res["shards"] = [shard_runs(args, seed, n, t, Path(d)) for n, t in ((1, 2), (1, 1), (2, 1))]
        print(json.dumps(res["shards"], indent=1), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
