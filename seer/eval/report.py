"""Collect eval.json files into a results table (markdown + csv) and figures.

Score files live at ``<res>/scores/<model>/<bench>/<point>/eval.json``: a row of the table is
``<model>/<point>`` (with seeds folded into mean ± std), a column is a benchmark.
"""
from __future__ import annotations

import csv
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from seer.data.jsonl import atomic_open
from seer.eval import figures as fg
from seer.eval.results import BENCH_LABELS, Score


def load_scores(paths: Iterable[str | Path]) -> list[Score]:
    out = []
    for p in map(Path, paths):
        parts = p.parts
        if len(parts) < 5 or parts[-1] != "eval.json" or "scores" not in parts:
            raise ValueError(f"{p}: expected .../scores/<model>/<bench>/<point>/eval.json")
        model, bench, point = parts[-4], parts[-3], parts[-2]
        d = json.loads(p.read_text())
        stats_path = Path(str(p).replace("/scores/", "/infer/")).with_name("samples.jsonl.stats.json")
        cost = json.loads(stats_path.read_text()) if stats_path.exists() else {}
        out.append(Score(model, bench, point, float(d["pass_at_k"]["pass@1"]), int(d["n_tasks"]), cost, p))
    return out


def summarise(scores: list[Score]) -> tuple[list[str], list[str], dict[tuple[str, str], list[float]]]:
    cells: dict[tuple[str, str], list[float]] = defaultdict(list)
    for s in scores:
        cells[(s.row, s.bench)].append(100.0 * s.pass1)
    rows = sorted({s.row for s in scores})
    benches = [b for b in BENCH_LABELS if any(s.bench == b for s in scores)]
    benches += sorted({s.bench for s in scores} - set(benches))
    return rows, benches, cells


def fmt_cell(vals: list[float]) -> str:
    if not vals:
        return "-"
    if len(vals) == 1:
        return f"{vals[0]:.1f}"
    return f"{statistics.mean(vals):.1f} ± {statistics.stdev(vals):.1f}"


def markdown_table(scores: list[Score]) -> str:
    rows, benches, cells = summarise(scores)
    n_tasks = {s.bench: s.n_tasks for s in scores}
    head = "| method | " + " | ".join(f"{BENCH_LABELS.get(b, b)} (n={n_tasks[b]})" for b in benches) + " |"
    sep = "|---|" + "---|" * len(benches)
    body = [f"| {r} | " + " | ".join(fmt_cell(cells.get((r, b), [])) for b in benches) + " |" for r in rows]
    return "\n".join([head, sep, *body])


def cost_table(scores: list[Score]) -> str:
    keys = ["tokens", "wall_time_s"]
    rows = [s for s in scores if s.cost]
    if not rows:
        return ""
    lines = ["| method | benchmark | tokens | wall time (s) | tokens / task |", "|---|---|---|---|---|"]
    for s in sorted(rows, key=lambda s: (s.row, s.bench)):
        tok, wall = (s.cost.get(k, float("nan")) for k in keys)
        lines.append(f"| {s.row} | {s.bench} | {tok:.0f} | {wall:.1f} | {tok / max(s.n_tasks, 1):.0f} |")
    return "\n".join(lines)


def value_table(pairs_by_model: dict[str, list[tuple[float, bool]]]) -> str:
    """How well each trained model's value of its chosen answer predicts passing: ROC AUC over the
    benchmark tasks (problems no model trained on), with the pass rate for context."""
    from seer.train.metrics import roc_auc

    lines = []
    for model, pairs in sorted(pairs_by_model.items()):
        if not pairs:
            continue
        auc = roc_auc([v for v, _ in pairs], [p for _, p in pairs])
        passed = sum(p for _, p in pairs)
        lines.append(f"| {model} | {len(pairs)} | {passed} | {'-' if auc is None else f'{auc:.3f}'} |")
    if not lines:
        return ""
    return "\n".join(["| model | answers | passed | value AUC |", "|---|---|---|---|", *lines])


def write_report(scores: list[Score], md_path: str | Path, title: str = "Results") -> None:
    md_path = Path(md_path)
    out_dir = md_path.parent
    with atomic_open(out_dir / "results.csv") as f:
        w = csv.writer(f)
        w.writerow(["model", "point", "row", "bench", "pass@1", "n_tasks"])
        for s in sorted(scores, key=lambda s: (s.model, s.point, s.bench)):
            w.writerow([s.model, s.point, s.row, s.bench, f"{s.pass1:.6f}", s.n_tasks])
    fig_dir = out_dir / "figures"
    figures = plot_pass1(scores, fig_dir)
    figures += fg.beam_heatmaps(scores, fig_dir)
    figures += fg.param_curves(scores, fig_dir, "train.beta", "value-loss weight beta")
    figures += fg.param_curves(scores, fig_dir, "train.kl_weight", "stage-2 KL weight")
    pairs_by_model: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for s in scores:
        pairs_by_model[s.model] += fg.calibration_pairs(s.path)
    figures += fg.value_calibration([p for ps in pairs_by_model.values() for p in ps], fig_dir)
    parts: list[Any] = [f"# {title}", "", "pass@1 (%), greedy or as configured per method; "
                        "LiveCodeBench uses public tests only.", "", markdown_table(scores), ""]
    over = fg.overthinking_table({(s.model, s.bench, s.point): s.path for s in scores})
    if over:
        parts += ["## Overthinking", "", over, ""]
    values = value_table(pairs_by_model)
    if values:
        parts += ["## Value model", "", "AUC of the value of each chosen answer for passing its tests "
                  "(answers pooled over benchmarks and sweep points; '-' when all passed or all failed).",
                  "", values, ""]
    cost = cost_table(scores)
    if cost:
        parts += ["## Cost", "", cost, ""]
    parts += [f"![{f.stem}](figures/{f.name})" for f in figures]
    with atomic_open(md_path) as f:
        f.write("\n".join(parts) + "\n")


def plot_pass1(scores: list[Score], fig_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, benches, cells = summarise(scores)
    if not rows:
        return []
    fig_dir.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(benches) * max(1, len(rows)) / 2), 3.5))
    width = 0.8 / len(rows)
    for i, r in enumerate(rows):
        vals = [statistics.mean(cells.get((r, b), [0.0]) or [0.0]) for b in benches]
        ax.bar([j + i * width for j in range(len(benches))], vals, width, label=r)
    ax.set_xticks([j + width * (len(rows) - 1) / 2 for j in range(len(benches))])
    ax.set_xticklabels([BENCH_LABELS.get(b, b) for b in benches])
    ax.set_ylabel("pass@1 (%)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    out = fig_dir / "pass1.png"
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return [out]
