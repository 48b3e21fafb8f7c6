"""`seer score` cross-checks: canonical HumanEval solutions score 100%, empty completions 0%."""
import json
import subprocess
import sys

import pytest

from seer.data.benchmarks import load_humaneval
from seer.data.jsonl import write_jsonl
from seer.eval.score import sample_program, score_samples
from seer.sandbox import SandboxPool


@pytest.fixture(scope="module")
def humaneval():
    return load_humaneval()


@pytest.mark.slow
def test_canonical_humaneval_scores_100_and_empty_scores_0(humaneval, tmp_path):
    assert len(humaneval) == 164
    bench = tmp_path / "humaneval.jsonl"
    write_jsonl(bench, humaneval)
    canon = tmp_path / "canon.jsonl"
    write_jsonl(canon, [{"task_id": p.id, "solution": p.solution} for p in humaneval])
    empty = tmp_path / "empty.jsonl"
    write_jsonl(empty, [{"task_id": p.id, "completion": ""} for p in humaneval])
    for samples, want in ((canon, 1.0), (empty, 0.0)):
        out = tmp_path / f"{samples.stem}.eval.json"
        r = subprocess.run([sys.executable, "-m", "seer", "score", "tracking=disabled", f"io.samples={samples}",
                            f"io.bench={bench}", f"io.out={out}"], capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-2000:]
        d = json.loads(out.read_text())
        assert d["pass_at_k"]["pass@1"] == want and d["n_tasks"] == 164
        assert (tmp_path / f"{out.name}.config.yaml").exists()  # resolved config beside the output


def test_pass_at_k_over_several_samples_and_missing_tasks(humaneval):
    probs = {p.id: p for p in humaneval[:3]}
    a, b, c = list(probs)
    samples = [{"task_id": a, "solution": probs[a].solution}, {"task_id": a, "completion": "    return None\n"},
               {"task_id": b, "solution": probs[b].solution}, {"task_id": b, "solution": probs[b].solution}]
    with SandboxPool(workers=2, cache=False) as pool:
        res = score_samples(samples, probs, pool)
    assert res["missing_tasks"] == [c]
    assert res["tasks"][a]["correct"] == 1 and res["tasks"][b]["correct"] == 2
    # pass@1 = mean(1/2, 1, 0); k=5 is not reportable with n=2 samples
    assert res["pass_at_k"] == {"pass@1": pytest.approx((0.5 + 1 + 0) / 3)}


def test_unknown_task_and_missing_fields_are_errors(humaneval, tmp_path):
    probs = {p.id: p for p in humaneval[:1]}
    with SandboxPool(workers=1, cache=False) as pool:
        with pytest.raises(ValueError, match="not in the benchmark"):
            score_samples([{"task_id": "Nope/1", "solution": ""}], probs, pool)
    with pytest.raises(ValueError, match="neither 'solution' nor 'completion'"):
        sample_program({"task_id": humaneval[0].id}, humaneval[0])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"solution": "x"}\n')
    bench = tmp_path / "b.jsonl"
    write_jsonl(bench, humaneval[:1])
    r = subprocess.run([sys.executable, "-m", "seer", "score", f"io.samples={bad}", f"io.bench={bench}",
                        f"io.out={tmp_path / 'e.json'}"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "bad.jsonl:1: sample has no 'task_id'" in r.stderr
