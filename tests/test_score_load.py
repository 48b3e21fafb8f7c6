"""A verdict does not depend on machine load within the time EvalPlus tolerates.

Slow but correct programs (CPU-bound, well within EvalPlus's per-input limit of max(1 s, 4x the
reference's time)), a reference that is itself slow (Mbpp/583), and wrong programs are scored
twice while busy-loop processes load the machine (4 on top of the pool's 2 workers, on a 2-core
machine): both runs give the same verdicts, and the correct programs pass.
"""
from __future__ import annotations

import subprocess
import sys

import pytest
from omegaconf import OmegaConf

from seer.data.benchmarks import load_benchmark
from seer.sandbox.references import fill_expected_outputs
from seer.eval.score import score_samples
from seer.sandbox import SandboxPool

pytestmark = pytest.mark.slow

TASKS = ("Mbpp/455", "Mbpp/583", "Mbpp/762")
SLOW_REFERENCE = "Mbpp/583"  # catalan_number: 0.5 s on its largest input on an idle core
BUSY_LOOPS = 4

# about 0.05-0.1 s of pure Python per call on an idle core (16-21 calls per task)
SPIN = "\n\ndef _x_spin():\n    n = 0\n    for i in range(1_500_000):\n        n += i\n    return n\n"


def _cpu_slow(solution: str, entry: str) -> str:
    return (f"{solution.rstrip()}{SPIN}\n_x_ref = {entry}\n\n"
            f"def {entry}(*args):\n    _x_spin()\n    return _x_ref(*args)\n")


def _wrong(solution: str, entry: str) -> str:
    return f"{solution.rstrip()}{SPIN}\n_x_ref = {entry}\n\ndef {entry}(*args):\n    _x_spin()\n    return None\n"


def test_verdicts_are_the_same_under_load():
    cfg = OmegaConf.create({"names": [], "limit": 0, "mbppplus_ids": "v0.2", "use_plus_tests": True})
    problems = {p.id: p for p in load_benchmark("mbppplus", cfg) if p.id in TASKS}
    fill_expected_outputs(list(problems.values()))
    assert set(problems) == set(TASKS) and all(p.tests.time_limits for p in problems.values())
    samples = []
    for p in problems.values():
        samples += [{"task_id": p.id, "solution": p.solution, "variant": "reference"},
                    {"task_id": p.id, "solution": _wrong(p.solution, p.entry_point), "variant": "wrong"}]
        if p.id != SLOW_REFERENCE:  # its reference recurses through the entry point: no wrapper there
            samples.append({"task_id": p.id, "solution": _cpu_slow(p.solution, p.entry_point), "variant": "slow"})
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(BUSY_LOOPS)]
    try:
        runs = []
        for _ in range(2):
            with SandboxPool(workers=2, cache=False) as pool:
                res = score_samples(samples, problems, pool)
            runs.append({tid: [(r["base_passed"], r["passed"]) for r in t["runs"]] for tid, t in res["tasks"].items()})
    finally:
        for b in busy:
            b.kill()
            b.wait()
    assert runs[0] == runs[1]
    for tid, verdicts in runs[0].items():
        want = [(True, True), (False, False)] + ([] if tid == SLOW_REFERENCE else [(True, True)])
        assert verdicts == want, tid
