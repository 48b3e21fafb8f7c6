rule bench_data:
    output: f"{RES}/data/bench/{{bench}}.jsonl"
    log: f"{RES}/logs/bench_data/{{bench}}.log"
    resources: **res("bench_data")
    shell: seer("bench_data", "bench.name={wildcards.bench}", "io.out={output}") + " 2> {log}"


# decontamination loads the whole benchmarks itself (bench_data's files are trimmed to bench.limit),
# so seed_data waits for no bench_data job: exploration, the longest chain, starts at once; the
# benchmark list is a param so that changing it reruns the seed
rule seed_data:
    output: f"{RES}/data/seed.jsonl"
    params: benches=BENCHES
    log: f"{RES}/logs/seed_data.log"
    resources: **res("seed_data")
    priority: CHAIN_PRIORITY
    shell: seer("seed_data", "io.out={output}") + " 2> {log}"
