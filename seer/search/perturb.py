"""Path perturbation (docs/method.md section 3): negatives for problems whose paths all pass.

For each such problem: pick one of its correct paths and a random cut, keep the steps before the
cut (0 .. all plan steps), truncate the question (``question_cut``: its first sentence, or the
authors' text before the first '.'), and continue from the kept prefix. Completions whose code
FAILS the original tests become negative paths under the original question (at most
``max_per_problem``, distinct final steps). Two ways to continue (``explore.perturb.mode``):

- ``rollouts``: ``n_samples`` completions, sampled step by step until a code step (batched over
  every problem: one generate call per step round). Value targets: the prefix steps keep their
  tree Q, the final step -1, the sampled steps in between none (masked).
- ``mcts`` (the authors'): a full SEER tree whose root is the end of the prefix (so depth counts
  from there), with the explore settings; its failing paths keep the prefix's Q and the tree's Q
  on every suffix step.
"""
from __future__ import annotations

import dataclasses
import random
import re
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Sequence

from seer import progress
from seer.config import ExploreConfig, ModelConfig
from seer.data.schemas import Problem, TrainPath
from seer.llm.policy import Generation, Policy
from seer.llm.prompts import format_question
from seer.llm.solutions import to_solution
from seer.search.mcts import BatchedMcts, Executor, PromptFn, child_from_generation, step_request
from seer.search.paths import problem_paths
from seer.search.tree import Node

_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")


def first_sentence(text: str) -> str:
    """Text up to its first sentence end (``.``/``!``/``?`` before whitespace) or line break."""
    s = text.strip()
    m = _SENTENCE_END.search(s)
    return s[: m.end()].strip() if m else s


@dataclass
class PerturbJob:
    problem: Problem  # the original: its tests judge the completions, its question heads the paths
    truncated: Problem  # the same problem with the question cut to its first sentence
    prefix: list[str]
    prefix_q: list[float]


def before_first_period(text: str) -> str:
    """The text before its first '.' (the authors' ``question.split('.')[0]``)."""
    return text.split(".")[0].strip()


QUESTION_CUTS = {"first_sentence": first_sentence, "first_period": before_first_period}


def plan_job(problem: Problem, correct_paths: Sequence[dict[str, Any]], rng: random.Random,
             question_cut: str = "first_sentence") -> PerturbJob:
    """One correct path and a cut: keep its first ``k`` steps, k uniform in 0 .. len - 1."""
    if not correct_paths:
        raise ValueError(f"problem {problem.id}: perturbation needs at least one correct path")
    path = rng.choice(list(correct_paths))
    k = rng.randrange(len(path["steps"]))
    truncated = dataclasses.replace(problem, question=QUESTION_CUTS[question_cut](problem.question))
    return PerturbJob(problem, truncated, list(path["steps"][:k]), [float(q) for q in path["q_values"][:k]])


@dataclass(eq=False)
class _Rollout:
    job: PerturbJob
    steps: list[str] = field(default_factory=list)
    result: Future[Any] | None = None


