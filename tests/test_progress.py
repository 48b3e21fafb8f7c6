"""Progress lines (seer/progress.py) and `seer status` (seer/status.py): units, then (slow) real
snakemake runs of the `ci` experiment with stderr redirected to files."""
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seer import progress
from seer.progress import fmt_duration, parse_line

REPO = Path(__file__).resolve().parent.parent
# [progress] explore shard-0: 3/20 trees, ..., eta 5s
COUNTED = re.compile(r"\[progress\] explore shard-\d: (\d+)/(\d+) trees, .*eta (\d+h)?(\d+m)?\d+s")


@pytest.fixture
def lines(caplog):
    caplog.set_level(logging.INFO, logger="seer.progress")
    return lambda: [r.getMessage() for r in caplog.records if r.name == "seer.progress"]


def test_a_job_reports_at_its_cadence_with_done_total_rate_and_eta(lines):
    with progress.job("explore shard-0", every_s=0.05, bars=False):
        with progress.task("trees", 4, initial=1) as t:
            time.sleep(0.12)  # ticks before any tree of this run is done: no ETA yet
            t.advance()
            progress.add(rounds=2, tokens=50)
            progress.gauge(open=3)
            time.sleep(0.12)
            with progress.task("seq", 10, desc="generate") as inner:
                inner.advance(5)
                time.sleep(0.12)
    out = lines()
    assert out[0].startswith("[progress] explore shard-0: 1/4 trees") and out[0].endswith("eta ?")
    counted = [ln for ln in out[:-1] if ln.startswith("[progress] explore shard-0: 2/4 trees, 2 rounds, open=3, ")]
    assert counted and all(re.search(r"\d+\.\d tok/s, elapsed \ds, eta \ds", ln) for ln in counted)
    assert any(ln.endswith(" | generate 5/10 seq, eta 0s") for ln in counted)
    assert out[-1].startswith("[progress] explore shard-0: 2/4 trees, 2 rounds") and out[-1].endswith(", done")
    ticks = len(out) - 2  # the start line and the final line are not ticks
    assert 4 <= ticks <= 8  # every 0.05 s over ~0.36 s


def test_work_on_unfinished_items_gives_an_eta_before_the_first_one_finishes(lines):
    # 4 trees searched side by side: after a quarter of their iterations, none is finished
    with progress.job("explore shard-0", every_s=0, bars=False), progress.task("trees", 4) as t:
        progress.partial(4 * 0.25)
        time.sleep(0.2)
        now = time.time()
        eta = t.eta(now)
    assert eta == pytest.approx(3 * (now - t.t0))  # three times what the first quarter took


def test_a_failing_job_ends_with_a_failed_line_and_outside_a_job_nothing_is_reported(lines):
    progress.add(rounds=1)  # no job: a no-op, as in library use and unit tests
    with pytest.raises(RuntimeError, match="boom"):
        with progress.job("train stage1", every_s=0, bars=False):
            with progress.task("steps", 10) as t:
                t.advance(3)
                raise RuntimeError("boom")
    assert lines() == [lines()[0]] and re.fullmatch(r"\[progress\] train stage1: 3/10 steps, .*, failed", lines()[0])


def test_each_round_goes_to_the_attached_tracker():
    class Recorder:
        def __init__(self):
            self.logged = []

        def log(self, metrics, step=None):
            self.logged.append((step, metrics))

    rec = Recorder()
    with progress.job("explore shard-0", every_s=0, bars=False), progress.task("trees", 2) as t, progress.track(rec):
        progress.add(rounds=1, nodes=4, tokens=10)
        t.advance()
        progress.gauge(open=1)
        progress.add(rounds=1, nodes=2, correct=1)
    assert [s for s, _ in rec.logged] == [1, 2]
    last = rec.logged[-1][1]
    assert last["progress/nodes"] == 6 and last["progress/correct"] == 1 and last["progress/open"] == 1
    assert last["progress/trees_done"] == 1 and last["progress/tokens_per_s"] > 0


def test_parse_line_and_durations():
    p = parse_line("12:00:01 INFO seer.progress: [progress] explore shard-0: 3/8 trees, 2 rounds, "
                   "41.2 tok/s, elapsed 2m10s, eta 5m40s | generate 4/16 seq, eta 3s")
    assert (p.label, p.done, p.total, p.unit, p.eta) == ("explore shard-0", 3, 8, "trees", "5m40s")
    assert parse_line("[progress] infer: generate 0/3 seq, elapsed 4s, eta ?").eta == "?"
    assert parse_line("12:00:01 INFO seer: explore finished") is None
    assert [fmt_duration(s) for s in (0, 59.6, 75, 3725)] == ["0s", "1m00s", "1m15s", "1h02m"]


# --- real snakemake runs of the ci experiment, stderr to files (no terminal: tqdm bars are off) -------

# 40 seed problems (a few fewer after decontamination) over 2 shards, one live tree at a time:
# each shard works through ~20 trees, some seconds
OVERRIDES = ("data.splits=[train] data.limit=40 explore.batch_problems=1 explore.iterations=4 "
             "explore.n_children=2 explore.max_step_tokens=32")


def _snakemake(workdir: Path, every_s: float, *args: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
           *args, "--config", "experiment=ci", f"overrides={OVERRIDES} progress.every_s={every_s}"]
    out = open(workdir / "snakemake.out", "w")
    return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                            start_new_session=True, env=dict(os.environ, WANDB_MODE="disabled"))


