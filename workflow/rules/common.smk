# Helpers that turn the composed Hydra config into targets. Hydra is the single source of truth:
# the Snakefile composes the same config the stages do, so shard counts, benchmarks and sweep
# points are never written twice.
import shlex
import sys

from seer.cluster import stage_resources
from seer.train.launch import job_shape
from seer.config import compose
from seer.sweep import check_keys, expand as expand_sweep, model_suffix, parse_point_name, point_name

# the keys `--config` takes; any other (a typo like experimnt=) would be ignored silently, so it is an error
CONFIG_KEYS = {
    "experiment": "conf/experiment/<name>.yaml (default quickstart)",
    "overrides": 'Hydra overrides for every stage, e.g. overrides="infer.b1=2 explore.c_puct=0.5"',
    "sweep": "conf/sweep/<name>.yaml: a grid of infer/train points",
}
_unknown = sorted(set(config) - set(CONFIG_KEYS))
if _unknown:
    raise ValueError(f"--config: unknown key(s) {', '.join(_unknown)}; valid keys:\n"
                     + "\n".join(f"  {k}: {v}" for k, v in CONFIG_KEYS.items()))

EXP = config.get("experiment", "quickstart")
OVERRIDES = shlex.split(str(config.get("overrides", "")))
SWEEP = config.get("sweep", "")  # conf/sweep/<name>.yaml: only shapes the targets, never a stage's config
CFG = compose([f"experiment={EXP}", *OVERRIDES, *([f"sweep={SWEEP}"] if SWEEP else [])])
POINTS = expand_sweep(CFG.sweep.params)
check_keys(POINTS, lambda o: compose([f"experiment={EXP}", *OVERRIDES, *o]))
RES = f"{CFG.results_root}/{EXP}"
BENCHES = list(CFG.bench.names)
SHARDS = list(range(CFG.explore.shards))
_OVR = " ".join(shlex.quote(o) for o in OVERRIDES)
# exploration -> training is the longest chain of the DAG: its jobs go before ready baselines, which
# fill the cores the chain leaves idle (a quickstart finishes minutes sooner)
CHAIN_PRIORITY = 10
# the interpreter running snakemake has seer installed; no reliance on PATH
SEER = f"{shlex.quote(sys.executable)} -m seer"


def seer(stage, *args):
    """The shell command of a rule: `seer <stage> experiment=E <user overrides> <rule args>`."""
    return " ".join([SEER, stage, f"experiment={EXP}", _OVR, *args])


def seer_train(stage, *args):
    """`seer()` for a training stage (train, sft): one process per GPU of the stage's resources
    (`gpu` = the job's total, split over its `nodes`) through seer.train.launch (accelerate); across
    nodes srun starts the launcher once per node. One GPU or none is a plain `seer` process."""
    per_node, nodes = job_shape(res(stage), stage)
    if per_node * nodes == 1:
        return seer(stage, *args)
    launch = f"{shlex.quote(sys.executable)} -m seer.train.launch --processes {per_node} --nodes {nodes}"
    if nodes > 1:
        launch = f"srun --nodes={nodes} --ntasks-per-node=1 {launch}"
    return " ".join([launch, stage, f"experiment={EXP}", _OVR, *args])


def res(stage):
    """A rule's resources, as `resources: **res("<seer stage>")`: gpu, cpus_per_task, mem_mb, runtime
    (minutes) and slurm_partition of the stage from the `cluster` config (conf/cluster/default.yaml).
    gpu is 0 unless the backend runs on CUDA, so CPU runs never wait for a GPU (docs/cluster.md)."""
    return stage_resources(CFG, stage)


def stage_threads(stage, share=1):
    """A rule's threads: on a cluster, the stage's cpus_per_task (what SLURM gives the job; a cluster
    run has no total core count, and inside the job it is the node's); locally, this run's cores
    split between `share` jobs running at once."""
    if workflow.remote_exec or workflow.resource_settings.cores is None:
        return res(stage)["cpus_per_task"]
    return max(1, workflow.cores // max(1, share))


def hq(key, value):
    """`key='value'` for Hydra, shell-quoted: sweep-point paths hold '=' and ','."""
    return shlex.quote(f"{key}='{value}'")


def point_args(name):
    """The overrides of a point name (directory or model suffix) as shell words."""
    return " ".join(shlex.quote(o) for o in parse_point_name(name.lstrip("@") or "default"))


def baseline_targets():
    return expand(f"{RES}/scores/base/{{bench}}/{{method}}/eval.json", bench=BENCHES, method=["direct", "cot"])


def score_targets():
    """Every eval.json the report summarises (extended as stages land: trained models, sweeps).
    thinking_score_targets: workflow/rules/sra.smk (included before score.smk calls this)."""
    return baseline_targets() + seer_targets() + thinking_score_targets()


def hydra_list(paths):
    """A list of paths as one shell-quoted Hydra override value."""
    return shlex.quote("[" + ",".join("'" + str(p) + "'" for p in paths) + "]")


def default_targets():
    return [f"{RES}/report/results.md"]
