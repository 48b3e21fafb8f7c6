"""Stages of the thinking-data baselines (SEER.md section 6): thinking_data, think2code, sft.

- `thinking_data`: one shard of seed problems -> thinking records by ``explore.method`` (sra: SRA-MCTS,
  cot, tot), sharded and resumable like SEER's explore stage (`seer.search.shards`).
- `think2code`: thinking shards -> code stripped out of the thinking (the authors' rule), short
  thinking dropped, code written by the LLM from question + thinking -> `SftRecord` jsonl + stats.
  With ``explore.sra.verify_tests`` (beyond the paper) only code that passes the seed tests is kept.
- `sft`: SFT records -> a LoRA model directory, trained by the policy-value trainer with the value
  loss off (`seer.train.sft`).

Thinking record (one per problem): ``problem_id``, ``config_hash``, ``method``, ``thinking`` (numbered
plan text, code not yet stripped), ``stats``; sra/tot add ``steps``, ``ended`` and the ``tree``.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from seer.config import config_hash
from seer.data.jsonl import iter_jsonl, read_jsonl, write_json, write_jsonl
from seer.data.schemas import THINKING_METHODS, Problem, SftRecord
from seer.llm.policy import GenerateRequest, Policy
from seer.llm.prompts import format_question
from seer.llm.solutions import _parses, answer_code, to_solution
from seer.llm.sra_prompts import (
    CODE_PREFIX,
    CODE_STOP,
    code_prompt,
    enough_words,
    sft_turn,
    strip_code,
)
from seer.search.mcts import Executor
from seer.search.shards import Explorer, run_shard, shard_problems
from seer.search.sra import BatchedSra, SraSettings
from seer.search.thinking import CotThinking, TotThinking

log = logging.getLogger(__name__)


def _need(cfg: DictConfig, *keys: str) -> None:
    missing = [k for k in keys if not cfg.io[k]]
    if missing:
        raise ValueError(f"stage {cfg.stage or '?'} needs {', '.join('io.' + k for k in missing)}")


def _method(cfg: DictConfig) -> str:
    m = str(cfg.explore.method)
    if m not in THINKING_METHODS:
        raise ValueError(f"explore.method={m!r} makes no thinking data; valid: {', '.join(THINKING_METHODS)}")
    return m


def thinking_explorer(method: str, policy: Policy, cfg: DictConfig) -> Explorer:
    settings = SraSettings.from_config(cfg)
    if method == "sra":
        return BatchedSra(policy, settings, seed=int(cfg.random_seed))
    if method == "cot":
        return CotThinking(policy, settings, int(cfg.explore.sra.max_answer_tokens))
    return TotThinking(policy, settings, int(cfg.explore.tot_depth), int(cfg.explore.tot_branching),
                       float(cfg.explore.sra.end_gate))


def thinking_data(cfg: DictConfig) -> None:
    """One shard: thinking records for the seed problems i with i % explore.shards == shard; resumable."""
    _need(cfg, "seed", "out")
    method = _method(cfg)
    problems = shard_problems(read_jsonl(cfg.io.seed, Problem.from_dict), cfg.shard, cfg.explore.shards)

    def make() -> Explorer:
        from seer.llm.factory import build_policy  # torch only when there is work left

        return thinking_explorer(method, build_policy(cfg), cfg)
    counts = run_shard(problems, cfg.io.out, config_hash(cfg), make)
    log.info("thinking_data %s shard %d/%d: %s", method, cfg.shard, cfg.explore.shards, counts)


# --- think2code ------------------------------------------------------------------------------------
def clean_thinking(records: Sequence[dict[str, Any]], problems: dict[str, Problem], min_words: int,
                   where: str) -> tuple[list[tuple[Problem, str, str]], dict[str, int]]:
    """(problem, method, cleaned thinking) of every record that survives the authors' cleaning."""
    kept, counts = [], {"records": 0, "dropped_short": 0}
    for i, rec in enumerate(records, 1):
        pid = str(rec.get("problem_id"))
        if pid not in problems:
            raise ValueError(f"{where}:{i}: problem {pid!r} is not in the seed file")
        if rec.get("method") not in THINKING_METHODS or not isinstance(rec.get("thinking"), str):
            raise ValueError(f"{where}:{i}: a thinking record needs 'method' in {THINKING_METHODS} and a 'thinking' string")
        counts["records"] += 1
        thinking = strip_code(rec["thinking"])
        if not enough_words(thinking, min_words):
            counts["dropped_short"] += 1
            continue
        kept.append((problems[pid], rec["method"], thinking))
    return kept, counts


def write_code(policy: Policy, items: Sequence[tuple[Problem, str, str]], temperature: float, max_tokens: int,
               seed: int) -> list[str | None]:
    """The code the LLM writes for each (problem, method, thinking), None where it wrote none.

    Code that does not parse is kept, as the authors keep the translator's output unchecked
    (think2code counts it; ``verify_tests`` is the filter)."""
    if not items:
        return []
    prompts = [policy.chat_prompt(u, assistant_prefix=a) for u, a in (code_prompt(format_question(p), t) for p, _, t in items)]
    req = GenerateRequest(n=1, temperature=temperature, max_tokens=max_tokens, stop=list(CODE_STOP), seed=seed)
    out: list[str | None] = []
    for row in policy.generate(prompts, req):
        code = answer_code(CODE_PREFIX + row[0].text)
        out.append(code if code and code.strip() else None)
    return out


