"""Score EvalPlus-format samples against benchmark problems in the sandbox."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

from seer.data.schemas import Problem
from seer.eval.passk import ks_for, mean_pass_at_k
from seer.sandbox import SandboxPool


def sample_program(sample: dict[str, Any], problem: Problem) -> str:
    """The full program of a sample: `solution` as is, or `completion` appended to the prompt."""
    if "solution" in sample and sample["solution"] is not None:
        return str(sample["solution"])
    if "completion" in sample and sample["completion"] is not None:
        return problem.prompt + str(sample["completion"])
    raise ValueError(f"sample for {sample.get('task_id')!r} has neither 'solution' nor 'completion'")


def score_samples(samples: Iterable[dict[str, Any]], problems: dict[str, Problem], pool: SandboxPool,
                  progress: bool = False) -> dict[str, Any]:
    """Per-task results and pass@k. Tasks of the benchmark without any sample count as failed (n=1, c=0)."""
    samples = list(samples)
    unknown = sorted({str(s.get("task_id")) for s in samples} - set(problems))
    if unknown:
        raise ValueError(f"samples name task_ids not in the benchmark: {unknown[:5]}{' ...' if len(unknown) > 5 else ''}")
    items = [(sample_program(s, problems[s["task_id"]]), problems[s["task_id"]].tests) for s in samples]
    results = pool.run_many(items, progress=progress)
    per_task: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s, r in zip(samples, results):
        per_task[s["task_id"]].append({"status": r.status, "passed": r.passed, "pass_rate": r.pass_rate,
                                       "tests": [t.status for t in r.tests]})
    counts = []
    tasks: dict[str, Any] = {}
    for tid in problems:
        runs = per_task.get(tid, [])
        n, c = max(len(runs), 1), sum(r["passed"] for r in runs)
        counts.append((n, c))
        tasks[tid] = {"n": len(runs), "correct": c, "runs": runs}
    ks = ks_for([len(per_task.get(t, [])) or 1 for t in problems])
    return {
        "n_tasks": len(problems),
        "n_samples": len(samples),
        "missing_tasks": sorted(t for t in problems if t not in per_task),
        "pass_at_k": {f"pass@{k}": mean_pass_at_k(counts, k) for k in ks},
        "tasks": tasks,
    }
