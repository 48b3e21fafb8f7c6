# Helpers that turn the composed Hydra config into targets. Hydra is the single source of truth:
# the Snakefile composes the same config the stages do, so shard counts, benchmarks and sweep
# points are never written twice.
import shlex
import sys

from seer.config import compose

EXP = config.get("experiment", "quickstart")
OVERRIDES = shlex.split(str(config.get("overrides", "")))
CFG = compose([f"experiment={EXP}", *OVERRIDES])
RES = f"{CFG.results_root}/{EXP}"
BENCHES = list(CFG.bench.names)
SHARDS = list(range(CFG.explore.shards))
_OVR = " ".join(shlex.quote(o) for o in OVERRIDES)
# the interpreter running snakemake has seer installed; no reliance on PATH
SEER = f"{shlex.quote(sys.executable)} -m seer"


def seer(stage, *args):
    """The shell command of a rule: `seer <stage> experiment=E <user overrides> <rule args>`."""
    return " ".join([SEER, stage, f"experiment={EXP}", _OVR, *args])


def baseline_targets():
    return expand(f"{RES}/scores/base/{{bench}}/{{method}}/eval.json", bench=BENCHES, method=["direct", "cot"])


def score_targets():
    """Every eval.json the report summarises (extended as stages land: trained models, sweeps)."""
    return baseline_targets()


def hydra_list(paths):
    """A list of paths as one shell-quoted Hydra override value."""
    return shlex.quote("[" + ",".join("'" + str(p) + "'" for p in paths) + "]")


def default_targets():
    return [f"{RES}/report/results.md"]
