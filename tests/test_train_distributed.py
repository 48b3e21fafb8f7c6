"""Training over 2 processes (accelerate launch, gloo on the CPU) against 1 process.

Same data, same effective batch (batch_size 2 x grad_accum 2): the 2-process job runs one
micro-batch per process per step and sums the gradients (seer.train.distributed); the last group
holds one micro-batch, so one process has none (train.sharding=none) or runs a weight-0 filler
(fsdp, whose forwards are collective). Each 2-process test runs with both shardings. Tolerance: the
two runs add the same float32 gradients in a different order (one .grad accumulation vs the sum of
two per-process gradients), so losses and weights agree to float32 rounding, amplified a little by
a few Adam steps: rtol 1e-4, atol 1e-6. FSDP gathers the same weights bit for bit, so the sharded
run is held to the same tolerance. (On this machine both 2-process runs have matched the 1-process
run exactly: max difference 0.0 in losses and weights.)
"""
import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
import torch
from safetensors.torch import load_file
from train_fixtures import TINY_OVERRIDES, make_paths

from seer.data.jsonl import write_jsonl
from seer.stages.train import checkpoint_dir
from seer.train.distributed import Dist, batch_layout, per_process_accum
from seer.train.launch import job_shape, launch_command

pytestmark = pytest.mark.slow
RTOL, ATOL = 1e-4, 1e-6
# 16 paths -> 12 train examples -> 6 micro-batches of 2 per epoch; 2.5 epochs = 15 micro-batches ->
# 8 optimizer steps, the last with one micro-batch (train.max_steps=0: no cap; the default experiment
# caps its training steps)
STEPS = 8
RUN = ["train.stage=1", "train.batch_size=2", "train.grad_accum=2", "train.epochs=2.5", "train.save_every=2",
       "train.max_steps=0"]


def _launch(processes, data, out, *extra, wait=True, ok=True):
    cmd = [sys.executable, "-m", "seer.train.launch", "--processes", str(processes), "train", *TINY_OVERRIDES,
           *RUN, f"io.data={data}", f"io.out={out}", *extra]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    if not wait:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert (res.returncode == 0) == ok, res.stderr[-3000:]
    return res.stderr


def _weights(d):
    out = {f"value_head.{k}": v for k, v in load_file(str(d / "value_head.safetensors")).items()}
    out.update({f"adapter.{k}": v for k, v in load_file(str(d / "adapter/adapter_model.safetensors")).items()})
    return out


def _assert_same_run(m, w, m_ref, w_ref):
    torch.testing.assert_close(torch.tensor(m["loss_curve"]), torch.tensor(m_ref["loss_curve"]), rtol=RTOL, atol=ATOL)
    assert w.keys() == w_ref.keys() and any(k.startswith("adapter.") for k in w_ref)
    for k in w_ref:
        torch.testing.assert_close(w[k], w_ref[k], rtol=RTOL, atol=ATOL, msg=k)


@pytest.fixture(scope="module")
def one(tiny_model_dir, tmp_path_factory):
    """The 1-process run every 2-process run is compared with."""
    tmp = tmp_path_factory.mktemp("one")
    data = tmp / "stage1.jsonl"
    write_jsonl(data, [p.to_dict() for p in make_paths(8)])
    _launch(1, data, tmp / "one")
    return {"data": data, "one": tmp / "one"}


@pytest.fixture(scope="module", params=["none", "fsdp"])
def runs(request, one, tmp_path_factory):
    sharding = f"train.sharding={request.param}"
    tmp = tmp_path_factory.mktemp(f"two-{request.param}")
    log2 = _launch(2, one["data"], tmp / "two", "tracking=offline", sharding)
    return {**one, "two": tmp / "two", "log2": log2, "tmp": tmp, "sharding": sharding, "mode": request.param}


