"""Data stages: seed problems, benchmarks, and the check that shipped reference solutions pass.

- ``seer seed_data io.out=.../seed.jsonl``: ``load_seed(cfg.data)``, decontaminated against every
  benchmark of ``bench.names`` (full benchmarks, whatever ``bench.limit``), plus
  ``<out>.stats.json`` (loaded / removed / kept, the removed ids and their closest benchmark task).
- ``seer bench_data bench.name=<benchmark> io.out=.../bench/<name>.jsonl``: one benchmark, call
  tests completed with the reference solution's outputs (sandboxed).
- ``seer check_data io.out=.../check.json [+io.extra.sources='mbpp,lcb']``: runs every
  shipped reference solution against its own tests in the sandbox; per-source pass rates and the
  failures.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from omegaconf import DictConfig, OmegaConf

from seer.config import config_hash
from seer.data.benchmarks import SAME_TEXT_AS, load_benchmark
from seer.data.decontam import decontaminate
from seer.data.jsonl import write_json, write_jsonl
from seer.data.schemas import Problem
from seer.data.sources import load_seed
from seer.stages import require_io

log = logging.getLogger(__name__)


def _full(bench_cfg: DictConfig) -> DictConfig:
    full = OmegaConf.create(OmegaConf.to_container(bench_cfg, resolve=True))
    full.limit = 0
    return full


def seed_data(cfg: DictConfig) -> None:
    require_io(cfg, "out")
    out = str(cfg.io.out)
    problems = load_seed(cfg.data)
    stats: dict[str, Any] = {"source": cfg.data.source, "loaded": len(problems), "config_hash": config_hash(cfg)}
    if cfg.data.decontaminate and cfg.bench.names:
        # decontaminate against whole benchmarks (bench.limit only trims evaluation) and by text only
        full = _full(cfg.bench)
        benches = {name: load_benchmark(SAME_TEXT_AS.get(name, name), full)
                   for name in cfg.bench.names}
        problems, report = decontaminate(problems, benches, cfg.data.ngram, cfg.data.threshold)
        stats["decontamination"] = report.to_dict()
        stats["removed"] = report.removed
    else:
        stats["removed"] = 0
    stats["kept"] = len(problems)
    write_jsonl(out, problems)
    write_json(out + ".stats.json", stats)
    log.info("seed_data: %d loaded, %d removed by decontamination, %d written to %s",
             stats["loaded"], stats["removed"], stats["kept"], out)


def bench_data(cfg: DictConfig) -> None:
    require_io(cfg, "out")
    out = str(cfg.io.out)
    name = cfg.bench.name
    if not name:
        raise ValueError("bench_data needs the benchmark name: bench.name=<humaneval|mbpp|mbppplus|lcb|...>")
    from seer.sandbox.references import fill_expected_outputs, special_inputs

    problems = fill_expected_outputs(load_benchmark(name, cfg.bench), workers=cfg.sandbox.workers)
    n = write_jsonl(out, problems)
    special = special_inputs(problems)
    # every input is kept; these are the ones whose expected output is held as a digest
    print(f"bench_data {name}: {sum(map(len, special.values()))} inputs handled specially (expected output "
          f"too large for the sandbox, compared by digest): "
          + (", ".join(f"{pid} cases {cases}" for pid, cases in special.items()) or "none"))
    log.info("bench_data %s: %d problems written to %s", name, n, out)


# source name -> loader of the problems whose shipped reference solutions check_data runs
def _check_sources(cfg: DictConfig) -> dict[str, Callable[[], list[Problem]]]:
    from seer.data.mbpp import load_mbpp
    from seer.sandbox.references import fill_expected_outputs

    full = _full(cfg.bench)
    all_ids = OmegaConf.merge(full, {"mbppplus_ids": "all"})
    return {
        "mbpp": lambda: load_mbpp(["prompt", "test", "validation", "train"]),
        "humaneval": lambda: load_benchmark("humaneval", full),
        "mbppplus": lambda: fill_expected_outputs(load_benchmark("mbppplus", all_ids), workers=cfg.sandbox.workers),
        "lcb": lambda: fill_expected_outputs(load_benchmark("lcb", full)),
        "leetcode": lambda: load_seed(OmegaConf.create({"source": "leetcode", "difficulties": [], "shuffle_seed": 0,
                                                        "limit": 0})),
        "sra_leetcode": lambda: load_seed(OmegaConf.create({"source": "sra_leetcode", "difficulties": [],
                                                            "shuffle_seed": 0, "limit": 0})),
    }


def _compiles(code: str) -> bool:
    try:
        compile(code, "<stub>", "exec")
    except SyntaxError:
        return False
    return bool(code.strip())


def _load_failed(r: Any) -> bool:
    return bool(r.tests) and all(t.detail.endswith("program failed to load") for t in r.tests)


def check_references(problems: list[Problem], pool: Any) -> dict[str, Any]:
    """Run each problem's reference solution on its own tests: pass rate and the failures.

    Problems without a reference but with a runnable code stub (LeetCode starters; LiveCodeBench
    starters have empty bodies) run the stub instead: it fails the tests, but the harness must load.
    """
    with_ref = [p for p in problems if p.solution and p.tests.cases]
    stubs = [p for p in problems if not p.solution and p.tests.cases and _compiles(p.prompt)]
    items = [(p.solution, p.tests) for p in with_ref] + [(p.prompt, p.tests) for p in stubs]
    results = pool.run_many(items) if items else []
    failures = [{"id": p.id, "status": r.status, "tests": [t.status for t in r.tests],
                 "detail": next((t.detail for t in r.tests if t.status != "pass"), r.stderr[-300:])}
                for p, r in zip(with_ref, results) if not r.passed]
    stub_failures = [{"id": p.id, "detail": r.tests[0].detail if r.tests else r.stderr[-300:]}
                     for p, r in zip(stubs, results[len(with_ref):]) if _load_failed(r)]
    n = len(with_ref)
    return {"problems": len(problems), "with_reference": n, "passed": n - len(failures),
            "pass_rate": round((n - len(failures)) / n, 4) if n else None, "failures": failures,
            "without_tests": sum(not p.tests.cases for p in problems),
            "stubs_run": len(stubs), "stub_load_failures": stub_failures}


def check_data(cfg: DictConfig) -> None:
    from seer.sandbox import SandboxPool

    require_io(cfg, "out")
    out = str(cfg.io.out)
    sources = _check_sources(cfg)
    wanted = str(cfg.io.extra.get("sources", ""))
    names = wanted.replace(",", " ").split() or list(sources)
    unknown = [s for s in names if s not in sources]
    if unknown:
        raise ValueError(f"check_data: unknown source(s) {unknown}; valid: {', '.join(sources)}")
    report: dict[str, Any] = {"timeout": cfg.sandbox.timeout, "sources": {}}
    with SandboxPool.from_config(cfg.sandbox) as pool:
        for name in names:
            t0 = time.time()
            res = check_references(sources[name](), pool)
            res["seconds"] = round(time.time() - t0, 1)
            report["sources"][name] = res
            log.info("check_data %s: %d problems, %d/%d reference solutions pass, %d stubs run (%d harness "
                     "load failures), %d without tests, %.0fs", name, res["problems"], res["passed"],
                     res["with_reference"], res["stubs_run"], len(res["stub_load_failures"]),
                     res["without_tests"], res["seconds"])
    write_json(out, report)
