"""What each heavy job of a run cost, from Snakemake's `benchmark:` files, and the constants of
docs/cluster.md's GPU-hours table measured from them.

Every heavy rule (explore, perturb, refine, direct_samples, train, SFT, thinking, infer) writes
`<results>/<experiment>/benchmarks/<its log path>.tsv`: wall seconds, max RSS, CPU seconds. Jobs
that record their tokens are joined with them (explore trees' `stats.tokens`, infer's
`samples.jsonl.stats.json`, a model's `metrics.json`), which gives tokens per second per job:
the per-token constants of the GPU-hours estimate. `python -m seer.eval.costs <results>/<experiment>`
prints the per-rule table; the report includes it.
"""
from __future__ import annotations

import csv
import gzip
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class JobCost:
    rule: str  # the benchmark's directory under benchmarks/ (explore, infer, train, thinking, augment)
    job: str  # its path under that directory, without .tsv
    seconds: float
    max_rss_mb: float
    cpu_seconds: float
    tokens: int | None  # generated (explore, infer) or trained (train, sft); None when not recorded


def read_benchmark(path: Path) -> dict[str, float]:
    """The last row of a Snakemake benchmark TSV (one row per repeat) as numbers ('-' = 0)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if not rows:
        raise ValueError(f"{path}: an empty benchmark file")

    def num(key: str) -> float:
        v = rows[-1].get(key, "-")
        return 0.0 if v in ("-", "", None) else float(v)

    return {"s": num("s"), "max_rss": num("max_rss"), "cpu_time": num("cpu_time")}


def tree_stats(trees: Path) -> list[dict[str, float]]:
    """The `stats` of every tree of a finished explore shard (`explore/trees/shard-k.jsonl.gz`)."""
    with gzip.open(trees, "rt") as f:
        return [json.loads(line).get("stats", {}) for line in f if line.strip()]


def _tokens(res: Path, rule: str, job: str) -> int | None:
    """Tokens the job recorded in its own outputs (see the module docstring)."""
    if rule == "explore" and job.startswith("shard-"):
        trees = res / "explore" / "trees" / f"{job}.jsonl.gz"
        if trees.is_file():
            return sum(int(s.get("tokens", 0)) for s in tree_stats(trees))
    if rule == "infer":
        # infer/<model>/<bench>/<point>; a baseline job (base/<method>) covers every benchmark
        model, _, rest = job.partition("/")
        files = sorted((res / "infer" / model).glob(f"*/{rest}/samples.jsonl.stats.json")) if "/" not in rest \
            else [res / "infer" / job / "samples.jsonl.stats.json"]
        if any(f.is_file() for f in files):
            return sum(int(json.loads(f.read_text()).get("tokens", 0)) for f in files if f.is_file())
    if rule == "train":
        metrics = res / "models" / job / "metrics.json"
        if metrics.is_file():
            return int(json.loads(metrics.read_text()).get("tokens", 0))
    return None


def collect(res: str | Path) -> list[JobCost]:
    """Every benchmark file of a run directory (`<results>/<experiment>`), sorted by path."""
    res = Path(res)
    out = []
    for tsv in sorted((res / "benchmarks").rglob("*.tsv")):
        rel = tsv.relative_to(res / "benchmarks").with_suffix("")
        rule, job = rel.parts[0], "/".join(rel.parts[1:])
        b = read_benchmark(tsv)
        out.append(JobCost(rule, job, b["s"], b["max_rss"], b["cpu_time"], _tokens(res, rule, job)))
    return out


def _kind(c: JobCost) -> str:
    """The table row a job belongs to: its benchmark directory, split where jobs of different rules share one."""
    if c.rule == "train":
        return "sft" if c.job.startswith("sft-") else "direct_samples" if c.job.startswith("direct") else "train"
    if c.rule == "infer":
        return "infer " + c.job.split("/")[0].split("@")[0]
    if c.rule == "thinking":
        return "think2code" if c.job.endswith("think2code") else "thinking_data"
    return c.rule


def cost_table(costs: list[JobCost]) -> str:
    """Per kind of job: count, wall hours, CPU hours, max RSS, tokens and tokens/s (where recorded)."""
    if not costs:
        return ""
    groups: dict[str, list[JobCost]] = defaultdict(list)
    for c in costs:
        groups[_kind(c)].append(c)
    lines = ["| job | jobs | wall h | CPU h | max RSS (MB) | tokens | tokens/s per job |", "|---|---|---|---|---|---|---|"]
    for kind, cs in sorted(groups.items()):
        wall = sum(c.seconds for c in cs)
        counted = [c for c in cs if c.tokens is not None]
        tokens = sum(c.tokens or 0 for c in counted)
        rate = tokens / max(sum(c.seconds for c in counted), 1e-9) if counted else None
        lines.append(f"| {kind} | {len(cs)} | {wall / 3600:.3f} | {sum(c.cpu_seconds for c in cs) / 3600:.3f} | "
                     f"{max(c.max_rss_mb for c in cs):.0f} | {tokens if counted else '-'} | "
                     f"{'-' if rate is None else f'{rate:.1f}'} |")
    return "\n".join(lines)


def write_costs(res: str | Path, out_dir: str | Path) -> str:
    """`out_dir/job_costs.csv` (one row per job) and the markdown table (returned; '' without files)."""
    costs = collect(res)
    from seer.data.jsonl import atomic_open

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_open(out / "job_costs.csv") as f:
        w = csv.writer(f)
        w.writerow(["rule", "job", "seconds", "max_rss_mb", "cpu_seconds", "tokens"])
        for c in costs:
            w.writerow([c.rule, c.job, f"{c.seconds:.2f}", f"{c.max_rss_mb:.1f}", f"{c.cpu_seconds:.2f}",
                        "" if c.tokens is None else c.tokens])
    return cost_table(costs)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m seer.eval.costs <results>/<experiment>")
    print(cost_table(collect(sys.argv[1])) or "no benchmark files under " + sys.argv[1] + "/benchmarks")
