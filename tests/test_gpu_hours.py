"""The GPU-hours table (seer/eval/gpu_hours.py): docs/cluster.md holds its output for paper_dsc, and a
run directory's measurements replace exactly the assumptions they may replace."""
import gzip
import json
import re
from pathlib import Path

import pytest

from seer.config import compose, save_resolved
from seer.eval import gpu_hours
from seer.stages.report import report

DOC = Path(__file__).resolve().parent.parent / "docs" / "cluster.md"
BENCH_HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _benchmark(res: Path, job: str, seconds: float) -> None:
    """A Snakemake `benchmark:` file in Snakemake's own format."""
    p = res / "benchmarks" / f"{job}.tsv"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(BENCH_HEADER + f"{seconds:.2f}\t0:01:40\t2626.37\t3709.75\t630.01\t1623.16\t1.36\t0.04\t87.02\t75.09\n")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def fake_run(res: Path, overrides: list[str]) -> Path:
    """A run directory with what the jobs write: the seed job's resolved config, two finished trees
    (200 generated steps of 80 tokens, a third of 2 x 60 x 5), the paths' stats, the stage-1 model's
    metrics, direct-baseline samples and the benchmark files of those jobs."""
    save_resolved(compose(overrides), res / "data" / "seed.jsonl")
    (res / "explore" / "trees").mkdir(parents=True)
    with gzip.open(res / "explore" / "trees" / "shard-0.jsonl.gz", "wt") as f:
        for pid, nodes, tokens in (("a", 151, 12000), ("b", 51, 4000)):
            f.write(json.dumps({"problem_id": pid, "tree": {}, "stats": {"iterations": 60, "tokens": tokens,
                                                                        "nodes": nodes}}) + "\n")
    _benchmark(res, "explore/shard-0", 100.0)  # 16,000 tokens in 100 s
    _write(res / "explore" / "stats.json", json.dumps({
        "problems": 2, "share": {"only_correct": 0.5, "only_incorrect": 0.0, "mixed": 0.5, "none": 0.0}}))
    # 6 paths of 2 problems trained for 2 epochs: 12 sequences of 500 tokens
    _write(res / "models" / "stage1" / "metrics.json", json.dumps({
        "steps": 1.0, "effective_batch": 128, "n_train": 6, "tokens": 6000.0, "tokens_per_s": 2500.0}))
    _benchmark(res, "train/stage1", 3.0)  # the job's 2,000 tokens/s include loading: the fit loop's count
    d = res / "infer" / "base" / "humaneval" / "direct"
    _write(d / "samples.jsonl", "".join(json.dumps({"task_id": t, "solution": ""}) + "\n" for t in "xyz"))
    _write(d / "samples.jsonl.stats.json", json.dumps({"tokens": 300, "wall_time_s": 1.0}))
    _benchmark(res, "infer/base/humaneval/direct", 2.0)
    return res


def _rows(text: str) -> dict[str, str]:
    """stage -> basis of every row of a generated table."""
    out = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 6 and cells[0] not in ("stage", "---", "**total**"):
            out[cells[0]] = cells[5]
    return out


def test_doc_section_is_the_generator_output_for_paper_dsc():
    doc = DOC.read_text()
    m = re.search(r"<!-- gpu-hours:start[^\n]*-->\n(.*?)\n<!-- gpu-hours:end -->", doc, re.DOTALL)
    assert m, "docs/cluster.md: no gpu-hours markers"
    assert "python -m seer.eval.gpu_hours experiment=paper_dsc" in doc
    expected = gpu_hours.markdown(compose(["experiment=paper_dsc"]))
    assert m.group(1) == expected, "docs/cluster.md is stale: rerun python -m seer.eval.gpu_hours experiment=paper_dsc"
    rows = _rows(expected)
    assert rows and all(b.startswith("estimate (") or b == "-" for b in rows.values()), rows
    # every assumption a row names is listed with its reason, and no run measured anything
    assert "**2,000 generated tokens/s**" in expected and "measured (" not in expected