def test_two_processes_train_as_one(runs):
    m1 = json.loads((runs["one"] / "metrics.json").read_text())
    m2 = json.loads((runs["two"] / "metrics.json").read_text())
    assert m1["processes"] == 1 and m2["processes"] == 2
    assert m1["effective_batch"] == m2["effective_batch"] == 4 and m2["accum_per_process"] == 1
    assert m1["steps"] == m2["steps"] == STEPS and m1["tokens"] == m2["tokens"]
    assert len(m1["loss_curve"]) == STEPS
    assert m1["loss_curve"][-1] < m1["loss_curve"][0]  # it trained
    _assert_same_run(m2, _weights(runs["two"]), m1, _weights(runs["one"]))
    assert "effective batch 4 = micro-batch 2 x accumulation 1 x 2 process(es)" in runs["log2"]
    assert m1["sharding"] == "none" and m2["sharding"] == runs["mode"]
    # rank 0 holds half the frozen base (odd-sized tensors round its shard up)
    held = [ln for ln in runs["log2"].splitlines() if "frozen weights" in ln]
    assert len(held) == (runs["mode"] == "fsdp")
    if held:
        mine, total = (int(w) for w in held[0].split("holds ")[1].split(" frozen")[0].split(" of the "))
        assert total / 2 <= mine < total * 0.55


def test_only_rank0_writes_and_tracks(runs):
    two = runs["two"]
    assert len([p for p in (two / "wandb").iterdir() if p.name.startswith("offline-run")]) == 1
    # the other rank logs only warnings: one "effective batch" line, from rank 0
    assert runs["log2"].count("effective batch 4") == 1
    assert not checkpoint_dir(two).exists()


def test_killed_two_process_run_resumes_from_its_checkpoint(runs):
    """Killed with one sharding, resumed with the other: a checkpoint holds whole trainable weights,
    whichever way it was written or is read."""
    out = runs["tmp"] / "killed"
    progress = checkpoint_dir(out) / "latest" / "progress.json"
    other = "train.sharding=" + ("none" if runs["mode"] == "fsdp" else "fsdp")
    proc = _launch(2, runs["data"], out, runs["sharding"], wait=False)
    deadline = time.time() + 300
    while not progress.is_file() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    # a hard crash of the whole job: torchrun starts each rank in its own session, so every process
    # of the tree is killed, not just the launcher's group
    for p in [*psutil.Process(proc.pid).children(recursive=True), psutil.Process(proc.pid)]:
        p.send_signal(signal.SIGKILL)
    proc.wait()
    assert progress.is_file() and not (out / "metrics.json").exists(), "the run ended before it could be killed"
    saved = json.loads(progress.read_text())["step"]
    assert 0 < saved < STEPS
    log = _launch(2, runs["data"], out, other)
    assert f"at step {saved}/{STEPS}" in log
    m = json.loads((out / "metrics.json").read_text())
    m2 = json.loads((runs["two"] / "metrics.json").read_text())
    assert m["steps"] == STEPS
    # the resumed call logs only its own steps: they are the uninterrupted run's last ones
    _assert_same_run(m, _weights(out), {"loss_curve": m2["loss_curve"][saved:]}, _weights(runs["two"]))


def test_sharded_stage2_with_kl_reference_trains_as_one(one, tmp_path_factory):
    """Stage 2 on the 1-process stage-1 model: its KL reference (the model with the new adapter
    off) runs through the sharded base too, and so does the recomputation of gradient checkpointing
    (the paper configs' setting); 2 sharded processes train as 1 (same tolerance)."""
    tmp = tmp_path_factory.mktemp("stage2")
    stage2 = ["train.stage=2", "train.epochs=1.5", "train.nll_weight=1.0", "train.gradient_checkpointing=true",
              f"io.ref_model={one['one']}"]
    _launch(1, one["data"], tmp / "one", *stage2)
    log = _launch(2, one["data"], tmp / "two", *stage2, "train.sharding=fsdp")
    m1, m2 = (json.loads((tmp / d / "metrics.json").read_text()) for d in ("one", "two"))
    assert m1["steps"] == m2["steps"] == 5 and m2["sharding"] == "fsdp" and "frozen weights" in log
    assert all(v > 0 for v in (m1["train/kl"], m2["train/kl"]))  # the reference term is live
    _assert_same_run(m2, _weights(tmp / "two"), m1, _weights(tmp / "one"))


def test_sharded_run_refuses_to_save_merged_weights(one, tmp_path):
    log = _launch(2, one["data"], tmp_path / "out", "train.sharding=fsdp", "train.save_merged=true", ok=False)
    assert "train.save_merged=true needs the whole base in one process, but train.sharding=fsdp splits it over 2" in log
    assert not (tmp_path / "out" / "adapter").exists()


