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
        _score(tmp_path, "stage2", "humaneval", "b1=2+seed=0", 0.4),
        _score(tmp_path, "stage2", "humaneval", "b1=2+seed=1", 0.6),
    ]
    scores = load_scores(paths)
    table = markdown_table(scores)
    lines = table.splitlines()
    assert lines[0].index("HumanEval") < lines[0].index("MBPP+")
    assert "| base/direct | 25.0 | 50.0 |" in lines
    assert any(l.startswith("| stage2/b1=2 | 50.0 ± 14.1 |") for l in lines)

    md = tmp_path / "report" / "results.md"
    write_report(scores, md)
    text = md.read_text()
    assert "| base/direct | humaneval | 1000 | 2.0 | 100 |" in text
    assert (tmp_path / "report" / "figures" / "pass1.png").stat().st_size > 1000
    rows = list(csv.DictReader(open(tmp_path / "report" / "results.csv")))
    assert len(rows) == 4 and {r["bench"] for r in rows} == {"humaneval", "mbppplus"}
