"""Generation throughput of the transformers backend vs a raw `model.generate` call (engine utilisation).

For each batch size b: the same b chat prompts (at least --min-rows) are generated greedily for
--new-tokens tokens, once through `TransformersPolicy.generate` (sorting, padding, log-prob recording,
stop checks) and once as one raw left-padded `model.generate` call per batch, in the same process.
Greedy decoding makes both produce the same tokens, so the ratio measures backend overhead only.
With --stop (e.g. a blank line, where answers of a plan or a step end), rows end at different lengths:
raw `generate` (given the same stop strings) decodes finished rows until the batch's longest ends,
the backend drops them; the ratio then measures that too.

    .venv/bin/python bench/bench_generate.py                       # qwen2.5-coder-0.5b, batch 1 4 16
    .venv/bin/python bench/bench_generate.py --model tiny --batches 1 4 --new-tokens 16
    .venv/bin/python bench/bench_generate.py --batches 16 --new-tokens 128 --stop '\n\n'
    .venv/bin/python bench/bench_generate.py --step-rows 1 2 4 8 16 24 32   # one decode step vs rows
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from seer.config import compose
from seer.llm.hf_backend import TransformersPolicy
from seer.llm.load import load_model_and_tokenizer
from seer.llm.policy import GenerateRequest

TASKS = [
    "Write a Python function that returns the n-th Fibonacci number using memoization.",
    "Write a Python function to check whether a string is a palindrome, ignoring case and punctuation.",
    "Write a Python class implementing a stack with push, pop, peek and is_empty methods.",
    "Write a Python function that merges two sorted lists into one sorted list.",
    "Write a Python function that counts the words in a text and returns the 3 most common ones.",
    "Write a Python function computing the greatest common divisor of two integers.",
    "Write a Python function that flattens an arbitrarily nested list.",
    "Write a Python function that returns all prime numbers below n using a sieve.",
    "Write a Python function that parses a CSV line with quoted fields into a list of strings.",
    "Write a Python function that rotates a square matrix by 90 degrees clockwise.",
    "Write a Python function that finds the longest common prefix of a list of strings.",
    "Write a Python function implementing binary search on a sorted list.",
    "Write a Python function that converts a Roman numeral to an integer.",
    "Write a Python function that checks whether parentheses in a string are balanced.",
    "Write a Python function that returns the transpose of a matrix given as a list of lists.",
    "Write a Python function that computes the edit distance between two strings.",
]


def raw_generate(model, tok, prompts: list[str], new_tokens: int, eos: list[int], stop: list[str]) -> list[list[int]]:
    """One plain left-padded greedy generate call (static batching); each row's generated tokens."""
    enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.inference_mode():
        out = model.generate(**enc, max_new_tokens=new_tokens, do_sample=False, use_cache=True,
                             pad_token_id=tok.pad_token_id, eos_token_id=eos,
                             **({"stop_strings": stop, "tokenizer": tok} if stop else {}))
    return out[:, enc["input_ids"].shape[1]:].tolist()


def useful_tokens(rows: list[list[int]], tok, eos: list[int], stop: list[str]) -> int:
    """Generated tokens up to and including EOS or the token completing a stop string (outside the timing)."""
    total = 0
    for row in rows:
        n = len(row)
        for i, t in enumerate(row):
            if t in eos or (stop and any(s in tok.decode(row[: i + 1], skip_special_tokens=True) for s in stop)):
                n = i + 1
                break
        total += n
    return total


