# Inference: baselines on the base model, and (later) trained models with their sweep points.
rule infer_base:
    input: bench=f"{RES}/data/bench/{{bench}}.jsonl"
    output: f"{RES}/infer/base/{{bench}}/{{method}}/samples.jsonl"
    wildcard_constraints: method="direct|cot"
    log: f"{RES}/logs/infer/base/{{bench}}/{{method}}.log"
    resources: gpu=1 if CFG.backend.device.startswith("cuda") else 0
    shell: seer("infer", "infer.method={wildcards.method}", "io.bench={input.bench}", "io.out={output}") + " 2> {log}"
