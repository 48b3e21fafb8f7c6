"""Cost of the trusted checker per program (issue 14): HumanEval's 164 canonical solutions run with
their tests in the checker (the default) and in the program's own process (the "in_process" mode,
forced here by a prelude that defines a class), alternating for ``--rounds`` rounds in one
process, ``SandboxPool`` with 2 workers and no cache. Prints the median programs/s of each, the
wall time per program, their ratio and the difference (the checker's cost per program).

    .venv/bin/python bench/bench_checker.py
    .venv/bin/python bench/bench_checker.py --rounds 5 --workers 2
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

from seer.data.benchmarks import load_humaneval
from seer.data.schemas import Tests
from seer.sandbox import SandboxPool, capabilities

IN_PROCESS = "class _SeerBenchInProcess:\n    pass\n"  # a class in the prelude: tests run in-process


def rate(items: list[tuple[str, Tests]], workers: int, timeout: float) -> float:
    with SandboxPool(workers=workers, timeout=timeout, cache=False) as pool:
        t0 = time.perf_counter()
        results = pool.run_many(items)
        dt = time.perf_counter() - t0
    bad = [r.tests for r in results if not r.passed]
    assert not bad, f"{len(bad)} canonical solutions did not pass: {bad[:2]}"
    return len(items) / dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=3.0)
    args = ap.parse_args()

    problems = load_humaneval()
    checked = [(p.solution, p.tests) for p in problems]
    in_process = [(p.solution, dataclasses.replace(p.tests, prelude=IN_PROCESS + p.tests.prelude)) for p in problems]
    print(capabilities().describe())
    ours, base = [], []
    for r in range(args.rounds):
        ours.append(rate(checked, args.workers, args.timeout))
        base.append(rate(in_process, args.workers, args.timeout))
        print(f"round {r + 1}: checker {ours[-1]:.1f} programs/s, in-process {base[-1]:.1f} programs/s")
    a, b = statistics.median(ours), statistics.median(base)
    per = args.workers * 1000
    print(f"median over {args.rounds} rounds, {len(problems)} programs, {args.workers} workers: "
          f"checker {a:.1f} programs/s ({per / a:.1f} ms wall per program per worker), in-process "
          f"{b:.1f} programs/s ({per / b:.1f} ms), ratio {a / b:.2f}, cost {per / a - per / b:+.1f} ms per program")


if __name__ == "__main__":
    main()
