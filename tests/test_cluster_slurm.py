"""The SLURM and local profiles: they parse, dry-runs of the paper experiments under the SLURM profile
list every job with its resources (no cluster needed), and a fake `sbatch` on PATH shows what a
submitted job carries (needs snakemake-executor-plugin-slurm, no SLURM)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SLURM = REPO / "workflow" / "profiles" / "slurm"
LOCAL = REPO / "workflow" / "profiles" / "local"


def snakemake(workdir: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
              ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), *args],
                          capture_output=True, text=True, timeout=timeout, env=env, check=False)


def jobs_by_rule(dry_run_output: str) -> dict[str, list[dict[str, str]]]:
    """{rule: [resources of each job]} from a dry-run's job listing."""
    out: dict[str, list[dict[str, str]]] = {}
    rule = None
    for line in dry_run_output.splitlines():
        m = re.match(r"^(?:local)?rule (\w+):$", line)
        if m:
            rule = m.group(1)
            out.setdefault(rule, []).append({})
        elif rule and line.startswith("    resources: "):
            out[rule][-1] = dict(kv.split("=", 1) for kv in line.split(": ", 1)[1].split(", "))
    return out


def test_profiles_parse():
    slurm = yaml.safe_load((SLURM / "config.yaml").read_text())
    assert slurm["executor"] == "slurm" and slurm["jobs"] >= 64  # every explore shard can be queued
    assert slurm["rerun-incomplete"] is True and slurm["slurm-requeue"] is True
    assert {"mem_mb=4000", "runtime=60", "cpus_per_task=1", "gpu=0"} <= set(slurm["default-resources"])
    local = yaml.safe_load((LOCAL / "config.yaml").read_text())
    assert local["cores"] == "all" and any(r.startswith("gpu=") for r in local["resources"])


def test_local_profile_dry_run_on_cpu_requests_no_gpu(tmp_path):
    r = snakemake(tmp_path, "--profile", str(LOCAL), "-n", "--config", "experiment=ci",
                  env={k: v for k, v in os.environ.items() if k != "SEER_LOCAL_GPUS"})
    assert r.returncode == 0, r.stderr + r.stdout
    jobs = jobs_by_rule(r.stdout + r.stderr)
    assert len(jobs["explore"]) == 2 and jobs["train_stage1"]
    assert all(res.get("gpu") == "0" for rule, rs in jobs.items() if rule != "all" for res in rs)


@pytest.mark.parametrize("experiment", ["paper_dsc", "paper_qwen"])
def test_paper_dry_run_under_the_slurm_profile(experiment, tmp_path):
    overrides = "cluster.gpu_partition=a100 cluster.cpu_partition=cpu"
    r = snakemake(tmp_path, "--profile", str(SLURM), "-n", "--config", f"experiment={experiment}",
                  f"overrides={overrides}")
    assert r.returncode == 0, r.stderr + r.stdout
    jobs = jobs_by_rule(r.stdout + r.stderr)
    assert len(jobs["explore"]) == 64 and len(jobs["bench_data"]) == 4  # humaneval, mbpp, mbppplus, lcb
    for rule in ("seed_data", "paths", "perturb", "refine", "stage1_data", "train_stage1", "direct_samples",
                 "train_stage2", "report"):
        assert len(jobs[rule]) == 1, rule
    assert len(jobs["infer_base"]) == 2  # (direct, cot), each over the 4 benchmarks
    assert len(jobs["infer_model"]) == 8  # 4 benchmarks x (stage1, stage2) adaptive inference
    assert len(jobs["score"]) == 16
    gpu = {"explore", "perturb", "refine", "train_stage1", "direct_samples", "train_stage2", "infer_base",
           "infer_model"}
    for rule, resources in jobs.items():
        if rule == "all":
            continue
        for res in resources:
            assert res["gpu"] == ("1" if rule in gpu else "0"), rule
            assert res["slurm_partition"] == ("a100" if rule in gpu else "cpu"), rule
            assert int(res["cpus_per_task"]) >= 1 and int(res["mem_mb"]) >= 4000 and int(res["runtime"]) >= 30
    shard = jobs["explore"][0]
    assert (shard["cpus_per_task"], shard["mem_mb"], shard["runtime"]) == ("8", "64000", "480")
    assert jobs["train_stage1"][0]["mem_mb"] == "128000" and jobs["train_stage1"][0]["runtime"] == "1440"


