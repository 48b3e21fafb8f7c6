"""Scoring throughput of `seer score` vs `evalplus.evaluate` on the same MBPP+ samples, same run,
with the sample-by-sample agreement of their base and plus verdicts.

The samples are 5 per task of the bundled MBPP+ v0.2 (378 tasks): the reference solution and four
mechanical mutants from ``seer.eval.crosscheck`` (a list returned as a tuple, floats one ulp off,
floats rounded to 4 places, a crash after the base inputs). Both harnesses read the same data file
(evalplus via MBPP_OVERRIDE_PATH) and run with the same parallelism; evalplus's ground truth
(its expected outputs and reference times) is computed once before timing, as seer's is by
`seer bench_data` (timed separately).

evalplus runs each sample in a process forked from one holding every task's expected outputs
(Mbpp/255's alone are over a GiB), under an address-space limit of 4 GiB by default: there it fails
its own references of Mbpp/255 and 392. ``--evalplus-max-memory-bytes`` raises that limit
(EVALPLUS_MAX_MEMORY_BYTES) to compare verdicts rather than that out-of-memory artifact.

    python bench/bench_score.py --workers 2 --out results/bench_score.json
    python bench/bench_score.py --workers 2 --evalplus-max-memory-bytes 17179869184 --out results/bench_score_16g.json
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from seer.data.files import read_bundled_jsonl, read_bundled_lines
from seer.data.jsonl import write_jsonl
from seer.eval.crosscheck import disagreements, evalplus_verdicts, mutant_samples, seer_verdicts
from seer.sandbox.compare import EVALPLUS_MEMORY_MB

VARIANTS = ("reference", "swap_top", "ulp", "round_4", "crash_after_base")

_GROUND_TRUTH = """
from evalplus.data import get_mbpp_plus, get_mbpp_plus_hash
from evalplus.eval._special_oracle import MBPP_OUTPUT_NOT_NONE_TASKS
from evalplus.evaluate import get_groundtruth
get_groundtruth(get_mbpp_plus(), get_mbpp_plus_hash(), MBPP_OUTPUT_NOT_NONE_TASKS)
"""


def _run(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="first N tasks only (0 = all 378)")
    ap.add_argument("--out", default="", help="write the numbers as JSON here")
    ap.add_argument("--evalplus-max-memory-bytes", type=int, default=None,
                    help="evalplus's address-space limit per sample (EVALPLUS_MAX_MEMORY_BYTES; -1: none); default: "
                         "evalplus's own, 4 GiB, under which it fails its references of Mbpp/255 and 392")
    args = ap.parse_args()
    default_memory = args.evalplus_max_memory_bytes is None
    memory = EVALPLUS_MEMORY_MB << 20 if default_memory else args.evalplus_max_memory_bytes
    memory_text = (f"evalplus memory limit per sample {memory} bytes "
                   f"({'its default' if default_memory else 'EVALPLUS_MAX_MEMORY_BYTES'})")

    keep = set(read_bundled_lines("evalplus/mbppplus-v0.2-task-ids.txt"))
    recs = [r for r in read_bundled_jsonl("evalplus/MbppPlus-399.jsonl.gz") if r["task_id"] in keep]
    recs = recs[:args.limit] if args.limit else recs
    tasks = [{"task_id": r["task_id"], "entry_point": r["entry_point"], "n_base": len(r["base_input"]),
              "reference": r["prompt"] + r["canonical_solution"]} for r in recs]
    samples = [s for s in mutant_samples(tasks, transforms=["swap_top", "ulp", "round_4"]) if s["variant"] in VARIANTS]

    tmp = Path(tempfile.mkdtemp(prefix="bench_score-"))
    data, path, bench = tmp / "MbppPlus.jsonl", tmp / "samples.jsonl", tmp / "bench.jsonl"
    write_jsonl(data, recs)
    write_jsonl(path, samples)
    env = {**os.environ, "MBPP_OVERRIDE_PATH": str(data), "XDG_CACHE_HOME": str(tmp / "cache")}
    seer = [sys.executable, "-m", "seer"]
    print(f"{len(samples)} samples over {len(recs)} tasks, {args.workers} workers, {memory_text}; data in {tmp}",
          flush=True)

    t_data = _run(seer + ["bench_data", "bench.name=mbpp_plus_official", "bench.limit=0", f"io.out={bench}",
                          f"sandbox.workers={args.workers}", "tracking=disabled"], env)
    t_truth = _run([sys.executable, "-c", _GROUND_TRUTH], env)
    print(f"ground truth: seer bench_data {t_data:.0f}s, evalplus {t_truth:.0f}s", flush=True)

    out = tmp / "samples.eval.json"
    t_seer = _run(seer + ["score", f"io.samples={path}", f"io.bench={bench}", f"io.out={out}", "sandbox.cache=false",
                          f"sandbox.workers={args.workers}", f"sandbox.memory_mb={EVALPLUS_MEMORY_MB}",
                          "tracking=disabled"], env)
    t0 = time.perf_counter()
    theirs = evalplus_verdicts("mbpp", path, data, tmp / "cache", parallel=args.workers,
                               max_memory_bytes=args.evalplus_max_memory_bytes)
    t_evalplus = time.perf_counter() - t0
    ours = seer_verdicts(json.loads(out.read_text()))

    diff = disagreements(samples, ours, theirs)
    base = sum(d["seer"][0] != d["upstream"][0] for d in diff)
    plus = sum(d["seer"][1] != d["upstream"][1] for d in diff)
    res = {"samples": len(samples), "tasks": len(recs), "workers": args.workers,
           "evalplus_max_memory_bytes": memory, "evalplus_memory_default": default_memory,
           "seer_seconds": round(t_seer, 1), "evalplus_seconds": round(t_evalplus, 1),
           "seer_samples_per_s": round(len(samples) / t_seer, 2),
           "evalplus_samples_per_s": round(len(samples) / t_evalplus, 2),
           "speedup": round(t_evalplus / t_seer, 2), "base_disagreements": base, "plus_disagreements": plus,
           "disagreeing": diff, "seer_bench_data_seconds": round(t_data, 1),
           "evalplus_ground_truth_seconds": round(t_truth, 1),
           "passed": {"seer_base": sum(v[0] for vs in ours.values() for v in vs),
                      "seer_plus": sum(v[1] for vs in ours.values() for v in vs),
                      "evalplus_base": sum(v[0] for vs in theirs.values() for v in vs),
                      "evalplus_plus": sum(v[1] for vs in theirs.values() for v in vs)}}
    print(f"seer score       {t_seer:7.1f}s  {res['seer_samples_per_s']:6.2f} samples/s\n"
          f"evalplus.evaluate {t_evalplus:6.1f}s  {res['evalplus_samples_per_s']:6.2f} samples/s\n"
          f"seer is {res['speedup']:.2f}x evalplus; disagreements: base {base}, plus {plus} of {len(samples)}\n"
          f"{memory_text}")
    for d in diff:
        print("  ", d)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
