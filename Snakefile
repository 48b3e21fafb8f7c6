# SEER experiment DAG. Thin by design: rules live in workflow/rules/*.smk, algorithms in seer/.
#   snakemake --cores 2                                   # the embedded quickstart experiment
#   snakemake --cores 2 --config experiment=cpu_qwen      # another experiment from conf/experiment/
#   snakemake --cores 2 --config overrides="infer.b1=2"   # extra Hydra overrides for every stage
from snakemake.utils import min_version

min_version("9.0")  # the storage/executor plugin interface and `workflow.remote_exec` used here


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/explore.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/infer.smk"
include: "workflow/rules/sra.smk"
include: "workflow/rules/score.smk"


rule all:
    input:
        default_targets(),
    default_target: True
