"""Expected outputs (and EvalPlus's per-case time limits) of benchmark call tests, computed by
running each problem's reference solution in the sandbox, as EvalPlus computes its ground truth.

The data loaders (``seer.data``) return benchmarks as shipped; ``bench_data`` (``seer.stages.data``)
fills them here, so data never depends on the sandbox.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from seer.data.schemas import Problem, Tests
from seer.sandbox.compare import EVALPLUS_MEMORY_MB, WRAPPER, evalplus_preludes, evalplus_time_limits
from seer.sandbox.launcher import SandboxError
from seer.sandbox.expected import fill_expected

log = logging.getLogger(__name__)

# seconds for one run of a canonical solution over all its inputs (some MBPP+ references are slow on
# the plus inputs: Mbpp/599 takes 20-60 s here)
FILL_TIMEOUT = 300.0


def needs_expected(p: Problem) -> bool:
    return p.tests.kind == "call" and any("output" not in c for c in p.tests.cases)


_TIMED = "_seer_timed"


def _reference_tests(p: Problem) -> Tests:
    """The tests the reference runs on to produce expected outputs.

    EvalPlus tasks: the reference's own wrapper (``compare.evalplus_preludes``), and every call
    timed like ``evalplus.gen.util.trusted_exec(record_time=True)`` (the clock around the call only),
    so one sandboxed run gives both the outputs and the times the limits are computed from.
    """
    if not p.tests.rule.startswith("evalplus:"):
        return p.tests
    _, prelude = evalplus_preludes(p.entry_point) if p.tests.rule == "evalplus:mbpp" else ("", "")
    target = WRAPPER if prelude else p.entry_point
    timed = (f"{prelude}from time import perf_counter as _seer_clock\n"
             f"def {_TIMED}(*inp):\n    t0 = _seer_clock()\n    out = {target}(*inp)\n"
             f"    return [out, _seer_clock() - t0]\n")
    return dataclasses.replace(p.tests, prelude=timed, fn_name=_TIMED)


def _is_digest(value: Any) -> bool:
    return isinstance(value, dict) and "$digest" in value


def _fill_one(p: Problem, timeout: float) -> None:
    """Fill ``p``'s expected outputs (and, for EvalPlus tasks, its per-case time limits).

    Every input is kept. An output too large to cross the sandbox (Mbpp/255's 1.6 million
    77-tuples) crosses as a digest (``compare.evalplus_preludes``); those cases are listed in
    ``meta["digest_cases"]``. EvalPlus references run with EvalPlus's memory limit (4 GiB).
    ``meta["reference_seconds"]`` is the wall time of the whole reference run.
    """
    ref = _reference_tests(p)
    timed = ref is not p.tests
    memory = EVALPLUS_MEMORY_MB if timed else 1024
    t0 = time.monotonic()
    try:
        filled = fill_expected(p.solution, ref, timeout, memory)
    except ValueError as e:
        raise ValueError(f"{p.id}: {e}") from None
    except SandboxError as e:
        raise ValueError(f"{p.id}: computing expected outputs failed ({e}); "
                         f"a longer timeout may help (now {timeout:.0f}s)") from None
    p.meta["reference_seconds"] = round(time.monotonic() - t0, 2)
    cases = filled.cases
    if timed:
        outs = [c["output"] for c in cases]
        cases = [{**c, "output": o[0]} for c, o in zip(cases, outs)]
        p.tests = dataclasses.replace(p.tests, cases=cases,
                                      time_limits=[round(t, 4) for t in evalplus_time_limits([o[1] for o in outs])])
    else:
        p.tests = dataclasses.replace(p.tests, cases=cases)
    digests = [i for i, c in enumerate(cases) if _is_digest(c.get("output"))]
    if digests:
        p.meta["digest_cases"] = digests


def special_inputs(problems: list[Problem]) -> dict[str, list[int]]:
    """Problem id -> the cases whose expected output is held as a digest (the data README lists them)."""
    return {p.id: p.meta["digest_cases"] for p in problems if p.meta.get("digest_cases")}


def fill_expected_outputs(problems: list[Problem], workers: int = 2, timeout: float = FILL_TIMEOUT) -> list[Problem]:
    """Compute missing call-test outputs by running each problem's reference solution (sandboxed)."""
    todo = [p for p in problems if needs_expected(p)]
    if not todo:
        return problems
    if any(not p.solution for p in todo):
        raise ValueError(f"{sum(not p.solution for p in todo)} problems need expected outputs but have no reference")
    t0 = time.monotonic()
    with ThreadPoolExecutor(max(1, workers)) as ex:
        list(ex.map(lambda p: _fill_one(p, timeout), todo))
    log.info("expected outputs of %d problems computed from their reference solutions in %.0fs",
             len(todo), time.monotonic() - t0)
    return problems