def _status(workdir: Path, every_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "seer", "status", "experiment=ci",
                           f"overrides={OVERRIDES} progress.every_s={every_s}", "--directory", str(workdir)],
                          capture_output=True, text=True, timeout=300)


def _row(table: str, rule: str) -> list[int]:
    """done, running, failed, waiting of a rule's row."""
    m = re.search(rf"^{rule}\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", table, re.M)
    assert m, f"no row for {rule}:\n{table}"
    return [int(x) for x in m.groups()]


@pytest.mark.slow
def test_explore_jobs_under_snakemake_log_progress_with_done_total_and_eta(tmp_path, tiny_model_dir):
    run = _snakemake(tmp_path, 0.2, "--cores", "2", "results/ci/explore/trees/shard-0.jsonl.gz",
                     "results/ci/explore/trees/shard-1.jsonl.gz")
    assert run.wait(timeout=900) == 0, (tmp_path / "snakemake.out").read_text()[-3000:]
    for k in (0, 1):
        log = (tmp_path / f"results/ci/logs/explore/shard-{k}.log").read_text()
        counted = [m for m in map(COUNTED.search, log.splitlines()) if m]
        # periodic lines while trees were being finished, with an ETA computed from them
        assert any(0 < int(m.group(1)) < int(m.group(2)) for m in counted), log[-3000:]
        final = rf"\[progress\] explore shard-{k}: (\d+)/\1 trees, .* tok/s, .*, done$"
        assert re.search(final, log, re.M), log[-2000:]
        # the log says what matters: no third-party warnings or loading bars
        assert "Warning" not in log and "%|" not in log, log[-3000:]


@pytest.mark.slow
def test_seer_status_on_a_partly_finished_run(tmp_path, tiny_model_dir):
    every_s = 0.5
    # one core: the two explore shards run one after the other
    run = _snakemake(tmp_path, every_s, "--cores", "1", "results/ci/explore/paths.jsonl")
    logs = tmp_path / "results/ci/logs/explore"
    caught = None
    deadline = time.time() + 600
    try:
        while caught is None and time.time() < deadline and run.poll() is None:
            for k in (0, 1):
                f = logs / f"shard-{k}.log"
                text = f.read_text() if f.exists() else ""
                if any(0 < int(m.group(1)) < int(m.group(2)) for m in map(COUNTED.search, text.splitlines()) if m):
                    os.killpg(run.pid, signal.SIGSTOP)  # frozen mid-shard: alive, but it writes nothing more
                    caught = k
                    break
            time.sleep(0.02)
        assert caught is not None, (tmp_path / "snakemake.out").read_text()[-3000:]

        # while the shard is (as far as its log tells) running: its latest progress line and ETA
        st = _status(tmp_path, every_s)
        assert st.returncode == 0, st.stdout + st.stderr
        assert _row(st.stdout, "seed_data") == [1, 0, 0, 0]
        assert _row(st.stdout, "explore") == [0, 1, 0, 1]
        assert _row(st.stdout, "paths") == [0, 0, 0, 1]
        assert re.search(rf"^running:\n  explore/shard-{caught}: \d+/\d+ trees, .*eta \d+s",
                         st.stdout, re.M), st.stdout
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()

    # killed: once its log has been silent for three ticks it is a failed job, with its last lines
    time.sleep(3 * every_s + 6)
    st = _status(tmp_path, every_s)
    assert st.returncode == 1, st.stdout + st.stderr
    assert _row(st.stdout, "seed_data") == [1, 0, 0, 0]
    assert _row(st.stdout, "explore") == [0, 0, 1, 1]
    assert _row(st.stdout, "total")[1:3] == [0, 1]
    failed = st.stdout.split("\nfailed:\n")[1]
    assert failed.startswith(f"  explore/shard-{caught} (killed? no log line for ")
    assert "output marked incomplete by Snakemake" in failed
    assert "\n    | " in failed and f"[progress] explore shard-{caught}: " in failed


def test_status_reads_a_failed_job_from_its_log(tmp_path):
    from seer.status import Job, classify

    log = tmp_path / "results/ci/logs/infer/base/mbpp/direct.log"
    log.parent.mkdir(parents=True)
    with open(log, "w") as err:  # a real `seer` job whose input is missing, stderr to its log as under snakemake
        r = subprocess.run([sys.executable, "-m", "seer", "infer", "experiment=ci", "progress.every_s=0",
                            f"io.bench={tmp_path}/missing.jsonl", f"io.out={tmp_path}/samples.jsonl"],
                           stderr=err, stdin=subprocess.DEVNULL, timeout=300)
    assert r.returncode == 1
    job = Job("infer_base", [f"{tmp_path}/samples.jsonl"], [str(log.relative_to(tmp_path))], done=False)
    st = classify(job, tmp_path, set(), every_s=30, now=time.time())
    assert st.state == "failed" and st.note == "failed"
    assert any("seer infer: error:" in ln and "missing.jsonl" in ln for ln in st.tail), st.tail
    assert st.tail[0].endswith(", failed") and "[progress] infer:" in st.tail[0]
    assert "seer infer: error:" in st.tail[-1]  # the error is the last word
    # the same job before it started, and while it runs
    assert classify(Job("infer_base", [], ["nolog.log"], done=False), tmp_path, set(), 30, time.time()).state \
        == "waiting"
    log.write_text("12:00:00 INFO seer.progress: [progress] infer: generate 2/8 seq, elapsed 4s, eta 12s\n")
    st = classify(job, tmp_path, set(), every_s=30, now=time.time())
    assert (st.state, parse_line(st.progress).eta) == ("running", "12s")