def verify(records: list[SftRecord], problems: dict[str, Problem], executor: Executor) -> list[SftRecord]:
    """Beyond the paper: run each record's code on its seed tests; keep those that pass (``passed``
    is set on every record). A problem without test cases cannot pass."""
    futures = {id(r): executor.submit(to_solution(problems[r.problem_id], r.code), problems[r.problem_id].tests)
               for r in records if problems[r.problem_id].tests.cases}
    for r in records:
        f = futures.get(id(r))
        r.passed = bool(f.result().passed) if f is not None else False
    return [r for r in records if r.passed]


def build_records(items: Sequence[tuple[Problem, str, str]], codes: Sequence[str | None], h: str) -> list[SftRecord]:
    out = []
    for (p, method, thinking), code in zip(items, codes):
        if code is None:
            continue
        user, response = sft_turn(p, thinking, code)
        out.append(SftRecord(problem_id=p.id, method=method, question=p.question, thinking=thinking, code=code,
                             prompt=user, response=response, config_hash=h))
    return out


def think2code(cfg: DictConfig) -> None:
    """Thinking shards (io.trees) + seed -> SFT records (io.out) + stats (io.stats)."""
    _need(cfg, "trees", "seed", "out", "stats")
    t0 = time.time()
    problems = {p.id: p for p in iter_jsonl(cfg.io.seed, Problem.from_dict)}
    sc = cfg.explore.sra
    items: list[tuple[Problem, str, str]] = []
    counts: dict[str, int] = {"records": 0, "dropped_short": 0}
    for shard in cfg.io.trees:
        kept, c = clean_thinking(read_jsonl(shard), problems, int(sc.min_words), str(shard))
        items += kept
        counts = {k: counts[k] + c[k] for k in counts}
    h = config_hash(cfg)
    if items:
        from seer.llm.factory import build_policy

        codes = write_code(build_policy(cfg), items, float(sc.code_temperature), int(sc.max_answer_tokens),
                           int(cfg.random_seed))
    else:
        codes = []
    records = build_records(items, codes, h)
    counts["dropped_no_code"] = len(items) - len(records)
    counts["unparsable_code"] = sum(not _parses(r.code) for r in records)
    if sc.verify_tests:
        from seer.sandbox import SandboxPool

        with SandboxPool.from_config(cfg.sandbox) as pool:
            before = len(records)
            records = verify(records, problems, pool)
        counts["dropped_failing"] = before - len(records)
    write_jsonl(cfg.io.out, records)
    stats = {**counts, "triples": len(records), "verify_tests": bool(sc.verify_tests),
             "methods": sorted({r.method for r in records}), "seconds": round(time.time() - t0, 1), "config_hash": h}
    write_json(cfg.io.stats, stats)
    log.info("think2code: %s", stats)


# --- sft -------------------------------------------------------------------------------------------
def sft(cfg: DictConfig) -> dict[str, Any]:
    """SFT records (io.data) -> a LoRA model directory (io.out) with metrics.json."""
    import shutil

    from seer.llm.load import resolve_device, torch_dtype
    from seer.model.backend import as_policy
    from seer.model.policy_value import create_policy_value
    from seer.stages.train import _file_digest, checkpoint_dir
    from seer.tracking import Tracker
    from seer.train.data import split_heldout
    from seer.train.distributed import Dist
    from seer.train.sft import sft_examples, sft_train_config
    from seer.train.trainer import Trainer, seed_everything

    _need(cfg, "data", "out")
    t0 = time.time()
    records = read_jsonl(cfg.io.data, SftRecord.from_dict)
    if not records:
        raise ValueError(f"{cfg.io.data}: no SFT records (did think2code drop everything? see its stats)")
    out = Path(cfg.io.out)
    seed_everything(int(cfg.train.random_seed))
    dist = Dist.from_env(resolve_device(cfg.backend.device))  # one process unless accelerate launched several
    device = dist.device or resolve_device(cfg.backend.device)
    model = create_policy_value(cfg.model.name, cfg.train.lora, cache_dir=cfg.model.cache_dir,
                                dtype=torch_dtype(cfg.model.dtype, device), device=device)
    fmt = as_policy(model, device=device, chat_template=cfg.model.chat_template, max_context=cfg.model.max_context,
                    progress=False)
    examples = sft_examples(records, fmt, min(int(cfg.train.max_length), int(cfg.model.max_context)))
    train_set, heldout = split_heldout(examples, float(cfg.train.heldout_fraction), int(cfg.train.random_seed))
    tcfg = sft_train_config(cfg.train, len(train_set))
    log.info("sft: %d records -> %d train / %d held-out examples", len(records), len(train_set), len(heldout))
    tracker = Tracker(cfg, name=f"{cfg.experiment}-sft", out_dir=out) if dist.is_main else None
    ckpt = checkpoint_dir(out)
    trainer = Trainer(model, train_set, heldout, tcfg, ckpt_dir=ckpt, device=device, tracker=tracker,
                      fingerprint=f"{config_hash(cfg)}:sft:{_file_digest(cfg.io.data)}",
                      progress=bool(cfg.backend.progress), dist=dist)
    metrics = trainer.fit()
    if not dist.is_main:
        return metrics
    tracker.finish()
    model.save(out, merged=bool(cfg.train.save_merged))
    metrics.update({"n_records": len(records), "n_train": len(train_set), "n_heldout": len(heldout),
                    "methods": sorted({r.method for r in records}), "seconds": round(time.time() - t0, 1),
                    "config_hash": config_hash(cfg), **trainer.layout})
    write_json(out / "metrics.json", metrics)
    shutil.rmtree(ckpt, ignore_errors=True)
    return metrics