def perturb(jobs: Sequence[PerturbJob], policy: Policy, executor: Executor, prompt_fn: PromptFn,
            settings: ExploreConfig, n_samples: int, max_per_problem: int, config_hash: str = "",
            max_context: int = ModelConfig.max_context) -> tuple[list[TrainPath], dict[str, int]]:
    """Run the completions of every job; returns the negative paths and counts."""
    stats = {"problems": len(jobs), "completions": 0, "code": 0, "failing": 0, "kept": 0,
             "problems_with_negatives": 0, "over_length": 0}
    finished: list[_Rollout] = []
    # round 0 samples n_samples first steps per job from one prompt; later rounds one step per rollout
    live: list[_Rollout] = []
    first = []
    for job in jobs:
        prompt = _fitting_prompt(policy, prompt_fn, settings, max_context, job, [])
        if prompt is None:
            stats["over_length"] += n_samples
        else:
            first.append((job, prompt))
    if first:
        outs = policy.generate([p for _, p in first], step_request(settings, n_samples))
        for (job, _), gens in zip(first, outs, strict=True):
            for g in gens:
                r = _Rollout(job)
                _advance(r, g, settings, executor, live, finished)
    while live:
        batch = []
        for r in live:
            prompt = _fitting_prompt(policy, prompt_fn, settings, max_context, r.job, r.steps)
            if prompt is None:
                stats["over_length"] += 1
            else:
                batch.append((r, prompt))
        live = []
        if not batch:
            break
        outs = policy.generate([p for _, p in batch], step_request(settings, 1))
        for (r, _), gens in zip(batch, outs, strict=True):
            _advance(r, gens[0], settings, executor, live, finished)
        progress.gauge(rollouts_done=len(finished))
        progress.add(rounds=1)
    stats["completions"] = len(finished)
    paths: list[TrainPath] = []
    per_problem: dict[str, set[str]] = {}
    for r in finished:
        if r.result is None:
            continue
        stats["code"] += 1
        if r.result.result().passed:
            continue
        stats["failing"] += 1
        seen = per_problem.setdefault(r.job.problem.id, set())
        final = r.steps[-1]
        if final in seen or len(seen) >= max_per_problem:
            continue
        seen.add(final)
        steps = r.job.prefix + r.steps
        q: list[float | None] = [*r.job.prefix_q, *([None] * (len(r.steps) - 1)), -1.0]
        paths.append(TrainPath(r.job.problem.id, format_question(r.job.problem), steps, q, -1.0, "perturb", config_hash))
    stats["kept"] = len(paths)
    stats["problems_with_negatives"] = sum(1 for s in per_problem.values() if s)
    return paths, stats


def perturb_mcts(jobs: Sequence[PerturbJob], policy: Policy, executor: Executor, prompt_fn: PromptFn,
                 settings: ExploreConfig, max_per_problem: int, config_hash: str = "", seed: int = 0,
                 lenient: bool = False, max_context: int = ModelConfig.max_context) -> tuple[list[TrainPath], dict[str, int]]:
    """mode=mcts: one SEER tree per job, rooted at the end of its prefix; returns the failing paths
    (prefix + suffix, the prefix's Q then the tree's Q) and counts."""
    by_id = {j.problem.id: j for j in jobs}
    if len(by_id) != len(jobs):
        raise ValueError("perturbation: one job per problem")

    def continue_prefix(problem: Problem, steps: Sequence[str]) -> str:
        return prompt_fn(problem, by_id[problem.id].prefix + list(steps))

    trees: list[dict[str, Any]] = []
    BatchedMcts(policy, executor, continue_prefix, settings, seed=seed, max_context=max_context)([j.truncated for j in jobs], trees.append)
    stats = {"problems": len(jobs), "trees": len(trees), "failing": 0, "kept": 0, "problems_with_negatives": 0}
    paths: list[TrainPath] = []
    for rec in trees:
        job = by_id[str(rec["problem_id"])]
        failing = problem_paths(Node.from_dict(rec["tree"]), lenient).incorrect
        stats["failing"] += len(failing)
        kept = failing[:max_per_problem]
        stats["problems_with_negatives"] += bool(kept)
        paths += [TrainPath(job.problem.id, format_question(job.problem), job.prefix + p.steps,
                            [*job.prefix_q, *p.q_values], -1.0, "perturb", config_hash) for p in kept]
    stats["kept"] = len(paths)
    return paths, stats


def _fitting_prompt(policy: Policy, prompt_fn: PromptFn, settings: ExploreConfig, max_context: int,
                    job: PerturbJob, steps: list[str]) -> str | None:
    prompt = prompt_fn(job.truncated, job.prefix + steps)
    if policy.count_tokens(prompt) + settings.max_step_tokens > max_context:
        return None
    return prompt


def _advance(r: _Rollout, gen: Generation, settings: ExploreConfig, executor: Executor, live: list[_Rollout],
             finished: list[_Rollout]) -> None:
    """Add one sampled step to a rollout: run its code, drop it if invalid/too deep, else go on."""
    node = child_from_generation(gen, len(r.job.prefix) + len(r.steps) + 1, settings.max_depth,
                                 settings.lenient_plan_steps)
    r.steps.append(node.step)
    if node.terminal == "code":
        r.result = executor.submit(to_solution(r.job.problem, node.step), r.job.problem.tests)
        finished.append(r)
    elif node.terminal is not None:
        finished.append(r)  # invalid or too deep: no code to judge
    else:
        live.append(r)
