"""The whole DAG under real snakemake on the tiny model: seed -> explore -> train (both stages) ->
baselines + adaptive inference -> score -> report; a rerun does nothing; a deleted samples file
reruns only what depends on it."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--cores", "2", "--config", "experiment=ci", *args]
    env = dict(os.environ, WANDB_MODE="disabled", OMP_NUM_THREADS="1")
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1500, env=env)


def planned_jobs(out: str) -> dict[str, int]:
    if "Nothing to be done" in out:
        return {}
    stats = out.split("Job stats:")[1].split("total")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)}


@pytest.mark.slow
def test_full_dag_runs_resumes_and_reruns_only_what_changed(tmp_path, tiny_model_dir):
    r = snakemake(tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    res = tmp_path / "results" / "ci"
    table = (res / "report" / "results.md").read_text()
    for row in ("base/direct", "base/cot", "stage1/default", "stage2/default"):
        assert f"| {row} |" in table, table
    assert (res / "report" / "results.csv").exists() and (res / "report" / "figures" / "pass1.png").exists()
    # every heavy job wrote a Snakemake benchmark file; the report joins them with the jobs' tokens
    for bench in ("explore/shard-0", "augment/perturb", "train/stage1", "train/stage2", "train/direct_samples",
                  "infer/base/direct", "infer/stage2/humaneval/default"):
        assert (res / "benchmarks" / f"{bench}.tsv").is_file(), bench
    assert "## Job costs (Snakemake benchmarks)" in table
    costs = table.split("## Job costs")[1]
    for kind in ("explore", "train", "direct_samples", "infer base", "infer stage2"):
        assert f"| {kind} |" in costs, costs
    train_row = next(ln for ln in costs.splitlines() if ln.startswith("| train |")).split("|")
    assert int(train_row[2]) == 2 and int(train_row[6]) > 0 and float(train_row[7]) > 0  # 2 jobs, tokens, tokens/s
    assert len((res / "report" / "job_costs.csv").read_text().splitlines()) > 10
    stats = json.loads((res / "explore" / "stats.json").read_text())
    assert stats["problems"] == 4
    for stage in (1, 2):
        m = res / "models" / f"stage{stage}"
        assert (m / "value_head.safetensors").exists() and (m / "config.yaml").exists()
    # beam-search samples carry a per-task trace with the value of the chosen answer
    samples = [json.loads(x) for x in (res / "infer" / "stage2" / "humaneval" / "default" / "samples.jsonl")
               .read_text().splitlines()]
    assert len(samples) == 3 and all("trace" in s and "solution" in s for s in samples)
    ev = json.loads((res / "scores" / "stage2" / "humaneval" / "default" / "eval.json").read_text())
    assert ev["n_tasks"] == 3 and set(ev["pass_at_k"]) == {"pass@1"}

    again = snakemake(tmp_path, "-n")
    assert again.returncode == 0 and planned_jobs(again.stdout) == {}, again.stdout[-2000:]

    # Snakemake does not rebuild a deleted intermediate while its downstream outputs exist: ask for it
    # (plus the default target) and exactly its job and what depends on it run again (the CoT job
    # writes both benchmarks' samples, so both are scored again)
    deleted = res / "infer" / "base" / "mbpp" / "cot" / "samples.jsonl"
    deleted.unlink()
    target = str(deleted.relative_to(tmp_path))
    plan = snakemake(tmp_path, "-n", "--", target, "all")
    assert planned_jobs(plan.stdout) == {"infer_base": 1, "score": 2, "report": 1, "all": 1}, plan.stdout[-2000:]
    redo = snakemake(tmp_path, "--", target, "all")
    assert redo.returncode == 0, redo.stdout[-3000:] + redo.stderr[-3000:]
    assert planned_jobs(snakemake(tmp_path, "-n").stdout) == {}

    # a sweep over the same experiment: its points reuse the trained models, and a deleted score
    # file (asked for as a target) recomputes that point alone
    sweep = ("--config", "experiment=ci", "sweep=beams_quick")
    planned = planned_jobs(snakemake(tmp_path, "-n", *sweep).stdout)
    assert planned == {"infer_model": 8, "score": 8, "report": 1, "all": 1}, planned
    r = snakemake(tmp_path, *sweep)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    report = res / "report"
    assert (report / "figures" / "heatmap_b1_b2_stage2_humaneval.png").exists(), sorted(p.name for p in report.rglob("*.png"))
    point = res / "scores" / "stage2" / "mbpp" / "infer.b1=2,infer.b2=2" / "eval.json"
    assert json.loads(point.read_text())["n_tasks"] == 3
    point.unlink()
    target = str(point.relative_to(tmp_path))
    assert planned_jobs(snakemake(tmp_path, "-n", *sweep, "--", target, "all").stdout) == \
        {"score": 1, "report": 1, "all": 1}
