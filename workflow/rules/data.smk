rule bench_data:
    output: f"{RES}/data/bench/{{bench}}.jsonl"
    log: f"{RES}/logs/bench_data/{{bench}}.log"
    resources: **res("bench_data")
    shell: seer("bench_data", "bench.name={wildcards.bench}", "io.out={output}") + " 2> {log}"


rule seed_data:
    input: expand(f"{RES}/data/bench/{{bench}}.jsonl", bench=BENCHES)
    output: f"{RES}/data/seed.jsonl"
    log: f"{RES}/logs/seed_data.log"
    resources: **res("seed_data")
    priority: CHAIN_PRIORITY
    shell: seer("seed_data", "io.out={output}") + " 2> {log}"
