"""Local multi-GPU placement (seer.local_gpus) with fake device lists and concurrent processes."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from seer.cli import main
from seer.stages import STAGES
from seer.config import compose
from seer.local_gpus import acquire, claim_local_gpus, lock_dir_for, parse_devices


def test_parse_devices():
    assert parse_devices("0, 1,3,") == ["0", "1", "3"]
    assert parse_devices("GPU-8a1f,GPU-77c2") == ["GPU-8a1f", "GPU-77c2"]
    with pytest.raises(ValueError, match="listed twice"):
        parse_devices("0,1,0")


def test_leases_are_exclusive_and_released(tmp_path):
    a = acquire(1, ["0", "1"], tmp_path)
    b = acquire(1, ["0", "1"], tmp_path)
    assert (a.devices, b.devices) == (["0"], ["1"])
    with pytest.raises(TimeoutError, match="no 1 free GPUs of 0,1"):
        acquire(1, ["0", "1"], tmp_path, timeout=0.2, poll=0.05)
    a.release()
    with acquire(1, ["0", "1"], tmp_path, timeout=0.2) as c:
        assert c.devices == ["0"]
    # a stage without GPUs needs no lock at all
    assert acquire(0, ["0", "1"], tmp_path, timeout=0).devices == []
    with pytest.raises(ValueError, match="3 GPUs wanted but only 2 listed"):
        acquire(3, ["0", "1"], tmp_path)
    b.release()


def test_too_few_free_devices_holds_none_while_waiting(tmp_path):
    # a job wanting 2 of 3 devices while 2 are taken must not sit on the third one (hold-and-wait
    # between two such jobs would deadlock)
    held = acquire(2, ["0", "1", "2"], tmp_path)
    with pytest.raises(TimeoutError):
        acquire(2, ["0", "1", "2"], tmp_path, timeout=0.2, poll=0.05)
    with acquire(1, ["0", "1", "2"], tmp_path, timeout=0) as free:
        assert free.devices == ["2"]
    held.release()


WORKER = textwrap.dedent("""
    import json, sys, time
    from seer.local_gpus import acquire
    lock_dir, want, hold, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    lease = acquire(want, ["0", "1", "2"], lock_dir, timeout=60, poll=0.02)
    start = time.time()
    time.sleep(hold)
    json.dump({"devices": lease.devices, "start": start, "end": time.time()}, open(out, "w"))
""")


def test_concurrent_processes_never_share_a_device(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    wants = [1, 2, 1, 2, 1, 1]  # 8 device-slots of work on 3 devices
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path / "locks"), str(w), "0.3",
                               str(tmp_path / f"out{i}.json")]) for i, w in enumerate(wants)]
    assert [p.wait(timeout=60) for p in procs] == [0] * len(procs)
    runs = [json.loads((tmp_path / f"out{i}.json").read_text()) for i in range(len(wants))]
    assert [len(r["devices"]) for r in runs] == wants
    for i, a in enumerate(runs):
        for b in runs[i + 1:]:
            if set(a["devices"]) & set(b["devices"]):
                assert a["end"] <= b["start"] or b["end"] <= a["start"], (a, b)
    # the devices were actually shared out: some jobs ran at the same time
    assert any(a["start"] < b["end"] and b["start"] < a["end"] for i, a in enumerate(runs) for b in runs[i + 1:])


def test_a_killed_holder_frees_its_device(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from seer.local_gpus import acquire
        lease = acquire(1, ["0"], {str(tmp_path)!r})
        print("held", flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(TimeoutError):
        acquire(1, ["0"], tmp_path, timeout=0.1, poll=0.05)
    holder.send_signal(signal.SIGKILL)  # no cleanup code runs; the kernel drops the flock
    holder.wait(timeout=10)
    with acquire(1, ["0"], tmp_path, timeout=5, poll=0.05) as lease:
        assert lease.devices == ["0"]


def _cfg(tmp_path, *overrides):
    return compose(["model=tiny", f"results_root={tmp_path}", *overrides])


def test_claim_local_gpus_sets_cuda_visible_devices(tmp_path):
    cfg = _cfg(tmp_path)  # backend.device=auto
    assert claim_local_gpus(cfg, "explore", environ={}) is None  # not local multi-GPU mode
    pinned = {"SEER_LOCAL_GPUS": "0,1", "CUDA_VISIBLE_DEVICES": "5"}  # SLURM (or the user) decided
    assert claim_local_gpus(cfg, "explore", environ=pinned) is None and pinned["CUDA_VISIBLE_DEVICES"] == "5"
    env = {"SEER_LOCAL_GPUS": "0,1"}
    lease = claim_local_gpus(cfg, "explore", environ=env)
    assert env["CUDA_VISIBLE_DEVICES"] == "0" and lease.devices == ["0"]
    assert (lock_dir_for(tmp_path) / "gpu0.lock").is_file()
    env2 = {"SEER_LOCAL_GPUS": "0,1"}
    with claim_local_gpus(cfg, "train", environ=env2):
        assert env2["CUDA_VISIBLE_DEVICES"] == "1"  # the next free device
    lease.release()
    # a CPU stage is shown no device, so it cannot allocate memory on one another job holds
    env3 = {"SEER_LOCAL_GPUS": "0,1"}
    assert claim_local_gpus(cfg, "score", environ=env3).devices == [] and env3["CUDA_VISIBLE_DEVICES"] == ""
    # a stage wanting more devices than listed gets all of them
    big = _cfg(tmp_path, "cluster.stages.train.gpu=4")
    env4 = {"SEER_LOCAL_GPUS": "0,1"}
    with claim_local_gpus(big, "train", environ=env4):
        assert env4["CUDA_VISIBLE_DEVICES"] == "0,1"


def test_cli_runs_the_stage_on_its_claimed_device_and_releases_it(tmp_path, monkeypatch):
    seen = {}

    def probe(cfg):
        seen["devices"] = os.environ.get("CUDA_VISIBLE_DEVICES")
        # while the stage runs its device is taken
        with pytest.raises(TimeoutError):
            acquire(1, ["3"], lock_dir_for(tmp_path), timeout=0)

    monkeypatch.setitem(sys.modules, "seer.stages.gpuprobe", types.SimpleNamespace(run=probe))
    monkeypatch.setitem(STAGES, "explore", "gpuprobe:run")
    monkeypatch.setenv("SEER_LOCAL_GPUS", "3")
    # set, then delete: the CLI's own CUDA_VISIBLE_DEVICES is undone after the test either way
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "unset-me")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert main(["explore", "model=tiny", f"results_root={tmp_path}"]) == 0
    assert seen["devices"] == "3"
    with acquire(1, ["3"], lock_dir_for(tmp_path), timeout=0) as lease:  # released on exit
        assert lease.devices == ["3"]


def test_lock_files_are_per_host(tmp_path):
    d = lock_dir_for(tmp_path)
    assert d.parent == Path(tmp_path) / ".gpu-locks" and d.name == socket.gethostname()
