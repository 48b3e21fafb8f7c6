"""Report figures and analysis tables beyond the main results table (issue: adaptive inference).

All functions take the loaded `Score` list (and per-task results) and return the files/markdown
they produced, or nothing when the scores hold no such sweep — a report always renders.
"""
from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from seer.eval.results import BENCH_LABELS, Score
from seer.sweep import parse_point_name


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _overrides(s: Score) -> dict[str, str]:
    """Model-side (train point after '@') and inference-side overrides of a score."""
    out: dict[str, str] = {}
    if "@" in s.model:
        out.update(o.split("=", 1) for o in parse_point_name(s.model.split("@", 1)[1]))  # type: ignore[misc]
    if "=" in s.point:
        out.update(o.split("=", 1) for o in parse_point_name(s.point))  # type: ignore[misc]
    return out


def beam_heatmaps(scores: list[Score], fig_dir: Path) -> list[Path]:
    """pass@1 over the B1 x B2 grid, one heat map per (model, benchmark)."""
    grids: dict[tuple[str, str], dict[tuple[int, int], list[float]]] = defaultdict(lambda: defaultdict(list))
    for s in scores:
        o = _overrides(s)
        if "infer.b1" in o and "infer.b2" in o:
            grids[(s.model.split("@")[0], s.bench)][(int(o["infer.b1"]), int(o["infer.b2"]))].append(100 * s.pass1)
    out = []
    plt = _plt()
    for (model, bench), grid in sorted(grids.items()):
        b1s = sorted({k[0] for k in grid})
        b2s = sorted({k[1] for k in grid})
        data = [[statistics.mean(grid[(a, b)]) if (a, b) in grid else float("nan") for b in b2s] for a in b1s]
        fig, ax = plt.subplots(figsize=(1 + 0.9 * len(b2s), 1 + 0.7 * len(b1s)))
        im = ax.imshow(data, cmap="viridis", origin="lower", aspect="auto")
        ax.set_xticks(range(len(b2s)), labels=[str(b) for b in b2s])
        ax.set_yticks(range(len(b1s)), labels=[str(a) for a in b1s])
        ax.set_xlabel("B2 (samples per kept node)")
        ax.set_ylabel("B1 (beam width)")
        for i, row in enumerate(data):
            for j, v in enumerate(row):
                if v == v:
                    ax.text(j, i, f"{v:.0f}", ha="center", va="center", color="w", fontsize=8)
        ax.set_title(f"{model} {BENCH_LABELS.get(bench, bench)} pass@1 (%)", fontsize=9)
        fig.colorbar(im, ax=ax)
        fig.tight_layout()
        f = fig_dir / f"heatmap_b1_b2_{model}_{bench}.png"
        fig.savefig(f, dpi=120)
        plt.close(fig)
        out.append(f)
    return out


def param_curves(scores: list[Score], fig_dir: Path, key: str, label: str) -> list[Path]:
    """pass@1 against one swept training key (beta, KL weight), a line per benchmark."""
    curves: dict[str, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for s in scores:
        o = _overrides(s)
        if key in o:
            curves[s.bench][float(o[key])].append(100 * s.pass1)
    if not curves:
        return []
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    for bench, pts in sorted(curves.items()):
        xs = sorted(pts)
        ax.plot(xs, [statistics.mean(pts[x]) for x in xs], marker="o", label=BENCH_LABELS.get(bench, bench))
    ax.set_xlabel(label)
    ax.set_ylabel("pass@1 (%)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    f = fig_dir / f"pass1_vs_{key.split('.')[-1]}.png"
    fig.savefig(f, dpi=120)
    plt.close(fig)
    return [f]


def _solved(score_path: Path) -> dict[str, bool]:
    d = json.loads(score_path.read_text())
    return {t: r["correct"] > 0 for t, r in d["tasks"].items()}


def overthinking_table(paths: dict[tuple[str, str, str], Path], adaptive_model: str = "stage2") -> str:
    """Tasks the direct baseline solved that CoT lost, and how many adaptive inference kept."""
    lines = []
    for bench in sorted({b for _, b, _ in paths}):
        direct = paths.get(("base", bench, "direct"))
        cot = paths.get(("base", bench, "cot"))
        if not (direct and cot):
            continue
        d, c = _solved(direct), _solved(cot)
        lost = sorted(t for t in d if d[t] and not c.get(t, False))
        gained = sorted(t for t in c if c[t] and not d.get(t, False))
        adaptive = paths.get((adaptive_model, bench, "default"))
        kept = "-"
        if adaptive:
            a = _solved(adaptive)
            kept = f"{sum(a.get(t, False) for t in lost)} / {len(lost)}"
        n_direct = sum(d.values())
        lines.append(f"| {BENCH_LABELS.get(bench, bench)} | {n_direct} | {len(lost)} "
                     f"({100 * len(lost) / max(n_direct, 1):.1f}%) | {len(gained)} | {kept} |")
    if not lines:
        return ""
    head = ["| benchmark | solved by direct | lost by CoT (share) | gained by CoT | lost ones kept by adaptive |",
            "|---|---|---|---|---|"]
    return "\n".join(head + lines)


def value_calibration(pairs: list[tuple[float, bool]], fig_dir: Path, bins: int = 5) -> list[Path]:
    """Reliability plot: the value of the chosen answer against its empirical pass rate."""
    if len(pairs) < 2:
        return []
    edges = [-1 + 2 * i / bins for i in range(bins + 1)]
    xs, ys, ns = [], [], []
    for lo, hi in zip(edges, edges[1:]):
        inb = [p for v, p in pairs if lo <= v < hi or (hi == 1 and v == 1)]
        if inb:
            xs.append((lo + hi) / 2)
            ys.append(2 * sum(inb) / len(inb) - 1)  # pass rate mapped to the value scale [-1, 1]
            ns.append(len(inb))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(3.8, 3.5))
    ax.plot([-1, 1], [-1, 1], ls="--", c="gray", lw=1)
    ax.scatter(xs, ys, s=[20 + 4 * n for n in ns])
    ax.set_xlabel("predicted value of the chosen answer")
    ax.set_ylabel("2 * pass rate - 1")
    ax.set_title("value calibration", fontsize=9)
    fig.tight_layout()
    f = fig_dir / "value_calibration.png"
    fig.savefig(f, dpi=120)
    plt.close(fig)
    return [f]


def calibration_pairs(score_path: Path) -> list[tuple[float, bool]]:
    """(value, passed) of every beam-search sample beside an eval.json."""
    samples = Path(str(score_path).replace("/scores/", "/infer/")).with_name("samples.jsonl")
    if not samples.exists():
        return []
    solved = _solved(score_path)
    out = []
    for line in samples.read_text().splitlines():
        r = json.loads(line)
        v = (r.get("trace") or {}).get("value")
        if v is not None:
            out.append((float(v), solved.get(r["task_id"], False)))
    return out