def test_gpu_run_switches_exactly_the_rows_it_measures(tmp_path):
    res = fake_run(tmp_path / "results" / "paper_dsc", ["experiment=paper_dsc"])
    run = gpu_hours.measure(res)
    assert run.values == pytest.approx({
        "step_tokens": 80.0, "budget_used": 200 / 600, "share_all_correct": 0.5, "share_all_fail": 0.0,
        "stage1_path_tokens": 500.0, "stage1_paths": 3.0, "direct_answer_tokens": 100.0,
        "generate_rate": 160.0, "train_rate": 2500.0, "infer_rate": 150.0})
    cfg = compose(["experiment=paper_dsc"])
    text = gpu_hours.markdown(cfg, [run])
    basis = _rows(text)
    fully = {s for s, b in basis.items() if b.startswith("measured") and "estimate" not in b}
    mixed = {s for s, b in basis.items() if b.startswith("measured") and "estimate" in b}
    assert fully == {"explore", "perturb", "train_stage1"}, basis
    assert mixed == {"refine", "direct_samples", "infer (baselines)"}, basis
    assert basis["train_stage2"].startswith("estimate (") and basis["infer (SEER beam: stage1, stage2)"].startswith(
        "estimate (")
    assert basis["explore"] == f"measured ({res}: 33% of the step budget, 80 tokens/step, 160 generated tokens/s)"
    # 10,000 problems x 100 steps x 80 tokens at 160 tokens/s on 1 GPU per shard
    explore = next(r for r in gpu_hours.rows(cfg, [run], {"humaneval": 164}, 10000) if r.stage == "explore")
    assert explore.tokens == pytest.approx(8e7) and explore.gpu_hours == pytest.approx(8e7 / 160 / 3600)
    total = next(line for line in text.splitlines() if line.startswith("| **total** |"))
    assert total.endswith("| estimate |")  # some rows still are


@pytest.mark.parametrize("overrides", [["backend.device=cpu"], ["model.name=another/model"],
                                       ["backend.name=transformers"]])
def test_rates_only_from_a_cuda_run_of_the_same_model_and_backend(tmp_path, overrides):
    res = fake_run(tmp_path / "run", ["experiment=paper_dsc", *overrides])
    _write(res / "data" / "seed.jsonl", "{}\n" * 5)  # a run of paper_dsc: its seed count wins over data.limit
    run = gpu_hours.measure(res)
    assert "step_tokens" in run.values
    k = gpu_hours.constants(compose(["experiment=paper_dsc"]), [run])
    assert k["step_tokens"].run == str(res) and k["stage1_paths"].run == str(res)
    assert all(not k[r].run for r in gpu_hours.RATES)
    text = gpu_hours.markdown(compose(["experiment=paper_dsc"]), [run])
    assert text.startswith(f"Seed problems: 5 ({res}/data/seed.jsonl)")
    assert _rows(text)["explore"] == (f"measured ({res}: 33% of the step budget, 80 tokens/step); "
                                      "estimate (2,000 generated tokens/s)")


def test_not_a_run_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no data/seed.jsonl.config.yaml"):
        gpu_hours.measure(tmp_path)
    assert gpu_hours.main(["experiment=paper_dsc", "--runs", str(tmp_path)]) == 2
    _write(tmp_path / "data" / "seed.jsonl.config.yaml", "a: 1\n")
    with pytest.raises(ValueError, match="seed.jsonl.config.yaml: not a resolved seer config"):
        gpu_hours.measure(tmp_path)


def test_report_includes_the_table_of_its_experiment(tmp_path):
    res = tmp_path / "results" / "ci"
    save_resolved(compose(["experiment=ci"]), res / "data" / "seed.jsonl")
    _write(res / "data" / "seed.jsonl", "{}\n" * 3)
    score = res / "scores" / "base" / "humaneval" / "direct" / "eval.json"
    _write(score, json.dumps({"pass_at_k": {"pass@1": 0.5}, "n_tasks": 2}))
    out = res / "report" / "results.md"
    report(compose(["experiment=ci", f"io.scores=['{score}']", f"io.out={out}", f"io.run={res}"]))
    text = out.read_text()
    assert "| base/direct |" in text and "## Expected GPU-hours (A100 80 GB)" in text
    assert f"Seed problems: 3 ({res}/data/seed.jsonl)" in text and "| explore |" in text


def test_sweep_points_multiply_the_jobs_they_add():
    # conf/sweep/beams.yaml: B1 in 1..4 x B2 in 1..5 with the stage-2 model only; training is not swept
    table = gpu_hours.rows(compose(["experiment=paper_dsc", "sweep=beams"]), [], {"humaneval": 164}, 10)
    beam = next(r for r in table if r.stage.startswith("infer (SEER beam"))
    assert beam.jobs == 20 and beam.tokens == pytest.approx(164 * (10 * 15) * 330)
    assert next(r for r in table if r.stage == "train_stage2").jobs == 1


def test_other_methods_are_refused_by_name():
    with pytest.raises(ValueError, match="explore.method=sra: the GPU-hours table models seer only"):
        gpu_hours.markdown(compose(["experiment=sra_quick"]))
