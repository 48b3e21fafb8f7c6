rule bench_data:
    output: f"{RES}/data/bench/{{bench}}.jsonl"
    log: f"{RES}/logs/bench_data/{{bench}}.log"
    shell: seer("bench_data", "io.extra.name={wildcards.bench}", "io.out={output}") + " 2> {log}"


rule seed_data:
    input: expand(f"{RES}/data/bench/{{bench}}.jsonl", bench=BENCHES)
    output: f"{RES}/data/seed.jsonl"
    log: f"{RES}/logs/seed_data.log"
    shell: seer("seed_data", "io.out={output}") + " 2> {log}"
