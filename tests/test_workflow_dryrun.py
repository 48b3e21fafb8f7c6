"""The DAG's plan (snakemake -n) for experiments, ablations and sweeps: right jobs, shared training."""
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def dry_run(*config: str, targets: tuple[str, ...] = ()) -> dict[str, int]:
    # an empty working directory: the plan must not depend on results a user's own runs left in the repo
    with tempfile.TemporaryDirectory() as work:
        cmd = [sys.executable, "-m", "snakemake", "-n", "--cores", "2", "-d", work, "-s", str(REPO / "Snakefile"),
               *targets]
        if config:
            cmd += ["--config", *config]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    stats = r.stdout.split("Job stats:")[1].split("total")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)}


@pytest.mark.slow
@pytest.mark.parametrize("exp", ["no_perturb", "no_refine", "no_value", "no_adaptive", "stage1_only", "no_kl"])
def test_ablation_experiments_dry_run(exp):
    jobs = dry_run(f"experiment=ablate_{exp}")
    assert jobs["train_stage1"] == 1 and jobs["report"] == 1
    # stage1_only infers with stage 1 alone; the others infer with both stages
    assert jobs.get("train_stage2", 0) == (0 if exp == "stage1_only" else 1)


@pytest.mark.slow
def test_beam_sweep_expands_grid_and_shares_training():
    jobs = dry_run("sweep=beams")
    n_bench = 2  # quickstart benchmarks
    assert jobs["infer_model"] == 4 * 5 * n_bench
    assert jobs["train_stage1"] == 1 and jobs["train_stage2"] == 1


@pytest.mark.slow
def test_kl_sweep_trains_stage1_once():
    jobs = dry_run("sweep=kl")
    assert jobs["train_stage1"] == 1 and jobs["direct_samples"] == 1 and jobs["train_stage2"] == 3


def test_typo_in_overrides_fails_the_plan():
    cmd = [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "-d", str(REPO), "-s", str(REPO / "Snakefile"),
           "--config", "overrides=infer.bb1=2"]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.returncode != 0 and "bb1" in (r.stdout + r.stderr)


def test_unknown_config_key_fails_naming_the_valid_ones():
    cmd = [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "-d", str(REPO), "-s", str(REPO / "Snakefile"),
           "--config", "experimnt=ci"]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300)
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "unknown key(s) experimnt" in out
    assert all(f"  {k}: " in out for k in ("experiment", "overrides", "sweep"))


def test_every_job_rule_has_a_log():
    """Every rule that runs a command writes its log (the target rule `all` runs nothing)."""
    rules = {}
    for smk in [REPO / "Snakefile", *sorted((REPO / "workflow/rules").glob("*.smk"))]:
        for block in re.split(r"^(?=(?:rule|checkpoint) )", smk.read_text(), flags=re.M)[1:]:
            name = re.match(r"(?:rule|checkpoint) (\w+)", block).group(1)
            body = re.split(r"^\S", block.partition("\n")[2], maxsplit=1, flags=re.M)[0]  # to the next top-level line
            rules[name] = body
    jobs = {n: b for n, b in rules.items() if re.search(r"^\s+(shell|run|script):", b, re.M)}
    assert len(jobs) >= 15 and set(rules) - set(jobs) == {"all"}
    assert [n for n, b in jobs.items() if not re.search(r"^\s+log:", b, re.M)] == []


@pytest.mark.slow
def test_paper_qwen_plans_the_authors_pipeline():
    # every stage composes experiment=paper_qwen, whose groups select the authors' behaviour
    # (docs/fidelity.md; the keys are checked in tests/test_fidelity.py)
    cmd = [sys.executable, "-m", "snakemake", "-n", "-p", "--cores", "2", "-d", str(REPO), "-s",
           str(REPO / "Snakefile"), "--config", "experiment=paper_qwen"]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    jobs = {m.group(1): int(m.group(2))
            for m in re.finditer(r"^(\w+)\s+(\d+)$", r.stdout.split("Job stats:")[1].split("total")[0], re.MULTILINE)}
    assert jobs["explore"] == 64 and jobs["perturb"] == 1 and jobs["refine"] == 1 and jobs["direct_samples"] == 1
    assert jobs["train_stage1"] == 1 and jobs["train_stage2"] == 1
    stages = re.findall(r"-m seer (\w+) (\S+)", r.stdout)
    assert stages and all(arg == "experiment=paper_qwen" for _, arg in stages)
    assert {"explore", "perturb", "refine", "stage1_data", "train", "direct_samples"} <= {s for s, _ in stages}
