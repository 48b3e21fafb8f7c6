"""Parallel sandbox runs with a result cache keyed by sha256(code, tests, limits)."""
from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import hashlib
import json
import threading
from pathlib import Path
from typing import Any, Self

from seer.data.jsonl import write_json
from seer.data.schemas import Tests
from seer.progress import task as progress_task
from seer.sandbox import codec, launcher
from seer.sandbox.execute import run_tests
from seer.sandbox.result import ExecResult

# bump when a change to the sandbox can change results, so old disk caches stop matching
CACHE_VERSION = 3  # 2: assert tests judged by the trusted checker; per-case time limits; 3: EvalPlus groups, fast_check


class SandboxPool:
    """``workers`` programs at a time, each in its own sandbox (``run_tests``).

    Results are cached in memory, and also on disk (one json file per key under ``cache_dir``)
    when given. Timeouts are not cached: they depend on the machine's load. Identical requests
    in flight at the same time share one run.
    """

    def __init__(self, workers: int = 2, timeout: float = 3.0, memory_mb: int = 1024,
                 cache: bool = True, cache_dir: str | None = None,
                 max_output_bytes: int = 65536) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.timeout, self.memory_mb, self.max_output_bytes = timeout, memory_mb, max_output_bytes
        self.cache = cache
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._executor = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sandbox")
        self._lock = threading.Lock()
        self._memory: dict[str, ExecResult] = {}
        self._inflight: dict[str, cf.Future[ExecResult]] = {}
        self._runs = 0
        self._hits = 0

    @classmethod
    def from_config(cls, cfg: Any, cache_dir: str | None = None) -> SandboxPool:
        """From a ``seer.config.SandboxConfig`` (or anything with the same fields); also applies
        ``allow_weak`` to the fork servers started afterwards (``launcher.configure``)."""
        launcher.configure(allow_weak=cfg.allow_weak)
        return cls(workers=cfg.workers, timeout=cfg.timeout, memory_mb=cfg.memory_mb,
                   cache=cfg.cache, cache_dir=cache_dir, max_output_bytes=cfg.max_output_bytes)

    def key(self, code: str, tests: Tests) -> str:
        t = dataclasses.asdict(tests)
        t["cases"] = [codec.encode(c) for c in tests.cases]  # tuples, sets: distinct from lists
        blob = json.dumps([CACHE_VERSION, code, t, self.timeout, self.memory_mb, self.max_output_bytes],
                          sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def submit(self, code: str, tests: Tests) -> cf.Future[ExecResult]:
        if not self.cache:
            return self._executor.submit(self._run, code, tests)
        k = self.key(code, tests)
        with self._lock:
            hit = self._memory.get(k) or self._inflight.get(k)
            if hit is None:
                hit = self._from_disk(k)
            if hit is not None:
                self._hits += 1
                return hit if isinstance(hit, cf.Future) else _done(hit)
            fut = self._executor.submit(self._run, code, tests, k)
            self._inflight[k] = fut
            return fut

    def run_many(self, items: list[tuple[str, Tests]], progress: bool = False) -> list[ExecResult]:
        """Results in the order of ``items``."""
        futures = [self.submit(code, tests) for code, tests in items]
        if progress:
            with progress_task("programs", len(futures), desc="sandbox") as bar:
                for _ in cf.as_completed(futures):
                    bar.advance()
        return [f.result() for f in futures]

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"runs": self._runs, "cache_hits": self._hits}

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals ------------------------------------------------------------------------
    def _run(self, code: str, tests: Tests, k: str | None = None) -> ExecResult:
        try:
            result = run_tests(code, tests, self.timeout, self.memory_mb, self.max_output_bytes)
        except BaseException:
            if k is not None:
                with self._lock:
                    self._inflight.pop(k, None)
            raise
        with self._lock:
            self._runs += 1
            if k is not None:
                self._inflight.pop(k, None)
                if result.status != "timeout":
                    self._memory[k] = result
        if k is not None and self.cache_dir is not None and result.status != "timeout":
            write_json(self._path(k), result.to_dict())
        return result

    def _path(self, k: str) -> Path:
        assert self.cache_dir is not None
        return self.cache_dir / k[:2] / f"{k}.json"

    def _from_disk(self, k: str) -> ExecResult | None:
        if self.cache_dir is None:
            return None
        try:
            with open(self._path(k), encoding="utf-8") as f:
                result = ExecResult.from_dict(json.load(f))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent, or a partial/foreign file: run again
        self._memory[k] = result
        return result


def _done(result: ExecResult) -> cf.Future[ExecResult]:
    f: cf.Future[ExecResult] = cf.Future()
    f.set_result(result)
    return f