def step_times(model, tok, rows: list[int], context: int) -> None:
    """Seconds per decode step of `rows` rows over a `context`-token KV cache (median of 5 steps):
    what a batch pays per step, finished rows included unless they leave it."""
    from transformers import DynamicCache

    ids = tok("def f(x):\n    return x\n" * context, return_tensors="pt", add_special_tokens=False)["input_ids"][:, :context]
    with torch.inference_mode():
        prompt = DynamicCache(config=model.config)
        model(input_ids=ids, past_key_values=prompt, use_cache=True)
        print(f"{'rows':>4} {'s/step':>7} {'rows/s':>7}   (context {ids.shape[1]} tokens)")
        for b in rows:
            cache = DynamicCache(config=model.config)
            for i, layer in enumerate(prompt.layers):
                cache.update(layer.keys.expand(b, -1, -1, -1), layer.values.expand(b, -1, -1, -1), i)
            times = []
            for s in range(6):
                t = time.time()
                model(input_ids=torch.full((b, 1), 5), past_key_values=cache, use_cache=True,
                      position_ids=torch.full((b, 1), ids.shape[1] + s))
                times.append(time.time() - t)
            med = statistics.median(times[1:])
            print(f"{b:>4} {med:>7.3f} {b / med:>7.1f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen05", help="a conf/model choice (qwen05, smollm2, tiny)")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--min-rows", type=int, default=2, help="prompts per measurement at least")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--step-rows", type=int, nargs="*", default=[], help="only time one decode step at these row counts")
    ap.add_argument("--context", type=int, default=480, help="KV-cache length for --step-rows")
    ap.add_argument("--stop", default="", help="a stop string (backslash escapes allowed, e.g. '\\n\\n')")
    ap.add_argument("--repeats", type=int, default=2, help="rounds of (raw, backend), order alternating; medians")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    stop = [args.stop.encode().decode("unicode_escape")] if args.stop else []
    cfg = compose([f"model={args.model}"])
    t0 = time.time()
    model, tok = load_model_and_tokenizer(cfg.model, device="cpu")
    print(f"model {cfg.model.name} ({sum(p.numel() for p in model.parameters()) / 1e6:.0f}M params, "
          f"{cfg.model.dtype}) loaded in {time.time() - t0:.1f}s; torch threads {torch.get_num_threads()}; "
          f"load average before {os.getloadavg()}")
    if args.step_rows:
        step_times(model, tok, args.step_rows, args.context)
        return
    pol = TransformersPolicy(model, tok, batch_size=max(args.batches), progress=False)
    eos = sorted(pol.eos_ids)
    pol.generate([pol.chat_prompt(TASKS[0])], GenerateRequest(n=1, temperature=0, max_tokens=4))  # warm-up

    print(f"{'batch':>5} {'rows':>4} {'tokens':>6} {'backend tok/s':>13} {'raw tok/s':>9} {'ratio':>5}   per round")
    for b in args.batches:
        rows = max(b, args.min_rows)
        prompts = [pol.chat_prompt(TASKS[i % len(TASKS)]) for i in range(rows)]
        raw_tps, pol_tps = [], []
        for r in range(args.repeats):
            # alternate which runs first: the machine's load drifts, and the first call at a new
            # shape pays one-off allocation costs
            for which in (("raw", "backend") if r % 2 == 0 else ("backend", "raw")):
                pol.batch_size = b
                t = time.time()
                if which == "raw":
                    gen = [r for i in range(0, rows, b)
                           for r in raw_generate(model, tok, prompts[i:i + b], args.new_tokens, eos, stop)]
                    dt = time.time() - t
                    n_raw = useful_tokens(gen, tok, eos, stop)
                    raw_tps.append(n_raw / dt)
                else:
                    out = pol.generate(prompts, GenerateRequest(n=1, temperature=0, max_tokens=args.new_tokens, stop=stop))
                    n_pol = sum(g.n_tokens for o in out for g in o)
                    pol_tps.append(n_pol / (time.time() - t))
        ratios = [p / q for p, q in zip(pol_tps, raw_tps)]
        flag = "" if n_pol == n_raw else f"  (token counts differ: raw {n_raw})"
        rounds = "  ".join(f"{p:.1f}/{q:.1f}" for p, q in zip(pol_tps, raw_tps))
        print(f"{b:>5} {rows:>4} {n_pol:>6} {statistics.median(pol_tps):>13.1f} {statistics.median(raw_tps):>9.1f} "
              f"{statistics.median(ratios):>5.2f}   {rounds}{flag}", flush=True)
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
