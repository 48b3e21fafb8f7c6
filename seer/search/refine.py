"""Path refinement (docs/method.md section 3): positives for problems whose paths all fail (or are none).

The base model sees the question, one incorrect path and the reference solution, names the first
wrong step N and rewrites the path from N on. The result is ``incorrect[:N-1]`` + the rewritten
steps (renumbered), ending in the rewritten code step; if that code step is missing or does not
parse, the reference solution becomes the code step. With ``verify`` the rewritten code is also
run against the tests and a failing rewrite falls back to the reference code (the paper only
checks that it parses). Value targets: none for every step but the last, which gets +1.
Problems without a reference solution are skipped and counted. ``prompt="from_step"`` uses the
authors' prompt and checks instead (`seer.search.refine_from_step`): malformed rewrites are dropped.
Each refined path records the incorrect path it repairs (``TrainPath.repairs``).
"""
from __future__ import annotations

import random
import re
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Sequence

from seer.data.schemas import Problem, TrainPath
from seer.llm.policy import GenerateRequest, Policy
from seer.llm.prompts import format_question
from seer.llm.solutions import to_solution
from seer.llm.steps import STEP_CLOSE, STEP_OPEN, format_code_step, format_plan_step, parse_step
from seer.search.mcts import Executor
from seer.search.refine_from_step import STOP as FROM_STEP_STOP
from seer.search.refine_from_step import from_step_prompt, splice_from_step

WRONG_STEP_PREFIX = "Wrong step:"
_WRONG = re.compile(r"^\s*(\d+)")
_BLOCK = re.compile(re.escape(STEP_OPEN) + r"(.*?)" + re.escape(STEP_CLOSE), re.DOTALL)
_NUMBER = re.compile(r"^\s*\d+\s*[.)]\s*")


def refine_prompt(problem: Problem, steps: Sequence[str], reference: str) -> tuple[str, str]:
    """(user message, assistant prefix): the continuation starts with the wrong step's number."""
    if steps:
        attempt = "\n".join(f"Step {i}:\n{s}" for i, s in enumerate(steps, 1))
        scope = f"Steps are numbered 1 to {len(steps)}; step {len(steps)} is the final code."
    else:
        attempt, scope = "(no valid attempt: rewrite the whole solution, from step 1)", ""
    user = (
        "Below are a programming problem, an attempted step-by-step solution that FAILS the tests, and a "
        "correct reference solution.\n\n"
        f"### Problem\n{format_question(problem)}\n\n"
        f"### Incorrect solution\n{attempt}\n\n"
        f"### Reference solution\n```python\n{reference.strip()}\n```\n\n"
        f"Which step of the incorrect solution is the first wrong one? {scope}\n"
        "Answer with the number of that step, then rewrite the solution from that step on, one step per "
        f"{STEP_OPEN} ... {STEP_CLOSE} block, ending with the corrected code. For example, if step 2 is the "
        "first wrong one:\n"
        f"{WRONG_STEP_PREFIX} 2\n{format_plan_step(2, '<the corrected reasoning of step 2>')}\n"
        f"{format_code_step('<the complete corrected code>')}"
    )
    return user, WRONG_STEP_PREFIX


@dataclass
class Rewrite:
    wrong_step: int | None  # 1-based, None when the answer names no step
    plan: list[str]  # the rewritten non-code steps' texts, numbers stripped
    code_step: str | None  # the rewritten code step when it parses


def parse_rewrite(continuation: str) -> Rewrite:
    """Read the model's answer after the ``Wrong step:`` prefix."""
    m = _WRONG.match(continuation)
    plan: list[str] = []
    code_step = None
    for block in _BLOCK.findall(continuation):
        p = parse_step(f"{STEP_OPEN}{block}{STEP_CLOSE}")
        if p.is_terminal:
            code_step = p.text if p.valid else None
            break
        if p.valid:  # a malformed plan step is left out rather than spoiling the path
            plan.append(_NUMBER.sub("", p.body))
    return Rewrite(int(m.group(1)) if m else None, plan, code_step)


def splice(incorrect: Sequence[str], rewrite: Rewrite, reference: str) -> tuple[list[str], bool]:
    """The refined steps and whether the reference code had to stand in for the rewritten code.

    Keeps the incorrect path's steps before the wrong one (never its code step), then the rewrite.
    """
    n_plan = max(len(incorrect) - 1, 0)  # the last step of an executed path is its code step
    keep = min(max((rewrite.wrong_step or 1) - 1, 0), n_plan)
    prefix = list(incorrect[:keep])
    plan = [format_plan_step(keep + i, text) for i, text in enumerate(rewrite.plan, 1)]
    code = rewrite.code_step if rewrite.code_step is not None else format_code_step(reference)
    return prefix + plan + [code], rewrite.code_step is None


@dataclass
class RefineJob:
    problem: Problem
    incorrect: list[str]  # steps of the incorrect path to repair ([] when the tree had no valid path)