def _fake_slurm(bin_dir: Path) -> None:
    """sbatch runs the job script at once and records its call; sacct/squeue report the outcome;
    srun drops its options and runs the command; scontrol/sinfo answer the plugin's probes."""
    py = sys.executable
    scripts = {
        "sbatch": f"""#!{py}
import json, os, subprocess, sys
state = os.environ["FAKE_SLURM_DIR"]
os.makedirs(f"{{state}}/jobs", exist_ok=True)
jid = str(1000 + len(os.listdir(f"{{state}}/jobs")))
args = sys.argv[1:]
script = sys.stdin.read() if args[-1] == "/dev/stdin" else None
wrap = next((a[len("--wrap="):] for a in args if a.startswith("--wrap=")), None)
json.dump({{"argv": args, "wrap": wrap, "script": script}}, open(f"{{state}}/sbatch-{{jid}}.json", "w"))
log = open(args[args.index("--output") + 1].replace("%j", jid), "w")
env = dict(os.environ, SLURM_JOB_ID=jid, SLURM_JOBID=jid)
cmd = ["sh", "-c", wrap] if wrap is not None else ["sh", "-s"]
rc = subprocess.run(cmd, input=script, text=True, stdout=log, stderr=log, env=env).returncode
open(f"{{state}}/jobs/{{jid}}", "w").write("COMPLETED" if rc == 0 else "FAILED")
print(jid)
""",
        "sacct": f"""#!{py}
import os, sys
jobs = os.path.join(os.environ["FAKE_SLURM_DIR"], "jobs")
if "--name" in sys.argv and os.path.isdir(jobs):
    for j in sorted(os.listdir(jobs)):
        print(j + "|" + open(os.path.join(jobs, j)).read())
""",
        "srun": f"""#!{py}
import json, os, sys
with open(os.path.join(os.environ["FAKE_SLURM_DIR"], "srun.jsonl"), "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
args = sys.argv[1:]
while args and args[0].startswith("-"):
    args.pop(0)
os.execvp(args[0], args)
""",
        "scontrol": "#!/bin/sh\necho 'MinJobAge = 300 sec'\n",
        "sinfo": "#!/bin/sh\nprintf 'PARTITION\\ncpu*\\na100\\n'\n",
    }
    scripts["squeue"] = scripts["sacct"]
    bin_dir.mkdir()
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)


@pytest.mark.slow
def test_fake_sbatch_receives_the_rule_resources(tmp_path):
    _fake_slurm(tmp_path / "bin")
    state = tmp_path / "slurm"
    work = tmp_path / "work"
    env = dict(os.environ, PATH=f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}", FAKE_SLURM_DIR=str(state))
    env.pop("SEER_LOCAL_GPUS", None)
    # bench_data is a CPU stage; give it a GPU here so the test sees --gpus and the GPU partition
    overrides = "backend.device=cuda +cluster.stages.bench_data.gpu=1 cluster.gpu_partition=a100"
    target = "results/ci/data/bench/humaneval.jsonl"
    r = snakemake(work, "--profile", str(SLURM), "--config", "experiment=ci", f"overrides={overrides}",
                  "--retries", "0", "--latency-wait", "5", "--slurm-init-seconds-before-status-checks", "1",
                  "--", target, env=env, timeout=180)
    assert r.returncode == 0, r.stderr[-3000:]
    calls = [json.loads(p.read_text()) for p in sorted(state.glob("sbatch-*.json"))]
    assert len(calls) == 1
    argv = calls[0]["argv"]
    flags = " ".join(argv)
    for flag in ("-p a100", "--gpus=1", "--mem 8000", "-t 60", "--cpus-per-task=1", "--requeue"):
        assert flag in flags, (flag, flags)
    job = calls[0]["wrap"] or calls[0]["script"]
    assert "--executor slurm-jobstep" in job and "bench_data:bench=humaneval" in job
    srun = [json.loads(line) for line in (state / "srun.jsonl").read_text().splitlines()]
    assert len(srun) == 1 and "--gpus=1" in srun[0]  # the job step asks for the GPU too
    problems = (work / target).read_text().splitlines()
    assert len(problems) == 3 and all(json.loads(p)["id"] for p in problems)  # ci: bench.limit=3
