"""Expected GPU-hours of an experiment on A100 80 GB GPUs: docs/cluster.md's table, generated.

Each heavy stage's work (tokens generated or trained) follows from the composed config (seed
problems, explore.iterations x n_children, shards, perturbation and refinement settings, epochs /
max_steps, benchmarks and their sizes, beam sizes, sweep points) and a few constants; a job's hours
are its tokens over one job's tokens per second, times its GPUs. Every constant is either measured
in a run directory (`--runs`) or one of the `ASSUMPTIONS` below, and each row's basis says which.

Which run may give which constant:
- work-shape constants (tokens per step, the share of a tree's step budget it uses, path shares,
  paths and tokens per training path, tokens per answer) come from any run of the experiment's
  `explore.method`: they describe the method's work whatever hardware did it (a quickstart's are
  those of its small model and budgets, and the basis names the run);
- throughputs (tokens/s of one job: generated tokens over the job's Snakemake benchmark wall time,
  trained tokens/s of the fit loop from metrics.json) come only from a run of the experiment's model
  and backend on CUDA (`backend.device=cuda*` in the run's resolved config, as the paper experiments
  set): a CPU run's rates say nothing about an A100. Runs on another GPU model than the table's
  should not be passed.
The first run given that measures a constant provides it.

    python -m seer.eval.gpu_hours experiment=paper_dsc [overrides ...] [--runs results/paper_dsc ...]
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from seer.eval.costs import JobCost, collect, tree_stats

METHODS = ("seer",)  # explore.method values whose stages the table models


@dataclass(frozen=True)
class Assumption:
    value: float
    unit: str  # what the value counts, short: a basis reads "<value> <unit>"
    why: str
    percent: bool = False


A100_VLLM = 2000.0  # generated tokens/s of one vLLM job; the reason is the generate_rate entry's
ASSUMPTIONS: dict[str, Assumption] = {
    # the shape of the work
    "step_tokens": Assumption(
        100, "tokens/step", "tokens per exploration step. With the Qwen2.5-Coder tokenizer the few-shot "
        "examples' plan steps average 48 tokens and their code steps 71, MBPP reference solutions 58; 7B "
        "models sampling at temperature 1.0 write longer steps, and Self-OSS solutions are longer than MBPP's."),
    "budget_used": Assumption(
        1.0, "of the step budget", "share of a tree's iterations x n_children steps it generates: an upper "
        "bound (a tree whose selection meets a node with only terminal children stops early). Prompts are "
        "mostly prefix-cached (siblings share a prompt, a tree's prompt grows by one step per iteration), "
        "so decoding dominates.", percent=True),
    "share_all_correct": Assumption(
        0.29, "all-correct problems", "problems whose paths all pass, which perturbation turns into "
        "negatives (docs/method.md's path statistics).", percent=True),
    "share_all_fail": Assumption(
        0.12, "all-incorrect problems", "problems whose paths all fail, which refinement repairs "
        "(docs/method.md's path statistics).", percent=True),
    "rollout_steps": Assumption(
        3, "steps/rollout", "steps of one perturbation rollout (explore.perturb.mode=rollouts): the rest "
        "of a cut path, a plan step or two and the code."),
    "refine_tokens": Assumption(
        400, "tokens/refinement", "one refinement: the first wrong step's number and the path rewritten "
        "from it, a few plan steps and the code."),
    "stage1_paths": Assumption(
        5, "stage-1 paths/problem", "trained stage-1 paths per seed problem: at most max_correct_paths + "
        "max_incorrect_paths (8) per tree plus perturbed or refined ones, and many trees keep fewer."),
    "stage1_path_tokens": Assumption(
        600, "tokens/stage-1 path", "the question, its plan steps and the code in the chat template."),
    "direct_tokens": Assumption(
        150, "tokens/direct sample", "one stage-2 direct answer: a code step, longer than MBPP's "
        "58-token reference solutions."),
    "stage2_paths": Assumption(
        2.5, "stage-2 paths/problem", "trained stage-2 paths per seed problem: the direct answers "
        "balanced to as many correct as incorrect (twice the rarer class), plus as many stage-1 paths; 2.5 "
        "means the rarer class is 1 in 8 of the 5 answers per problem, a guess until a run measures it."),
    "stage2_path_tokens": Assumption(
        600, "tokens/stage-2 path", "as stage 1's, an upper bound (direct answers are shorter)."),
    "direct_answer_tokens": Assumption(200, "tokens/direct answer", "one direct baseline answer: the code."),
    "cot_answer_tokens": Assumption(400, "tokens/CoT answer", "one chain-of-thought baseline answer: a "
                                    "plan, then the code."),
    "beam_slot_tokens": Assumption(
        330, "tokens/task per beam slot", "generated tokens per benchmark task per b1 x b2 slot of "
        "adaptive inference: ~3.3 rounds of candidates (the first steps, a plan round or two, the code "
        "round; fewer as answers arrive) x ~100 tokens."),
    # throughput of one job
    "generate_rate": Assumption(
        A100_VLLM, "generated tokens/s", "one vLLM job, a 7B model in bf16 on one A100 80 GB with hundreds "
        "of concurrent sequences (64 trees x 5 children per generate call). vLLM's offline throughput "
        "for 7B models on an A100 is a few thousand output tokens/s; the low end, because each MCTS "
        "round waits for its longest sample and for the sandbox."),
    "train_rate": Assumption(
        2000, "trained tokens/s", "LoRA training of a 7B model, bf16, gradient checkpointing: ~8 x 7e9 "
        "FLOPs per token at ~40% of the A100's 312 TFLOP/s."),
    "stage2_rate": Assumption(
        2000 / 1.3, "stage-2 trained tokens/s", "stage 1's 2,000 over 1.3 for the frozen stage-1 "
        "reference's forward that the KL term needs."),
    "infer_rate": Assumption(A100_VLLM, "baseline tokens/s", "direct and CoT answers: one vLLM job, as "
                             "for exploration."),
    "beam_rate": Assumption(
        A100_VLLM / 1.5, "beam tokens/s", "vLLM's 2,000 over 1.5: every round also scores its candidates "
        "with the value head (vLLM's pooling engine on the same GPU)."),
}
RATES = ("generate_rate", "train_rate", "stage2_rate", "infer_rate", "beam_rate")


def _num(value: float, percent: bool = False) -> str:
    if percent:
        return f"{value:.0%}"
    if value >= 10:
        return f"{value:,.0f}"
    return f"{value:.2g}"


def _sci(value: float) -> str:
    """3.0e8 (docs/cluster.md's notation)."""
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _hours(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:#.2g}"


@dataclass(frozen=True)
class Constant:
    name: str
    value: float
    run: str = ""  # the run directory that measured it; "" = the assumption

    @property
    def label(self) -> str:
        a = ASSUMPTIONS[self.name]
        return f"{_num(self.value, a.percent)} {a.unit}"


# ---- measuring a run ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    path: str
    experiment: str
    method: str  # explore.method
    rate_key: tuple[str, str] | None  # (backend, model) when its jobs ran on CUDA; None on a CPU
    values: dict[str, float]
    seed_problems: int | None


def _load_config(res: Path) -> DictConfig:
    path = res / "data" / "seed.jsonl.config.yaml"
    if not path.is_file():
        raise ValueError(f"{res}: no data/seed.jsonl.config.yaml (the resolved config of its seed job); "
                         "expected a run directory <results_root>/<experiment>")
    cfg = OmegaConf.load(path)
    if not isinstance(cfg, DictConfig) or "explore" not in cfg or "backend" not in cfg:
        raise ValueError(f"{path}: not a resolved seer config (no explore / backend sections)")
    return cfg


def _lines(path: Path) -> int:
    with open(path) as f:
        return sum(1 for line in f if line.strip())


def _explore_shape(res: Path, rc: DictConfig, out: dict[str, float]) -> None:
    """Tokens per step and the step budget used, from the finished trees; path shares, from stats.json."""
    trees = [s for p in sorted((res / "explore" / "trees").glob("shard-*.jsonl.gz")) for s in tree_stats(p)]
    steps = sum(max(int(s.get("nodes", 1)) - 1, 0) for s in trees)  # the root holds no generated step
    if steps:
        out["step_tokens"] = sum(float(s.get("tokens", 0)) for s in trees) / steps
        out["budget_used"] = steps / (len(trees) * int(rc.explore.iterations) * int(rc.explore.n_children))
    stats = res / "explore" / "stats.json"
    if stats.is_file():
        share = json.loads(stats.read_text())["share"]
        out["share_all_correct"] = float(share["only_correct"])
        out["share_all_fail"] = float(share["only_incorrect"]) + float(share["none"])


def _training(res: Path, rc: DictConfig, out: dict[str, float], on_cuda: bool) -> None:
    """Trained paths per explored problem and tokens per path, from the default models' metrics.json;
    on CUDA also the trained tokens/s of the fit loop (a longer run amortises loading the model, which
    the job's wall time would charge to every token)."""
    stats = res / "explore" / "stats.json"
    problems = json.loads(stats.read_text())["problems"] if stats.is_file() else 0
    for stage in (1, 2):
        path = res / "models" / f"stage{stage}" / "metrics.json"
        if not path.is_file():
            continue
        m = json.loads(path.read_text())
        # the last step of an epoch may be short: never more sequences than the epochs hold
        batch = m.get("effective_batch", int(rc.train.batch_size) * int(rc.train.grad_accum))
        seqs = min(m["steps"] * batch, m["n_train"] * float(rc.train.epochs))
        if seqs > 0:
            out[f"stage{stage}_path_tokens"] = m["tokens"] / seqs
        if problems:
            out[f"stage{stage}_paths"] = m["n_train"] / problems
        if on_cuda and m.get("tokens_per_s"):
            out["train_rate" if stage == 1 else "stage2_rate"] = float(m["tokens_per_s"])


def _infer_shape(res: Path, rc: DictConfig, out: dict[str, float]) -> None:
    """Generated tokens per task of the baselines and, per b1 x b2 slot, of adaptive inference."""
    def per_task(dirs: list[Path]) -> float | None:
        tokens = tasks = 0
        for d in dirs:
            stats, samples = d / "samples.jsonl.stats.json", d / "samples.jsonl"
            if stats.is_file() and samples.is_file():
                st = json.loads(stats.read_text())
                tokens += int(st["tokens"])
                tasks += int(st.get("n_tasks") or _lines(samples))
        return tokens / tasks if tasks else None

    infer = res / "infer"
    for name, dirs, slots in (("direct_answer_tokens", infer.glob("base/*/direct"), 1),
                              ("cot_answer_tokens", infer.glob("base/*/cot"), 1),
                              ("beam_slot_tokens", infer.glob("stage[12]/*/default"),
                               int(rc.infer.b1) * int(rc.infer.b2))):
        value = per_task(sorted(dirs))
        if value is not None:
            out[name] = value / slots


_RATE_JOBS: dict[str, Callable[[JobCost], bool]] = {
    "generate_rate": lambda c: c.rule == "explore",
    "infer_rate": lambda c: c.rule == "infer" and c.job.startswith("base/"),
    "beam_rate": lambda c: c.rule == "infer" and re.fullmatch(r"stage[12]/[^/]+/default", c.job) is not None,
}


def _rates(costs: list[JobCost], out: dict[str, float]) -> None:
    """Generated tokens per second of one job of each kind (Snakemake's wall time: loading included)."""
    for name, pick in _RATE_JOBS.items():
        jobs = [c for c in costs if pick(c) and c.tokens and c.seconds > 0]
        if jobs:
            out[name] = sum(c.tokens or 0 for c in jobs) / sum(c.seconds for c in jobs)


def measure(run: str | Path) -> Run:
    """The constants a run directory (`<results_root>/<experiment>`) measured so far."""
    res = Path(run)
    rc = _load_config(res)
    values: dict[str, float] = {}
    on_cuda = str(rc.backend.device).startswith("cuda")
    _explore_shape(res, rc, values)
    _training(res, rc, values, on_cuda)
    _infer_shape(res, rc, values)
    if on_cuda:
        _rates(collect(res), values)
    seed = res / "data" / "seed.jsonl"
    return Run(str(run), str(rc.experiment), str(rc.explore.method),
               (str(rc.backend.name), str(rc.model.name)) if on_cuda else None, values,
               _lines(seed) if seed.is_file() else None)


def constants(cfg: DictConfig, runs: Sequence[Run]) -> dict[str, Constant]:
    """Every constant: from the first run allowed to give it (module docstring), else the assumption."""
    out = {}
    for name, a in ASSUMPTIONS.items():
        ok = [r for r in runs if name in r.values and (
            r.rate_key == (str(cfg.backend.name), str(cfg.model.name)) if name in RATES
            else r.method == str(cfg.explore.method))]
        out[name] = Constant(name, ok[0].values[name], ok[0].path) if ok else Constant(name, a.value)
    return out


# ---- the table ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    stage: str
    jobs: int
    gpus: int  # per job
    work: str
    tokens: float
    kind: str  # generated | trained
    uses: tuple[Constant, ...]  # the rate last

    @property
    def job_hours(self) -> float:
        """Wall hours of all its jobs together."""
        return self.tokens / self.uses[-1].value / 3600

    @property
    def gpu_hours(self) -> float:
        return self.job_hours * self.gpus

    @property
    def basis(self) -> str:
        measured: dict[str, list[str]] = {}
        for c in self.uses:
            if c.run:
                measured.setdefault(c.run, []).append(c.label)
        parts = [f"measured ({run}: {', '.join(labels)})" for run, labels in measured.items()]
        estimates = [c.label for c in self.uses if not c.run]
        return "; ".join(parts + ([f"estimate ({', '.join(estimates)})"] if estimates else []))


def _gpus(cfg: DictConfig, stage: str) -> int:
    """GPUs per job of a stage as the cluster config declares them for a CUDA run (a CPU experiment's
    table still answers what its jobs would take on GPUs)."""
    from seer.cluster import stage_resources

    on_gpu = copy.deepcopy(cfg)
    on_gpu.backend.device = "cuda"
    return int(stage_resources(on_gpu, stage, environ={})["gpu"])


def _seed_problems(cfg: DictConfig, runs: Sequence[Run]) -> tuple[int, str]:
    """Seed problems and where the count comes from: a run of this experiment, else data.limit."""
    for r in runs:
        if r.experiment == str(cfg.experiment) and r.seed_problems is not None:
            return r.seed_problems, f"{r.path}/data/seed.jsonl"
    if int(cfg.data.limit) > 0:
        return int(cfg.data.limit), "data.limit, before decontamination"
    raise ValueError(f"experiment {cfg.experiment}: data.limit=0 (every {cfg.data.source} problem) and no run of "
                     f"it given, so the number of seed problems is unknown: pass --runs "
                     f"<results_root>/{cfg.experiment} once its seed_data job ran")


def _bench_sizes(cfg: DictConfig) -> dict[str, int]:
    from seer.data.benchmarks import load_benchmark

    return {name: len(load_benchmark(name, cfg.bench)) for name in cfg.bench.names}


def _check_method(cfg: DictConfig) -> None:
    if cfg.explore.method not in METHODS:
        raise ValueError(f"explore.method={cfg.explore.method}: the GPU-hours table models "
                         f"{', '.join(METHODS)} only")


def rows(cfg: DictConfig, runs: Sequence[Run], bench_sizes: dict[str, int], problems: int) -> list[Row]:
    """The heavy stages of a SEER experiment, in DAG order."""
    from seer.sweep import expand

    _check_method(cfg)
    k = constants(cfg, runs)
    ex, tr, inf = cfg.explore, cfg.train, cfg.infer
    points = expand(cfg.sweep.params)
    steps = int(ex.iterations) * int(ex.n_children) * k["budget_used"].value
    tree = f"{_num(steps)} steps x {_num(k['step_tokens'].value)} tokens"
    tree_tokens = steps * k["step_tokens"].value
    out = [Row("explore", int(ex.shards), _gpus(cfg, "explore"), f"{problems:,} problems x {tree}",
               problems * tree_tokens, "generated", (k["budget_used"], k["step_tokens"], k["generate_rate"]))]
    if ex.perturb.enabled:
        n = problems * k["share_all_correct"].value
        if ex.perturb.mode == "mcts":  # a whole SEER tree from each perturbed prefix
            out.append(Row("perturb", 1, _gpus(cfg, "perturb"), f"{n:,.0f} problems x a tree of {tree}",
                           n * tree_tokens, "generated",
                           (k["share_all_correct"], k["budget_used"], k["step_tokens"], k["generate_rate"])))
        else:
            rollout = k["rollout_steps"].value * k["step_tokens"].value
            out.append(Row("perturb", 1, _gpus(cfg, "perturb"),
                           f"{n:,.0f} problems x {ex.perturb.n_samples} rollouts x {_num(k['rollout_steps'].value)} "
                           f"steps x {_num(k['step_tokens'].value)} tokens", n * int(ex.perturb.n_samples) * rollout,
                           "generated", (k["share_all_correct"], k["rollout_steps"], k["step_tokens"],
                                         k["generate_rate"])))
    if ex.refine.enabled:
        n = problems * k["share_all_fail"].value
        per = int(ex.refine.paths_per_problem)
        out.append(Row("refine", 1, _gpus(cfg, "refine"), f"{n:,.0f} problems x {per} rewrite"
                       f"{'s' if per > 1 else ''} x {_num(k['refine_tokens'].value)} tokens",
                       n * per * k["refine_tokens"].value, "generated",
                       (k["share_all_fail"], k["refine_tokens"], k["generate_rate"])))

    def training(stage: int, jobs: int, rate: Constant) -> Row:
        paths, tokens = k[f"stage{stage}_paths"], k[f"stage{stage}_path_tokens"]
        n = problems * paths.value
        seqs = n * float(tr.epochs)
        if int(tr.max_steps) > 0:
            seqs = min(seqs, int(tr.max_steps) * int(tr.batch_size) * int(tr.grad_accum))
        return Row(f"train_stage{stage}", jobs, _gpus(cfg, "train"),
                   f"{n:,.0f} paths x {_num(tokens.value)} tokens x {_num(seqs / n if n else 0)} epochs",
                   seqs * tokens.value * jobs, "trained", (paths, tokens, rate))

    out.append(training(1, len({p.stage1 for p in points}), k["train_rate"]))
    n_direct = len({p.direct for p in points})
    out.append(Row("direct_samples", n_direct, _gpus(cfg, "direct_samples"),
                   f"{problems:,} problems x {tr.direct_n} samples x {_num(k['direct_tokens'].value)} tokens",
                   problems * int(tr.direct_n) * k["direct_tokens"].value * n_direct, "generated",
                   (k["direct_tokens"], k["generate_rate"])))
    out.append(training(2, len({p.train for p in points}), k["stage2_rate"]))

    tasks = sum(bench_sizes.values())
    direct, cot = k["direct_answer_tokens"], k["cot_answer_tokens"]
    out.append(Row("infer (baselines)", 2, _gpus(cfg, "infer"),  # one job per method, every benchmark
                   f"{tasks:,} tasks x (direct {_num(direct.value)} + CoT {_num(cot.value)} tokens)",
                   tasks * (direct.value + cot.value), "generated", (direct, cot, k["infer_rate"])))
    slots = [int(p.value("infer.b1") or inf.b1) * int(p.value("infer.b2") or inf.b2)
             for p in points for _ in cfg.sweep.models]
    beam = f"B1={inf.b1} x B2={inf.b2}" if len(set(slots)) == 1 else "mean of the sweep's B1 x B2"
    models = (f"{len(slots)} model{'s' if len(slots) > 1 else ''}" if len(points) == 1
              else f"{len(slots)} (model, sweep point) pairs")
    out.append(Row(f"infer (SEER beam: {', '.join(cfg.sweep.models)})", len(slots) * len(bench_sizes),
                   _gpus(cfg, "infer"), f"{models} x {tasks:,} tasks x {_num(sum(slots) / len(slots))} slots "
                   f"({beam}) x {_num(k['beam_slot_tokens'].value)} tokens",
                   tasks * sum(slots) * k["beam_slot_tokens"].value, "generated",
                   (k["beam_slot_tokens"], k["beam_rate"])))
    return out


def markdown(cfg: DictConfig, runs: Sequence[Run] = ()) -> str:
    """The assumptions a table uses, the table and its longest chain of jobs, as markdown."""
    _check_method(cfg)
    problems, problems_from = _seed_problems(cfg, runs)
    sizes = _bench_sizes(cfg)
    table = rows(cfg, runs, sizes, problems)
    used = {c.name for r in table for c in r.uses if not c.run}
    lines = [f"Seed problems: {problems:,} ({problems_from}). Benchmark tasks: "
             + " + ".join(f"{b} {n:,}" for b, n in sizes.items()) + f" = {sum(sizes.values()):,}.", ""]
    if used:
        lines += ["Assumptions (`ASSUMPTIONS` in seer/eval/gpu_hours.py), used where no run gives the constant:", ""]
        lines += [f"- **{Constant(n, a.value).label}**: {a.why}" for n, a in ASSUMPTIONS.items() if n in used]
        lines.append("")
    lines += ["| stage | jobs | work | tokens | GPU-h | basis |", "|---|---|---|---|---|---|"]
    for r in table:
        jobs = f"{r.jobs} x {r.gpus} GPU" if r.jobs > 1 else f"{r.gpus} GPU"
        hours = _hours(r.gpu_hours) + (f" ({_hours(r.gpu_hours / r.jobs)} per job)" if r.jobs > 1 else "")
        lines.append(f"| {r.stage} | {jobs} | {r.work} | {_sci(r.tokens)} {r.kind} | {hours} | {r.basis} |")
    total = sum(r.gpu_hours for r in table)
    basis = "measured" if all(c.run for r in table for c in r.uses) else "estimate"
    lines += ["| bench_data, seed_data, paths, stage1_data, score, report | CPU | | | 0 (a few CPU-hours) | - |",
              f"| **total** | | | | **~{_hours(total)} GPU-h per model** | {basis} |", ""]
    by = {r.stage.split(" ")[0]: r for r in table}
    chain = [(s, by[s].job_hours / by[s].jobs) for s in ("explore", "perturb", "train_stage1", "direct_samples",
                                                          "train_stage2") if s in by]
    chain.append(("one inference job", max(r.job_hours / r.jobs for r in table if r.stage.startswith("infer"))))
    lines.append("Longest chain, every job on its own GPUs (refine runs beside perturb, inference jobs side by "
                 "side): " + " + ".join(f"{s} {_hours(h)} h" for s, h in chain)
                 + f" = {_hours(sum(h for _, h in chain))} h of wall time.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from seer.config import ConfigError, compose

    ap = argparse.ArgumentParser(prog="python -m seer.eval.gpu_hours", description=__doc__.split("\n")[0])
    ap.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. experiment=paper_dsc")
    ap.add_argument("--runs", nargs="+", default=[], help="run directories <results_root>/<experiment>")
    args = ap.parse_args(argv)
    try:
        print(markdown(compose(args.overrides), [measure(r) for r in args.runs]))
    except (ConfigError, ValueError) as e:
        print(f"gpu_hours: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
