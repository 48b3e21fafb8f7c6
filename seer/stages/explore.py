"""Stages of exploration and augmentation: explore (one shard), paths, perturb, refine, stage1_data.

Thin glue: read cfg.io.*, call seer.search.*, write outputs atomically. Every record carries its
problem id and the config hash.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import random
from pathlib import Path
from typing import Any, Callable, Iterator

from omegaconf import DictConfig

from seer.config import ExploreConfig, config_hash, settings
from seer.data.jsonl import iter_jsonl, read_jsonl, write_json, write_jsonl
from seer.data.schemas import Problem, TrainPath
from seer.llm.plan_prompt import plan_first_prompt
from seer.llm.policy import Policy
from seer.llm.prompts import exploration_prompt, format_question, pick_fewshot
from seer.search import paths as P
from seer.search.mcts import BatchedMcts, Executor, PromptFn
from seer.search.perturb import perturb as run_perturb
from seer.search.perturb import perturb_mcts
from seer.search.perturb import plan_job as plan_perturb
from seer.search.refine import plan_jobs as plan_refine
from seer.search.refine import refine as run_refine
from seer.search.shards import Explorer, run_shard, shard_problems
from seer.search.tree import Node, TreePath
from seer.stages import require_io
from seer.tracking import Tracker, track_rounds

log = logging.getLogger(__name__)


def exploration_prompt_fn(policy: Policy, n_fewshot: int, seed: int, style: str = "chat") -> PromptFn:
    """SEER's exploration prompt (`explore.prompt`). chat: a problem always gets the same random
    few-shot examples, so all prompts of one tree share their prefix; plan_first: raw text whose
    examples are re-drawn at every call (the authors'), from a seed of the problem and the steps so far
    so a resumed shard draws the same ones."""
    if style == "plan_first":
        def plan_first(problem: Problem, steps: Any) -> str:
            key = hashlib.sha256("\x00".join(steps).encode()).hexdigest()[:16]
            return plan_first_prompt(problem, steps, n_fewshot, random.Random(f"{seed}:fewshot:{problem.id}:{key}"))
        return plan_first

    def fn(problem: Problem, steps: Any) -> str:
        shots = pick_fewshot(n_fewshot, random.Random(f"{seed}:fewshot:{problem.id}"))
        user, prefix = exploration_prompt(problem, shots, steps)
        return policy.chat_prompt(user, assistant_prefix=prefix)
    return fn


def _problems(path: str) -> dict[str, Problem]:
    return {p.id: p for p in iter_jsonl(path, Problem.from_dict)}


@contextlib.contextmanager
def _policy_and_pool(cfg: DictConfig, searching: bool = True) -> Iterator[tuple[Policy, Executor]]:
    # imported here: loading torch and starting workers is only worth it when there is work
    from seer.sandbox import SandboxPool

    policy = _explore_policy(cfg, searching)
    with SandboxPool.from_config(cfg.sandbox) as pool:
        yield policy, pool


def _explore_policy(cfg: DictConfig, searching: bool) -> Policy:
    """The base model, or a trained policy-value model (value head: round 2+); with
    explore.fresh_value_head a search (not refinement) on the base model gets an untrained head, as
    the authors' round 1 had."""
    from seer.model.factory import load_policy

    fresh = searching and cfg.explore.fresh_value_head and cfg.explore.use_value
    return load_policy(cfg, untrained_value_head=fresh)


def _seer_explorer(cfg: DictConfig, policy: Policy, executor: Executor) -> Explorer:
    prompt_fn = exploration_prompt_fn(policy, cfg.explore.n_fewshot, cfg.random_seed, cfg.explore.prompt)
    return BatchedMcts(policy, executor, prompt_fn, settings(cfg.explore, ExploreConfig), seed=cfg.random_seed,
                       max_context=cfg.model.max_context)


# explore.method -> the builder of its explorer (policy and sandbox pool are opened by the stage)
EXPLORERS: dict[str, Callable[[DictConfig, Policy, Executor], Explorer]] = {"seer": _seer_explorer}


def _explorer_factory(cfg: DictConfig, stack: contextlib.ExitStack) -> Callable[[], Explorer]:
    build = EXPLORERS.get(cfg.explore.method)
    if build is None:
        raise ValueError(f"explore.method={cfg.explore.method!r} has no explorer; valid: {', '.join(EXPLORERS)}")

    def make() -> Explorer:
        policy, pool = stack.enter_context(_policy_and_pool(cfg))
        return build(cfg, policy, pool)
    return make


def explore(cfg: DictConfig) -> None:
    """One shard: explore the seed problems i with i % explore.shards == shard; resumable."""
    require_io(cfg, "seed", "out")
    problems = shard_problems(read_jsonl(cfg.io.seed, Problem.from_dict), cfg.shard, cfg.explore.shards)
    with contextlib.ExitStack() as stack, \
            track_rounds(cfg, f"{cfg.experiment}-explore-shard{cfg.shard}", Path(cfg.io.out).parent):
        counts = run_shard(problems, cfg.io.out, config_hash(cfg), _explorer_factory(cfg, stack))
    log.info("explore shard %d/%d: %s", cfg.shard, cfg.explore.shards, counts)


def paths(cfg: DictConfig) -> None:
    """Trees of all shards -> training paths, all-pass / all-fail problem lists, stats."""
    require_io(cfg, "trees", "seed", "out", "all_pass", "all_fail", "stats")
    stats_out = cfg.io.stats
    # the question as exploration prompts showed it, so training prompts match them token for token
    questions = {pid: format_question(p) for pid, p in _problems(cfg.io.seed).items()}
    h = config_hash(cfg)
    rng = random.Random(cfg.random_seed)
    e = cfg.explore
    out: list[TrainPath] = []
    all_pass, all_fail, categories, tree_stats = [], [], [], []
    counts = {"correct": 0, "incorrect": 0, "dropped_random": 0, "dropped_malformed": 0, "dropped_by_cap": 0}
    for shard in cfg.io.trees:
        for i, rec in enumerate(iter_jsonl(shard), 1):
            pid = str(rec["problem_id"])
            if pid not in questions:
                raise ValueError(f"{shard}:{i}: problem {pid!r} is not in {cfg.io.seed}")
            found = P.problem_paths(Node.from_dict(rec["tree"]), e.lenient_plan_steps)
            categories.append(found.category)
            tree_stats.append(rec.get("stats", {}))
            counts["dropped_random"] += found.dropped_random
            counts["dropped_malformed"] += found.dropped_malformed
            correct = P.cap(found.correct, e.max_correct_paths, rng)
            incorrect = P.cap(found.incorrect, e.max_incorrect_paths, rng)
            counts["dropped_by_cap"] += len(found.correct) + len(found.incorrect) - len(correct) - len(incorrect)
            if e.split_numbered_steps:
                correct, incorrect = ([TreePath(*P.split_numbered_steps(p.steps, p.q_values), p.terminal, p.reward)
                                       for p in kept] for kept in (correct, incorrect))
            out += [TrainPath(pid, questions[pid], p.steps, list(p.q_values), p.reward, "mcts", h)
                    for p in correct + incorrect]
            # perturbation starts from any correct path; refinement from the kept incorrect ones, as the
            # authors' (a repaired path is then a training path: train.mask_refined_prefix)
            if found.category == "only_correct":
                all_pass.append({"problem_id": pid, "config_hash": h,
                                 "paths": [P.path_record(p) for p in found.correct]})
            elif found.category in ("only_incorrect", "none"):
                all_fail.append({"problem_id": pid, "config_hash": h, "paths": [P.path_record(p) for p in incorrect]})
    counts["correct_before_balance"] = sum(t.correct for t in out)
    counts["incorrect_before_balance"] = len(out) - counts["correct_before_balance"]
    balanced = P.balance(out, lambda t: t.correct, lambda t: t.problem_id, rng)
    counts["dropped_by_balance"] = len(out) - len(balanced)
    counts["correct"] = sum(t.correct for t in balanced)
    counts["incorrect"] = len(balanced) - counts["correct"]
    stats = P.summarize(categories, tree_stats, counts)
    stats["config_hash"] = h
    write_jsonl(cfg.io.out, balanced)
    write_jsonl(cfg.io.all_pass, all_pass)
    write_jsonl(cfg.io.all_fail, all_fail)
    write_json(stats_out, stats)
    _track(cfg, "paths", stats_out, {**{f"share/{k}": v for k, v in stats["share"].items()},
                                     **{f"paths/{k}": v for k, v in counts.items()},
                                     "tokens_generated": stats["tokens_generated"],
                                     "sandbox_runs": stats["sandbox_runs"]})
    log.info("paths: %d problems, shares %s, %d correct / %d incorrect paths", stats["problems"],
             stats["share"], counts["correct"], counts["incorrect"])


def perturb(cfg: DictConfig) -> None:
    """All-pass problems -> negative paths from perturbed prefixes (augment/perturbed.jsonl)."""
    require_io(cfg, "all_pass", "seed", "out")
    records = read_jsonl(cfg.io.all_pass)
    h = config_hash(cfg)
    if not cfg.explore.perturb.enabled or not records:
        write_jsonl(cfg.io.out, [])
        log.info("perturb: %s", "disabled" if not cfg.explore.perturb.enabled else "no all-pass problems")
        return
    problems = _problems(cfg.io.seed)
    rng = random.Random(cfg.random_seed)
    pc = cfg.explore.perturb
    jobs = [plan_perturb(_lookup(problems, r, cfg.io.all_pass, i), r["paths"], rng, pc.question_cut)
            for i, r in enumerate(records, 1)]
    with _policy_and_pool(cfg) as (policy, pool):
        prompt_fn = exploration_prompt_fn(policy, cfg.explore.n_fewshot, cfg.random_seed, cfg.explore.prompt)
        ec = settings(cfg.explore, ExploreConfig)
        if pc.mode == "mcts":
            out, stats = perturb_mcts(jobs, policy, pool, prompt_fn, ec, pc.max_per_problem, h,
                                      seed=cfg.random_seed, lenient=cfg.explore.lenient_plan_steps,
                                      max_context=cfg.model.max_context)
        else:
            out, stats = run_perturb(jobs, policy, pool, prompt_fn, ec, pc.n_samples, pc.max_per_problem, h,
                                     max_context=cfg.model.max_context)
    write_jsonl(cfg.io.out, out)
    log.info("perturb: %s", stats)


def refine(cfg: DictConfig) -> None:
    """All-fail problems -> refined positive paths (augment/refined.jsonl) + stats json."""
    require_io(cfg, "all_fail", "seed", "out", "stats")
    stats_out = cfg.io.stats
    records = read_jsonl(cfg.io.all_fail)
    h = config_hash(cfg)
    rc = cfg.explore.refine
    if not rc.enabled or not records:
        write_jsonl(cfg.io.out, [])
        write_json(stats_out, {"problems": len(records), "enabled": bool(rc.enabled), "refined": 0, "config_hash": h})
        return
    problems = _problems(cfg.io.seed)
    rng = random.Random(cfg.random_seed)
    jobs = [job for i, r in enumerate(records, 1)
            for job in plan_refine(_lookup(problems, r, cfg.io.all_fail, i), r["paths"], rng, rc.paths_per_problem,
                                   rc.attempts_without_path)]
    # no model is loaded when no problem has a reference solution (refine then only counts them)
    needs_model = any(j.problem.solution.strip() for j in jobs)
    opened = _policy_and_pool(cfg, searching=False) if needs_model else contextlib.nullcontext((None, None))
    with opened as (policy, pool):
        out, stats = run_refine(jobs, policy, pool if rc.verify else None, rc.temperature, rc.max_tokens, h,
                                rc.prompt)
    write_jsonl(cfg.io.out, out)
    write_json(stats_out, {**stats, "enabled": True, "config_hash": h})
    log.info("refine: %s", stats)


def stage1_data(cfg: DictConfig) -> None:
    """MCTS paths + perturbed negatives + refined positives, class-balanced -> train/stage1.jsonl."""
    require_io(cfg, "paths", "perturbed", "refined", "out")
    rows: list[TrainPath] = []
    for src in (cfg.io.paths, cfg.io.perturbed, cfg.io.refined):
        rows += read_jsonl(src, TrainPath.from_dict)
    if cfg.train.mask_refined_prefix:
        from seer.train.data import mask_repaired_prefixes

        rows = mask_repaired_prefixes(rows)
    balanced = P.balance(rows, lambda t: t.correct, lambda t: t.problem_id, random.Random(cfg.random_seed))
    write_jsonl(cfg.io.out, balanced)
    by_source = {s: sum(1 for t in balanced if t.source == s) for s in sorted({t.source for t in rows})}
    log.info("stage1_data: %d paths (%d correct) from %d; by source %s", len(balanced),
             sum(t.correct for t in balanced), len(rows), by_source)


def _lookup(problems: dict[str, Problem], rec: dict[str, Any], path: str, line: int) -> Problem:
    pid = str(rec.get("problem_id"))
    if pid not in problems:
        raise ValueError(f"{path}:{line}: problem {pid!r} is not in the seed file")
    return problems[pid]


def _track(cfg: DictConfig, name: str, out: str, metrics: dict[str, float]) -> None:
    t = Tracker(cfg, name, Path(out).parent)
    t.log(metrics)
    t.finish()
