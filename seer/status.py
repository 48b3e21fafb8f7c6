"""`seer status [experiment=E] [overrides="..."] [sweep=S] [--directory DIR]`: the state of a run.

Read-only and lock-free, so it is safe while a run is going, locally or on a cluster (everything
it reads is on the shared filesystem):

- the jobs: Snakemake builds the experiment's DAG in this process from the same Snakefile and
  config as the run (what `snakemake --summary` does: no lock is taken, outputs are only
  stat'ed). A job whose outputs are present and up to date is *done*.
- every other job by its log (each rule's `log:` file, results/<E>/logs/...) and Snakemake's
  `.snakemake/incomplete` markers. A running job writes a `[progress]` line every
  `progress.every_s` seconds (seer/progress.py), so:
  - no log (or the log of a finished earlier run): *waiting* (blocked on inputs or queued);
  - a log whose last `[progress]` line ends in `failed`, or that holds a traceback or the
    CLI's `seer <stage>: error` line: *failed*;
  - a log written to within `stale_after(every_s)` seconds (`STARTUP_S` before its first
    `[progress]` line): *running*;
  - an older log with no end: *failed*, as killed (a job killed with its node, or by SIGKILL,
    writes nothing more; Snakemake's incomplete marker for its output says it never finished).

It prints one table (per rule: done / running / failed / waiting), then each running job's latest
progress line (with its ETA) and each failed job's last log lines.
"""
from __future__ import annotations

import base64
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from seer.progress import TAG, fmt_duration, parse_line

REPO = Path(__file__).resolve().parent.parent
TAIL_LINES = 8
STATES = ("done", "running", "failed", "waiting")
# a job writes its first line once Python, torch and the config are loaded: up to a minute or two
# on a busy node, so a log without any [progress] line yet is given this long
STARTUP_S = 120.0


def stale_after(every_s: float, started: bool = True) -> float:
    """Seconds without a log line after which a job counts as stopped: three missed ticks and some
    slack for a slow shared filesystem (`started`: it has written a progress line)."""
    if every_s <= 0:
        return float("inf")
    return 3 * every_s + 5 if started else max(3 * every_s + 5, STARTUP_S)


@dataclass
class Job:
    rule: str
    outputs: list[str]
    logs: list[str]
    done: bool  # outputs present and up to date (Snakemake would not run it)
    level: int = 0  # depth in the DAG: rules are listed in the order they run


@dataclass
class JobState:
    job: Job
    state: str
    progress: str = ""  # the latest [progress] line (running jobs)
    age_s: float = 0.0  # seconds since the log was written
    note: str = ""
    tail: list[str] = field(default_factory=list)  # last log lines (failed jobs)


def plan(workdir: Path, config: dict[str, str], snakefile: Path = REPO / "Snakefile") -> list[Job]:
    """Every job of the experiment's DAG, built like `snakemake --summary` builds it (no lock)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, Quietness, ResourceSettings

    cwd = os.getcwd()
    try:
        with SnakemakeApi(OutputSettings(quiet={Quietness.ALL}, enable_file_logging=False)) as api:
            wf = api.workflow(resource_settings=ResourceSettings(cores=1),
                              config_settings=ConfigSettings(config=dict(config)),
                              snakefile=snakefile, workdir=workdir)
            # snakemake's own summary path: a DAG over the files, lock only warned about, never taken
            w = wf.dag(DAGSettings()).workflow_api._workflow
            w._prepare_dag(forceall=False, ignore_incomplete=True, lock_warn_only=True)
            w._build_dag()
            dag = w.dag
            level: dict[object, int] = {}
            for group in dag.toposorted():
                for j in group:
                    level[j] = 1 + max((level[d] for d in dag.dependencies[j]), default=-1)
            # a target rule without outputs (`all`) runs nothing
            return [Job(j.rule.name, [str(f) for f in j.output], [str(f) for f in j.log], not dag.needrun(j),
                        level[j]) for j in dag.jobs if j.output]
    finally:
        os.chdir(cwd)  # the API changes into the workdir


def incomplete_outputs(workdir: Path) -> set[str]:
    """Outputs Snakemake marked as being written (`.snakemake/incomplete/<base64 of the path>`)."""
    d = workdir / ".snakemake" / "incomplete"
    out = set()
    if d.is_dir():
        for p in d.rglob("*"):
            if p.is_file():
                parts = [x.lstrip("@") for x in p.relative_to(d).parts]  # long names are split in dirs
                try:
                    out.add(base64.urlsafe_b64decode("".join(parts)).decode())
                except ValueError:
                    continue
    return out


def _read_tail(path: Path, n_bytes: int = 65536) -> list[str]:
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - n_bytes))
        # tqdm bars redraw with \r: the last state of a line is what a reader would see
        return [ln.split("\r")[-1] for ln in f.read().decode("utf-8", "replace").splitlines()]


# how a job ends on an error: a Python traceback, or the CLI's one-line error (seer/cli.py)
_ERROR = re.compile(r"^(Traceback \(most recent call last\)|seer \w+: (error|bad configuration))")


def classify(job: Job, workdir: Path, incomplete: set[str], every_s: float, now: float) -> JobState:
    if job.done:
        return JobState(job, "done")
    logs = [workdir / p for p in job.logs if (workdir / p).is_file()]
    if not logs:
        return JobState(job, "waiting")
    log = logs[0]
    lines = _read_tail(log)
    age = now - log.stat().st_mtime
    progress = [ln for ln in lines if TAG in ln]
    last = progress[-1][progress[-1].index(TAG):] if progress else ""
    # where its progress stood, then the job's own last words (an error comes last)
    tail = ([last] if last else []) + [ln for ln in lines if ln.strip() and TAG not in ln][-TAIL_LINES:]
    parsed = parse_line(last) if last else None
    if (parsed and parsed.body.endswith(", failed")) or any(_ERROR.match(ln) for ln in lines):
        return JobState(job, "failed", last, age, "failed", tail)
    if parsed and parsed.body.endswith(", done"):
        return JobState(job, "waiting", note="outdated: will rerun")
    if age <= stale_after(every_s, started=bool(progress)):
        return JobState(job, "running", last, age)
    marked = any(o in incomplete for o in job.outputs)
    why = "output marked incomplete by Snakemake" if marked else "no output"
    return JobState(job, "failed", last, age, f"killed? no log line for {fmt_duration(age)}, {why}", tail)


def _job_name(job: Job) -> str:
    """A job's short name: its log path under logs/, without the extension."""
    p = job.logs[0] if job.logs else job.outputs[0]
    if "/logs/" in p:
        p = p.split("/logs/", 1)[1]
    return p.rsplit(".", 1)[0] if p.endswith(".log") else p


