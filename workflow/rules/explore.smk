# Exploration (docs/method.md sections 2-3): MCTS over K shards, paths, perturbation, refinement, stage-1 data.
# A shard job appends each finished tree to explore/trees/shard-k.partial.jsonl; killed and rerun
# (`--rerun-incomplete`), it skips those problems and writes shard-k.jsonl.gz when all are done.
# Resources (GPUs, memory, runtime) per stage: the `cluster` config, see res() in common.smk.
# On CPU the cores are split between the shards that run at once; a GPU shard needs one thread.
EXPLORE_THREADS = stage_threads("explore", share=len(SHARDS)) if not res("explore")["gpu"] else 1
SEED = f"{RES}/data/seed.jsonl"
TREES = expand(f"{RES}/explore/trees/shard-{{k}}.jsonl.gz", k=SHARDS)


rule explore:
    input: seed=SEED
    output: f"{RES}/explore/trees/shard-{{k}}.jsonl.gz"
    wildcard_constraints: k=r"\d+"
    log: f"{RES}/logs/explore/shard-{{k}}.log"
    benchmark: f"{RES}/benchmarks/explore/shard-{{k}}.tsv"
    threads: EXPLORE_THREADS
    resources: **res("explore")
    priority: CHAIN_PRIORITY
    shell:
        seer("explore", "shard={wildcards.k}", "backend.threads={threads}", "io.seed={input.seed}",
             "io.out={output}") + " 2> {log}"


rule paths:
    input: trees=TREES, seed=SEED
    output:
        paths=f"{RES}/explore/paths.jsonl",
        all_pass=f"{RES}/explore/all_pass.jsonl",
        all_fail=f"{RES}/explore/all_fail.jsonl",
        stats=f"{RES}/explore/stats.json",
    log: f"{RES}/logs/explore/paths.log"
    resources: **res("paths")
    priority: CHAIN_PRIORITY
    shell:
        seer("paths", "io.trees=" + hydra_list(TREES), "io.seed={input.seed}", "io.out={output.paths}",
             "io.all_pass={output.all_pass}", "io.all_fail={output.all_fail}", "io.stats={output.stats}") + " 2> {log}"


rule perturb:
    input: all_pass=f"{RES}/explore/all_pass.jsonl", seed=SEED
    output: f"{RES}/augment/perturbed.jsonl"
    log: f"{RES}/logs/augment/perturb.log"
    benchmark: f"{RES}/benchmarks/augment/perturb.tsv"
    threads: stage_threads("perturb", share=2)  # runs beside refine
    resources: **res("perturb")
    priority: CHAIN_PRIORITY
    shell:
        seer("perturb", "backend.threads={threads}", "io.all_pass={input.all_pass}", "io.seed={input.seed}",
             "io.out={output}") + " 2> {log}"


rule refine:
    input: all_fail=f"{RES}/explore/all_fail.jsonl", seed=SEED
    output: refined=f"{RES}/augment/refined.jsonl", stats=f"{RES}/augment/refine_stats.json"
    log: f"{RES}/logs/augment/refine.log"
    benchmark: f"{RES}/benchmarks/augment/refine.tsv"
    threads: stage_threads("refine", share=2)  # runs beside perturb
    resources: **res("refine")
    priority: CHAIN_PRIORITY
    shell:
        seer("refine", "backend.threads={threads}", "io.all_fail={input.all_fail}", "io.seed={input.seed}",
             "io.out={output.refined}", "io.stats={output.stats}") + " 2> {log}"


rule stage1_data:
    input:
        paths=f"{RES}/explore/paths.jsonl",
        perturbed=f"{RES}/augment/perturbed.jsonl",
        refined=f"{RES}/augment/refined.jsonl",
    output: f"{RES}/train/stage1.jsonl"
    log: f"{RES}/logs/train/stage1_data.log"
    resources: **res("stage1_data")
    priority: CHAIN_PRIORITY
    shell:
        seer("stage1_data", "io.paths={input.paths}", "io.perturbed={input.perturbed}", "io.refined={input.refined}",
             "io.out={output}") + " 2> {log}"
