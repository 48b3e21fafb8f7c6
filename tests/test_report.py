import csv
import json

from seer.eval.report import load_scores, markdown_table, write_report


def _score(root, model, bench, point, p1, n=10, cost=None):
    d = root / "scores" / model / bench / point
    d.mkdir(parents=True)
    (d / "eval.json").write_text(json.dumps({"pass_at_k": {"pass@1": p1}, "n_tasks": n}))
    if cost:
        i = root / "infer" / model / bench / point
        i.mkdir(parents=True)
        (i / "samples.jsonl.stats.json").write_text(json.dumps(cost))
    return d / "eval.json"


def test_table_folds_seeds_and_orders_benchmarks(tmp_path):
    paths = [
        _score(tmp_path, "base", "mbppplus", "direct", 0.5),
        _score(tmp_path, "base", "humaneval", "direct", 0.25, cost={"tokens": 1000, "wall_time_s": 2.0}),
        _score(tmp_path, "stage2", "humaneval", "infer.b1=2,infer.random_seed=0", 0.4),
        _score(tmp_path, "stage2", "humaneval", "infer.b1=2,infer.random_seed=1", 0.6),
    ]
    scores = load_scores(paths)
    table = markdown_table(scores)
    lines = table.splitlines()
    assert lines[0].index("HumanEval") < lines[0].index("MBPP+")
    assert "| base/direct | 25.0 | 50.0 |" in lines
    assert any(l.startswith("| stage2/infer.b1=2 | 50.0 ± 14.1 |") for l in lines)

    md = tmp_path / "report" / "results.md"
    write_report(scores, md)
    text = md.read_text()
    assert "| base/direct | humaneval | 1000 | 2.0 | 100 |" in text
    assert (tmp_path / "report" / "figures" / "pass1.png").stat().st_size > 1000
    rows = list(csv.DictReader(open(tmp_path / "report" / "results.csv")))
    assert len(rows) == 4 and {r["bench"] for r in rows} == {"humaneval", "mbppplus"}


def _eval(root, model, bench, point, solved, trace_values=None):
    d = root / "scores" / model / bench / point
    d.mkdir(parents=True)
    tasks = {t: {"n": 1, "correct": int(ok), "runs": []} for t, ok in solved.items()}
    p1 = sum(solved.values()) / len(solved)
    (d / "eval.json").write_text(json.dumps({"pass_at_k": {"pass@1": p1}, "n_tasks": len(solved), "tasks": tasks}))
    if trace_values:
        i = root / "infer" / model / bench / point
        i.mkdir(parents=True)
        (i / "samples.jsonl").write_text("\n".join(
            json.dumps({"task_id": t, "trace": {"value": v}}) for t, v in trace_values.items()) + "\n")
    return d / "eval.json"


def test_heatmap_curves_overthinking_and_calibration(tmp_path):
    paths = []
    for b1 in (1, 2):
        for b2 in (1, 2, 3):
            paths.append(_score(tmp_path, "stage2", "humaneval", f"infer.b1={b1},infer.b2={b2}", 0.1 * (b1 + b2)))
    for beta in ("0.015", "0.025"):
        paths.append(_score(tmp_path, f"stage2@train.beta={beta}", "humaneval", "default", float(beta) * 10))
    paths.append(_eval(tmp_path, "base", "mbpp", "direct", {"a": True, "b": True, "c": False}))
    paths.append(_eval(tmp_path, "base", "mbpp", "cot", {"a": False, "b": True, "c": True}))
    paths.append(_eval(tmp_path, "stage2", "mbpp", "default", {"a": True, "b": False, "c": True},
                       trace_values={"a": 0.9, "b": -0.8, "c": 0.7}))
    md = tmp_path / "report" / "results.md"
    write_report(load_scores(paths), md)
    figs = {p.name for p in (tmp_path / "report" / "figures").iterdir()}
    assert "heatmap_b1_b2_stage2_humaneval.png" in figs
    assert "pass1_vs_beta.png" in figs and "value_calibration.png" in figs
    text = md.read_text()
    # direct solved a, b; CoT lost a; adaptive kept a
    assert "| MBPP | 2 | 1 (50.0%) | 1 | 1 / 1 |" in text
    # the chosen answers' values rank both passing tasks (0.9, 0.7) above the failing one (-0.8)
    assert "| stage2 | 3 | 2 | 1.000 |" in text
