"""Progress of a long job, in its log at a steady cadence and as a tqdm bar on a terminal.

Under Snakemake or SLURM a job's stderr is a file, where tqdm switches its bars off; so besides
the bar (terminal only, as before), a job writes one line every ``progress.every_s`` seconds from
a background thread, whatever the loop is doing (a long generate call, loading a model):

    [progress] explore shard-0: 3/8 trees, 2 rounds, 41.2 tok/s, elapsed 2m10s, eta 5m40s

``seer status`` reads the last of these lines from each running job's log (`parse_line`).

The pieces:
- ``job(label, every_s)`` (the CLI opens it around every stage): the ticker thread, the final
  line, and quiet third-party logging when stderr is not a terminal.
- ``task(unit, total, ...)``: a counted loop (trees, steps, sequences). Tasks nest; the line shows
  the outermost with its ETA and the innermost after a ``|``. Its ``advance``/``update_to`` also
  move the tqdm bar.
- ``partial(items)``: work done on unfinished items, so the ETA needs no finished item.
- ``add(**counts)`` / ``gauge(**values)``: counters summed over the job (``tokens`` gives tok/s,
  ``rounds`` the round count) and current values (``open`` trees), reported from deep in a loop
  without passing an object around; no-ops outside a job, so library code and tests need no job.
- ``track(tracker)``: every call of ``add(rounds=...)`` also logs the counters to wandb.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterator

log = logging.getLogger("seer.progress")

TAG = "[progress]"


def fmt_duration(seconds: float) -> str:
    """``75`` -> ``1m15s``; ``3725`` -> ``1h2m``; short and sortable by eye."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.4g}"


@dataclass
class Task:
    """A counted loop: ``done`` of ``total`` ``unit``; ``initial`` were done before this run (resumed)."""

    unit: str
    total: int | None
    desc: str = ""
    done: float = 0
    initial: float = 0
    partial: float = 0  # share of the unfinished items already worked through (ETA only)
    t0: float = field(default_factory=time.time)
    bar: Any = None

    def advance(self, n: float = 1) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)

    def update_to(self, done: float) -> None:
        self.advance(done - self.done)

    def postfix(self, **values: Any) -> None:
        """Extra values on the terminal bar (the log line shows the job's counters instead)."""
        if self.bar is not None:
            self.bar.set_postfix(values, refresh=False)

    def eta(self, now: float) -> float | None:
        """Seconds left at this run's rate; None before any work of this run is counted."""
        new = self.done - self.initial + self.partial
        if self.total is None or new <= 0:
            return None
        return max(0.0, (self.total - self.done - self.partial) * (now - self.t0) / new)

    def counts(self) -> str:
        name = f"{self.desc} " if self.desc else ""
        tot = f"/{self.total}" if self.total is not None else ""
        return f"{name}{_num(self.done)}{tot} {self.unit}"


class _Job:
    def __init__(self, label: str, every_s: float, bars: bool) -> None:
        self.label, self.every_s, self.bars = label, every_s, bars
        self.t0 = time.time()
        self.tasks: list[Task] = []
        self.counters: dict[str, float] = {}
        self.gauges: dict[str, float] = {}
        self.tracker: Any = None
        self.last: Task | None = None  # the main task once it closed: the final line's counts
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def line(self, final: str = "") -> str:
        now = time.time()
        with self.lock:
            tasks, counters, gauges = list(self.tasks), dict(self.counters), dict(self.gauges)
        parts: list[str] = []
        main = tasks[0] if tasks else (self.last if final else None)
        if main is not None:
            parts.append(main.counts())
        elif not final:
            parts.append("running")
        parts += [f"{_num(v)} {k}" for k, v in counters.items() if k != "tokens"]
        parts += [f"{k}={_num(v)}" for k, v in gauges.items()]
        start = main.t0 if main is not None else self.t0
        if counters.get("tokens"):
            parts.append(f"{counters['tokens'] / max(now - start, 1e-9):.1f} tok/s")
        elif main is not None and main.done > main.initial:
            parts.append(f"{(main.done - main.initial) / max(now - start, 1e-9):.2f} {main.unit}/s")
        parts.append(f"elapsed {fmt_duration(now - self.t0)}")
        if final:
            parts.append(final)
        elif main is not None:
            eta = main.eta(now)
            parts.append(f"eta {fmt_duration(eta) if eta is not None else '?'}")
        text = f"{TAG} {self.label}: " + ", ".join(parts)
        if len(tasks) > 1:
            inner = tasks[-1]
            eta = inner.eta(now)
            text += f" | {inner.counts()}" + (f", eta {fmt_duration(eta)}" if eta is not None else "")
        return text

    def tick(self) -> None:
        while not self.stop.wait(self.every_s):
            log.info(self.line())


_JOB: _Job | None = None


