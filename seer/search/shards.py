"""Sharded, resumable exploration, generic over the explorer (SEER MCTS, SRA-MCTS, ...).

Problem i belongs to shard ``i % K``. An explorer turns a list of problems into finished trees,
calling ``emit(record)`` once per problem as soon as its tree is done (record: a dict holding at
least ``problem_id``). ``run_shard`` appends each record, fsynced, to a partial jsonl beside the
output; a killed shard rerun reads it back, skips the problems already finished under the same
config hash and explores only the rest, so a kill loses at most the problems in flight. When every
problem of the shard has a record, the output (jsonl.gz, shard order) is written atomically and
the partial file removed.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from seer import progress
from seer.data.jsonl import JsonlAppender, iter_jsonl, write_jsonl
from seer.data.schemas import Problem

log = logging.getLogger(__name__)

Emit = Callable[[dict[str, Any]], None]


class Explorer(Protocol):
    def __call__(self, problems: Sequence[Problem], emit: Emit) -> None: ...


def shard_problems(problems: Sequence[Problem], k: int, n_shards: int) -> list[Problem]:
    if n_shards < 1 or not 0 <= k < n_shards:
        raise ValueError(f"shard {k} of {n_shards}: need 0 <= shard < explore.shards")
    return [p for i, p in enumerate(problems) if i % n_shards == k]


def partial_path(out: str | os.PathLike[str]) -> Path:
    """``trees/shard-3.jsonl.gz`` -> ``trees/shard-3.partial.jsonl`` (plain jsonl: appendable)."""
    p = Path(out)
    base = p.name.removesuffix(".gz").removesuffix(".jsonl")
    return p.with_name(f"{base}.partial.jsonl")


def finished_records(partial: Path, config_hash: str) -> dict[str, dict[str, Any]]:
    """Records already in the partial file made under ``config_hash`` (a cut last line is ignored)."""
    if not partial.exists():
        return {}
    done: dict[str, dict[str, Any]] = {}
    stale = 0
    for rec in iter_jsonl(partial, skip_truncated_tail=True):
        if rec.get("config_hash") == config_hash:
            done[str(rec["problem_id"])] = rec
        else:
            stale += 1
    if stale:
        log.warning("%s: ignoring %d record(s) from another config (hash != %s)", partial, stale, config_hash)
    return done


def run_shard(problems: Sequence[Problem], out: str | os.PathLike[str], config_hash: str,
              make_explorer: Callable[[], Explorer]) -> dict[str, int]:
    """Explore the problems not yet finished, then write ``out``; returns counts (resumed, explored).

    ``make_explorer`` is called only when there is work left (loading a model is the slow part).
    """
    partial = partial_path(out)
    done = finished_records(partial, config_hash)
    ids = {p.id for p in problems}
    todo = [p for p in problems if p.id not in done]
    resumed = len(ids) - len(todo)
    if resumed:
        log.info("%s: %d of %d problems already finished, exploring %d", partial, resumed, len(ids), len(todo))
    if todo:
        explorer = make_explorer()
        with JsonlAppender(partial) as sink, progress.task("trees", len(ids), initial=resumed) as bar:
            def emit(rec: dict[str, Any]) -> None:
                pid = str(rec["problem_id"])
                if pid not in ids:
                    raise ValueError(f"explorer emitted a tree for problem {pid!r}, which is not in this shard")
                rec = {"problem_id": pid, "config_hash": config_hash,
                       **{k: v for k, v in rec.items() if k != "problem_id"}}
                sink.append(rec)
                done[pid] = rec
                bar.advance()

            explorer(todo, emit)
    missing = [p.id for p in problems if p.id not in done]
    if missing:
        raise RuntimeError(f"the explorer returned without trees for {len(missing)} problem(s): {missing[:5]}")
    write_jsonl(out, [done[p.id] for p in problems])
    partial.unlink(missing_ok=True)
    return {"problems": len(problems), "resumed": resumed, "explored": len(todo)}