def plan_jobs(problem: Problem, incorrect_paths: Sequence[dict[str, Any]], rng: random.Random,
              per_problem: int = 1, attempts_without_path: int = 1) -> list[RefineJob]:
    """Up to ``per_problem`` of the problem's incorrect paths (drawn at random), or
    ``attempts_without_path`` attempts from an empty path when the tree had no valid one."""
    if not incorrect_paths:
        return [RefineJob(problem, []) for _ in range(attempts_without_path)]
    if per_problem == 1:
        return [RefineJob(problem, list(rng.choice(list(incorrect_paths))["steps"]))]
    chosen = rng.sample(list(incorrect_paths), min(per_problem, len(incorrect_paths)))
    return [RefineJob(problem, list(p["steps"])) for p in chosen]


def refine(jobs: Sequence[RefineJob], policy: Policy | None, executor: Executor | None, temperature: float,
           max_tokens: int, config_hash: str = "", prompt: str = "chat") -> tuple[list[TrainPath], dict[str, int]]:
    """One batched generate over the jobs with a reference solution; ``executor`` None = no verify.

    ``policy`` may be None only when no job has a reference solution (nothing to generate).
    """
    todo = [j for j in jobs if j.problem.solution.strip()]
    if todo and policy is None:
        raise ValueError("refine: a policy is needed for problems with a reference solution")
    if prompt == "from_step":
        return _refine_from_step(todo, len(jobs), policy, executor, temperature, max_tokens, config_hash)
    stats = {"problems": len(jobs), "no_reference": len(jobs) - len(todo), "refined": 0, "wrong_step_unread": 0,
             "fallback_unparsable": 0, "fallback_failed_tests": 0}
    if not todo:
        return [], stats
    assert policy is not None
    prompts = []
    for j in todo:
        user, prefix = refine_prompt(j.problem, j.incorrect, j.problem.solution)
        prompts.append(policy.chat_prompt(user, assistant_prefix=prefix))
    outs = policy.generate(prompts, GenerateRequest(n=1, temperature=temperature, max_tokens=max_tokens))
    spliced: list[tuple[RefineJob, list[str], Future[Any] | None]] = []
    for j, gens in zip(todo, outs, strict=True):
        rw = parse_rewrite(gens[0].text)
        stats["wrong_step_unread"] += rw.wrong_step is None
        steps, fell_back = splice(j.incorrect, rw, j.problem.solution)
        stats["fallback_unparsable"] += fell_back
        check = None
        if executor is not None and not fell_back:
            check = executor.submit(to_solution(j.problem, steps[-1]), j.problem.tests)
        spliced.append((j, steps, check))
    return _verified_paths(spliced, stats, config_hash), stats


def _verified_paths(rewrites: Sequence[tuple[RefineJob, list[str], Future[Any] | None]], stats: dict[str, int],
                    config_hash: str) -> list[TrainPath]:
    """The refined paths; a rewrite whose code failed its tests ends in the reference code instead."""
    paths = []
    for j, steps, check in rewrites:
        if check is not None and not check.result().passed:
            stats["fallback_failed_tests"] += 1
            steps = steps[:-1] + [format_code_step(j.problem.solution)]
        paths.append(_refined(j, steps, config_hash))
    stats["refined"] = len(paths)
    return paths


def _refined(job: RefineJob, steps: list[str], config_hash: str) -> TrainPath:
    q: list[float | None] = [*([None] * (len(steps) - 1)), 1.0]
    return TrainPath(job.problem.id, format_question(job.problem), steps, q, 1.0, "refine", config_hash,
                     repairs=list(job.incorrect))


def _refine_from_step(todo: Sequence[RefineJob], n_jobs: int, policy: Policy | None, executor: Executor | None,
                      temperature: float, max_tokens: int, config_hash: str) -> tuple[list[TrainPath], dict[str, int]]:
    """The authors' refinement: raw 3-shot prompt, malformed rewrites dropped, repeated answers once."""
    stats = {"problems": n_jobs, "no_reference": n_jobs - len(todo), "refined": 0, "dropped_malformed": 0,
             "duplicates": 0, "fallback_failed_tests": 0}
    if not todo:
        return [], stats
    assert policy is not None
    prompts = [from_step_prompt(j.problem, j.incorrect, j.problem.solution) for j in todo]
    outs = policy.generate(prompts, GenerateRequest(n=1, temperature=temperature, max_tokens=max_tokens,
                                                    stop=FROM_STEP_STOP))
    seen: set[str] = set()
    kept: list[tuple[RefineJob, list[str], Future[Any] | None]] = []
    for j, gens in zip(todo, outs, strict=True):
        answer = gens[0].text
        if answer in seen:  # the authors keep one copy of an answer
            stats["duplicates"] += 1
            continue
        seen.add(answer)
        steps = None if "Now it is your turn" in answer else splice_from_step(j.incorrect, answer, j.problem.solution)
        if steps is None:
            stats["dropped_malformed"] += 1
            continue
        check = executor.submit(to_solution(j.problem, steps[-1]), j.problem.tests) if executor is not None else None
        kept.append((j, steps, check))
    return _verified_paths(kept, stats, config_hash), stats
