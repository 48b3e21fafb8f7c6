"""(slow) The SRA-MCTS / CoT / ToT DAG under snakemake on the tiny model, seed to report."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from seer.data.jsonl import read_jsonl
from seer.data.schemas import Problem, SftRecord

REPO = Path(__file__).resolve().parent.parent
RES = "results/sra_ci"


def _snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--cores", "2", *args, "--config", "experiment=sra_ci"]
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=1800)


@pytest.mark.slow
def test_sra_dag_seed_to_report(tmp_path, tiny_model_dir):
    run = _snakemake(tmp_path)
    assert run.returncode == 0, (run.stdout + run.stderr)[-5000:]
    res = tmp_path / RES
    seed = read_jsonl(res / "data/seed.jsonl", Problem.from_dict)
    assert seed and all(p.source == "sra_leetcode" for p in seed)
    for method in ("sra", "cot", "tot"):
        for k in (0, 1):
            recs = read_jsonl(res / f"thinking/{method}/shard-{k}.jsonl.gz")
            assert [r["problem_id"] for r in recs] == [p.id for i, p in enumerate(seed) if i % 2 == k]
            assert all(r["method"] == method and r["thinking"] for r in recs)
        stats = json.loads((res / f"thinking/{method}/think2code.json").read_text())
        triples = read_jsonl(res / f"thinking/{method}/sft.jsonl", SftRecord.from_dict)
        assert stats["records"] == len(seed) and stats["triples"] == len(triples) > 0
        assert all(t.method == method and t.response.startswith("Let's think step by step.\n") for t in triples)
        model = res / f"models/sft-{method}"
        metrics = json.loads((model / "metrics.json").read_text())
        assert metrics["train/value_mse"] == 0.0 and metrics["steps"] >= 1
        samples = read_jsonl(res / f"infer/sft-{method}/humaneval/cot/samples.jsonl")
        assert len(samples) == 2 and all(s["method"] == "cot" for s in samples)
        assert (res / f"scores/sft-{method}/humaneval/cot/eval.json").is_file()
    report = (res / "report/results.md").read_text()
    assert all(f"sft-{m}" in report for m in ("sra", "cot", "tot"))
    # the sra trees hold the self-evaluation of every node below the root
    tree = read_jsonl(res / "thinking/sra/shard-0.jsonl.gz")[0]["tree"]
    assert tree["children"] and all(0.0 <= c["meta"]["score"] <= 10.0 for c in tree["children"])
    # everything is up to date afterwards
    again = _snakemake(tmp_path, "-n")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