def test_sharded_processes_run_as_many_passes():
    """A partial last group: unsharded, a process may run nothing; sharded, it repeats the group's
    first micro-batch with weight 0 so the collective forwards pair up."""
    assert Dist(rank=1, world=2).my_micro_batches([6]) == []
    assert Dist(rank=1, world=2, sharded=True).my_micro_batches([6]) == [(6, 0.0)]
    assert Dist(rank=0, world=2, sharded=True).my_micro_batches([6]) == [(6, 1.0)]
    assert Dist(rank=2, world=4, sharded=True).my_micro_batches([4, 5, 6]) == [(6, 1.0)]
    assert Dist(rank=1, world=2, sharded=True).my_micro_batches([4, 5, 6, 7]) == [(5, 1.0), (7, 1.0)]


def test_effective_batch_is_kept_over_processes():
    from omegaconf import OmegaConf

    tcfg = OmegaConf.create({"batch_size": 4, "grad_accum": 32})  # SEER: 128
    for p in (1, 2, 4, 8):
        assert batch_layout(tcfg, p) == {"micro_batch": 4, "accum_per_process": 32 // p, "processes": p,
                                         "effective_batch": 128}
    with pytest.raises(ValueError, match="train.grad_accum=32 is not a multiple of the 3 training processes"):
        per_process_accum(32, 3)


def test_launch_command_per_node():
    assert launch_command(1, 1, ["train", "a=1"], python="py") == ["py", "-m", "seer", "train", "a=1"]
    cmd = launch_command(4, 2, ["train"], python="py", node_rank=1, main_host="n001")
    assert cmd[:3] == ["py", "-m", "accelerate.commands.launch"] and cmd[-3:] == ["-m", "seer", "train"]
    flags = {cmd[i]: cmd[i + 1] for i in range(4, len(cmd) - 3, 2)}  # after --multi_gpu
    assert flags["--num_processes"] == "8" and flags["--num_machines"] == "2" and flags["--machine_rank"] == "1"
    assert flags["--main_process_ip"] == "n001"


def test_job_shape_splits_the_gpus_over_the_nodes():
    assert job_shape({"gpu": 0}) == (1, 1) and job_shape({"gpu": 1}) == (1, 1)
    assert job_shape({"gpu": 8, "nodes": 2}) == (4, 2)
    with pytest.raises(ValueError, match="gpu=6 does not split evenly over nodes=4"):
        job_shape({"gpu": 6, "nodes": 4})


@pytest.mark.parametrize("gpus,nodes,expect", [
    (1, 1, "python -m seer "),
    (4, 1, "python -m seer.train.launch --processes 4 --nodes 1 "),
    (8, 2, "srun --nodes=2 --ntasks-per-node=1 "),
])
def test_train_rules_launch_one_process_per_gpu(gpus, nodes, expect):
    """The planned shell commands (snakemake -n -p) of stage 1, stage 2 (and SFT, one case) on a CUDA config."""
    from test_workflow_dryrun import REPO

    ovr = f"backend.device=cuda cluster.stages.train.gpu={gpus} +cluster.stages.train.nodes={nodes} " \
          f"cluster.stages.sft.gpu={gpus} +cluster.stages.sft.nodes={nodes}"
    runs = [("ci", "results/ci/models/stage2")] + ([("sra_ci", "results/sra_ci/models/sft-sra")] if gpus == 4 else [])
    out = ""
    for exp, target in runs:
        r = subprocess.run([sys.executable, "-m", "snakemake", "-n", "-p", "--forceall", "--cores", "2", "-d",
                            str(REPO), "-s", str(REPO / "Snakefile"), target, "--config", f"experiment={exp}",
                            f"overrides={ovr}"], capture_output=True, text=True, cwd=REPO, timeout=300)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        out += r.stdout
    lines = [ln for ln in out.splitlines() if " train experiment=" in ln or " sft experiment=" in ln]
    assert len(lines) == len(runs) + 1  # stage 1, stage 2 (, SFT)
    for ln in lines:
        assert expect in ln
        if nodes > 1:
            assert f"seer.train.launch --processes {gpus // nodes} --nodes {nodes} " in ln
