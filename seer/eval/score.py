"""Score EvalPlus-format samples against benchmark problems in the sandbox."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

from seer.data.schemas import Problem, Tests
from seer.eval.passk import ks_for, mean_pass_at_k
from seer.sandbox import ExecResult, SandboxPool


def sample_program(sample: dict[str, Any], problem: Problem) -> str:
    """The full program of a sample: `solution` as is, or `completion` appended to the prompt."""
    if "solution" in sample and sample["solution"] is not None:
        return str(sample["solution"])
    if "completion" in sample and sample["completion"] is not None:
        return problem.prompt + str(sample["completion"])
    raise ValueError(f"sample for {sample.get('task_id')!r} has neither 'solution' nor 'completion'")


def base_passed(result: ExecResult, tests: Tests) -> bool:
    """EvalPlus's base verdict from a run over base + plus inputs: every base case passed.

    EvalPlus runs the base inputs in a run of their own, so what happens on the plus inputs
    (a crash, a timeout) does not change it. Without a base/plus split it is the run's verdict.
    """
    if not tests.n_base:
        return result.passed
    base = result.tests[:tests.n_base]
    return len(base) == tests.n_base and all(t.status == "pass" for t in base)


def score_samples(samples: Iterable[dict[str, Any]], problems: dict[str, Problem], pool: SandboxPool,
                  progress: bool = False) -> dict[str, Any]:
    """Per-task results and pass@k, from one run of each sample over all its tests.

    ``pass_at_k`` is the full verdict (EvalPlus's "base + extra tests" for MBPP+/HumanEval+);
    ``base_pass_at_k`` counts the base tests only (EvalPlus's "base tests"). Tasks of the benchmark
    without any sample count as failed (n=1, c=0).
    """
    samples = list(samples)
    unknown = sorted({str(s.get("task_id")) for s in samples} - set(problems))
    if unknown:
        raise ValueError(f"samples name task_ids not in the benchmark: {unknown[:5]}{' ...' if len(unknown) > 5 else ''}")
    items = [(sample_program(s, problems[s["task_id"]]), problems[s["task_id"]].tests) for s in samples]
    results = pool.run_many(items, progress=progress)
    per_task: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s, r in zip(samples, results):
        tests = problems[s["task_id"]].tests
        per_task[s["task_id"]].append({"status": r.status, "passed": r.passed, "base_passed": base_passed(r, tests),
                                       "pass_rate": r.pass_rate, "tests": [t.status for t in r.tests]})
    counts, base_counts = [], []
    tasks: dict[str, Any] = {}
    for tid in problems:
        runs = per_task.get(tid, [])
        n, c, cb = max(len(runs), 1), sum(r["passed"] for r in runs), sum(r["base_passed"] for r in runs)
        counts.append((n, c))
        base_counts.append((n, cb))
        tasks[tid] = {"n": len(runs), "correct": c, "base_correct": cb, "runs": runs}
    ks = ks_for([len(per_task.get(t, [])) or 1 for t in problems])
    return {
        "n_tasks": len(problems),
        "n_samples": len(samples),
        "missing_tasks": sorted(t for t in problems if t not in per_task),
        "pass_at_k": {f"pass@{k}": mean_pass_at_k(counts, k) for k in ks},
        "base_pass_at_k": {f"pass@{k}": mean_pass_at_k(base_counts, k) for k in ks},
        "tasks": tasks,
    }