def render(states: Sequence[JobState], title: str) -> str:
    by_rule: dict[str, Counter[str]] = {}
    order: dict[str, int] = {}
    for s in states:
        by_rule.setdefault(s.job.rule, Counter())[s.state] += 1
        order[s.job.rule] = min(order.get(s.job.rule, s.job.level), s.job.level)
    rules = sorted(by_rule, key=lambda r: (order[r], r))
    w = max([len(r) for r in rules] + [5])
    head = f"{'rule':<{w}}  " + "  ".join(f"{h:>7}" for h in STATES)
    rows = [title, "", head, "-" * len(head)]
    for r in rules:
        rows.append(f"{r:<{w}}  " + "  ".join(f"{by_rule[r][h]:>7}" for h in STATES))
    total = Counter(s.state for s in states)
    rows += ["-" * len(head), f"{'total':<{w}}  " + "  ".join(f"{total[h]:>7}" for h in STATES)]
    running = [s for s in states if s.state == "running"]
    if running:
        rows += ["", "running:"]
        for s in running:
            parsed = parse_line(s.progress) if s.progress else None
            line = parsed.body if parsed else "started, no progress line yet"
            rows.append(f"  {_job_name(s.job)}: {line}  ({fmt_duration(s.age_s)} ago)")
    failed = [s for s in states if s.state == "failed"]
    if failed:
        rows += ["", "failed:"]
        for s in failed:
            rows.append(f"  {_job_name(s.job)} ({s.note}), log {s.job.logs[0] if s.job.logs else '-'}:")
            rows += [f"    | {ln}" for ln in s.tail]
    return "\n".join(rows)


def status(workdir: Path, config: dict[str, str], now: float | None = None) -> tuple[str, list[JobState]]:
    """The status table of the experiment in `config` (Snakemake config keys: experiment,
    overrides, sweep) run in `workdir`, and the state of every job."""
    import shlex

    from seer.config import compose

    now = time.time() if now is None else now  # the state as of the command's start
    exp = config.get("experiment", "quickstart")
    cfg = compose([f"experiment={exp}", *shlex.split(str(config.get("overrides", "")))])
    jobs = plan(workdir, config)
    incomplete = incomplete_outputs(workdir)
    states = [classify(j, workdir, incomplete, float(cfg.progress.every_s), now) for j in jobs]
    where = Path(cfg.results_root) / exp
    if workdir != Path.cwd().resolve():
        where = workdir / where
    title = f"seer status: experiment {exp} ({where}) at {time.strftime('%H:%M:%S', time.localtime(now))}"
    return render(states, title), states


def _parse_args(args: Iterable[str]) -> tuple[Path, dict[str, str]]:
    workdir, config = Path("."), {}
    it = iter(args)
    for a in it:
        if a in ("-d", "--directory"):
            workdir = Path(next(it, "."))
        elif "=" in a and a.split("=", 1)[0] in ("experiment", "overrides", "sweep"):
            k, v = a.split("=", 1)
            config[k] = v
        else:
            raise ValueError(f"seer status: unknown argument {a!r}; usage: seer status [experiment=E] "
                             "[overrides='k=v ...'] [sweep=S] [--directory DIR]")
    return workdir.resolve(), config


def main(args: Sequence[str]) -> int:
    try:
        workdir, config = _parse_args(args)
        table, states = status(workdir, config)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    print(table)
    return 1 if any(s.state == "failed" for s in states) else 0