def _quiet_third_party() -> None:
    """Job logs hold what matters: no weight-loading bars, no known deprecation chatter."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # deprecations say nothing about the run (a library warns from its callers' frames too)
    for cat in (FutureWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=cat)
    for mod in ("transformers", "torch", "peft", "huggingface_hub", "accelerate"):
        warnings.filterwarnings("ignore", category=UserWarning, module=rf"{mod}(\.|$)")
    for name in ("transformers", "peft", "accelerate", "huggingface_hub", "datasets", "httpx", "filelock"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with contextlib.suppress(ImportError):
        import transformers.utils.logging as tl  # its own handler and bar switch

        tl.set_verbosity_error()
        tl.disable_progress_bar()


@contextlib.contextmanager
def job(label: str, every_s: float, bars: bool = True, quiet: bool = False) -> Iterator[None]:
    """A job's progress reporting: a line every ``every_s`` seconds (0 = none but the final one),
    tqdm bars when ``bars`` and stderr is a terminal; ``quiet``: no third-party deprecation
    warnings, info logs or loading bars when stderr is not a terminal (for the whole process)."""
    global _JOB
    tty = sys.stderr.isatty()
    if quiet and not tty:
        _quiet_third_party()
    j = _Job(label, float(every_s), bars and tty)
    _JOB = j
    if j.every_s > 0:
        j.thread = threading.Thread(target=j.tick, name="seer-progress", daemon=True)
        j.thread.start()
    redirect: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    if j.bars:
        from tqdm.contrib.logging import logging_redirect_tqdm

        redirect = logging_redirect_tqdm()  # log lines above the bars, not through them
    try:
        with redirect:
            yield
    except BaseException:
        j.stop.set()
        log.info(j.line(final="failed"))
        raise
    else:
        j.stop.set()
        log.info(j.line(final="done"))
    finally:
        _JOB = None


@contextlib.contextmanager
def task(unit: str, total: int | None, desc: str = "", initial: int = 0, bar: bool = True) -> Iterator[Task]:
    """A counted loop of the current job (works without one: a bare tqdm bar, or nothing).

    ``bar=False`` keeps it out of the terminal (a caller's own switch, e.g. backend.progress)."""
    t = Task(unit=unit, total=total, desc=desc, done=initial, initial=initial)
    j = _JOB
    show = bar and (j.bars if j is not None else sys.stderr.isatty())
    if show:
        from tqdm.auto import tqdm

        # only a job's main bar stays on screen when done
        t.bar = tqdm(total=total, initial=initial, desc=desc or unit, unit=unit, leave=j is not None and not j.tasks)
    try:
        if j is not None:
            with j.lock:
                j.tasks.append(t)
            if len(j.tasks) == 1 and j.every_s > 0:
                log.info(j.line())  # the start of the counted work, before the first tick
        yield t
    finally:
        if t.bar is not None:
            t.bar.close()
        if j is not None:
            with j.lock:
                j.tasks.remove(t)
                if not j.tasks:
                    j.last = t


def add(**counts: float) -> None:
    """Add to the job's counters (tokens, rounds, nodes, correct, ...); with ``rounds`` and a
    tracker attached, also log the counters to wandb at that round."""
    j = _JOB
    if j is None:
        return
    with j.lock:
        for k, v in counts.items():
            j.counters[k] = j.counters.get(k, 0) + v
    if j.tracker is not None and "rounds" in counts:
        j.tracker.log(snapshot(), step=int(j.counters["rounds"]))


def set_done(done: float, **counts: float) -> None:
    """Set the main task's done count (a loop that finishes items in any order), and `add` counts."""
    j = _JOB
    if j is not None and j.tasks:
        j.tasks[0].update_to(done)
    add(**counts)


def partial(items: float) -> None:
    """How many items' worth of work the main task's unfinished items hold (e.g. the live trees'
    iterations / the iteration budget): an ETA before the first item finishes, when items run
    side by side and finish together."""
    j = _JOB
    if j is not None and j.tasks:
        j.tasks[0].partial = items


def gauge(**values: float) -> None:
    """Set the job's current values (e.g. trees open)."""
    j = _JOB
    if j is not None:
        with j.lock:
            j.gauges.update(values)


def snapshot() -> dict[str, float]:
    """The job's counters, gauges, main task's done count and tokens/s (what wandb gets)."""
    j = _JOB
    if j is None:
        return {}
    now = time.time()
    with j.lock:
        out = {**j.counters, **j.gauges}
        main = j.tasks[0] if j.tasks else None
    if main is not None:
        out[f"{main.unit}_done"] = main.done
    if out.get("tokens"):
        out["tokens_per_s"] = out["tokens"] / max(now - (main.t0 if main else j.t0), 1e-9)
    return {f"progress/{k}": float(v) for k, v in out.items()}


@contextlib.contextmanager
def track(tracker: Any) -> Iterator[None]:
    """Log the counters to ``tracker`` (seer.tracking.Tracker) at every round while inside."""
    j = _JOB
    if j is not None:
        j.tracker = tracker
    try:
        yield
    finally:
        if j is not None:
            j.tracker = None


# ---- reading logs back (seer status) ------------------------------------------------------------
_LINE = re.compile(r"\[progress\] (?P<label>[^:]+): (?P<body>.*)$")
_DONE = re.compile(r"^(?:\S+ )?(?P<done>[\d.]+)(?:/(?P<total>\d+))? (?P<unit>\S+)")
_ETA = re.compile(r"eta (\S+?)(?:,|$| )")


@dataclass
class ProgressLine:
    label: str
    body: str
    done: float | None
    total: int | None
    unit: str
    eta: str


def parse_line(text: str) -> ProgressLine | None:
    """The fields of a ``[progress]`` line (None for any other line)."""
    m = _LINE.search(text.rstrip("\n"))
    if m is None:
        return None
    body = m.group("body")
    d = _DONE.match(body)
    e = _ETA.search(body.split(" | ")[0])
    return ProgressLine(label=m.group("label"), body=body,
                        done=float(d.group("done")) if d else None,
                        total=int(d.group("total")) if d and d.group("total") else None,
                        unit=d.group("unit").rstrip(",") if d else "", eta=e.group(1) if e else "")
