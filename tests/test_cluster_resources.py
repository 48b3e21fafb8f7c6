"""Per-stage resources from the `cluster` config (seer.cluster.stage_resources)."""
import pytest

from seer.stages import STAGES
from seer.cluster import stage_resources
from seer.config import compose, config_hash


def test_every_stage_has_resources_and_gpu_stages_are_the_model_stages():
    cfg = compose(["experiment=paper_dsc"])  # vllm on cuda: GPU stages request GPUs
    res = {s: stage_resources(cfg, s, environ={}) for s in STAGES}
    gpu_stages = {s for s, r in res.items() if r["gpu"]}
    assert {"explore", "perturb", "refine", "train", "direct_samples", "infer", "thinking_data", "think2code",
            "sft"} <= gpu_stages
    assert not gpu_stages & {"bench_data", "seed_data", "paths", "stage1_data", "score", "report"}
    for r in res.values():
        assert r["cpus_per_task"] >= 1 and r["mem_mb"] >= 1000 and r["runtime"] >= 1
    assert res["explore"] == {"gpu": 1, "cpus_per_task": 8, "mem_mb": 64000, "runtime": 480}


def test_cpu_runs_never_request_gpus():
    cpu = compose(["experiment=quickstart"])  # backend.device=auto
    assert stage_resources(cpu, "explore", environ={})["gpu"] == 0
    # ...unless the user declared local GPUs
    assert stage_resources(cpu, "explore", environ={"SEER_LOCAL_GPUS": "0,1"})["gpu"] == 1
    pinned_cpu = compose(["experiment=quickstart", "backend.device=cpu"])
    assert stage_resources(pinned_cpu, "train", environ={"SEER_LOCAL_GPUS": "0,1"})["gpu"] == 0
    assert stage_resources(compose(["backend.device=cuda:1"]), "train", environ={})["gpu"] == 1


def test_partitions_follow_gpu_use_and_stage_settings_win():
    cfg = compose(["backend.device=cuda", "cluster.gpu_partition=a100", "cluster.cpu_partition=cpu",
                   "+cluster.stages.score.slurm_partition=short", "cluster.stages.explore.runtime=90",
                   "+cluster.stages.explore.gpu_model=a100", "+cluster.default.slurm_account=lab"])
    explore = stage_resources(cfg, "explore", environ={})
    assert explore["slurm_partition"] == "a100" and explore["runtime"] == 90 and explore["gpu_model"] == "a100"
    assert explore["slurm_account"] == "lab"  # defaults reach every stage
    assert stage_resources(cfg, "report", environ={})["slurm_partition"] == "cpu"
    assert stage_resources(cfg, "score", environ={})["slurm_partition"] == "short"
    # no partition configured: left out, so SLURM uses the cluster's default
    assert "slurm_partition" not in stage_resources(compose([]), "report", environ={})


def test_bad_resources_are_errors_naming_the_key():
    with pytest.raises(ValueError, match="unknown stage 'explor'"):
        stage_resources(compose([]), "explor")
    with pytest.raises(ValueError, match=r"cluster.stages: unknown stage\(s\) trian"):
        stage_resources(compose(["+cluster.stages.trian.gpu=1"]), "train")
    with pytest.raises(ValueError, match=r"cluster.stages.train.gpus: unknown resource"):
        stage_resources(compose(["+cluster.stages.train.gpus=1"]), "train")
    with pytest.raises(ValueError, match=r"cluster.stages.train.runtime: '2h' is not an integer"):
        stage_resources(compose(["cluster.stages.train.runtime=2h"]), "train")
    with pytest.raises(ValueError, match=r"cluster.stages.score.mem_mb: 0 must be positive"):
        stage_resources(compose(["cluster.stages.score.mem_mb=0"]), "score")


def test_resources_do_not_change_the_config_hash():
    # a resumed explore shard checks the hash of its partial trees; asking for more time must not
    # invalidate them
    assert config_hash(compose([])) == config_hash(compose(["cluster.stages.explore.runtime=999"]))
