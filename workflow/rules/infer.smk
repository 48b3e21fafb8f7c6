# Inference: baselines on the base model (one job per method over all benchmarks); adaptive beam
# search (docs/method.md section 5) with trained models at every sweep point. Paths: infer/<model>/<bench>/<point>/samples.jsonl, where <model> is
# base, stage1, stage2 or stage2@<train point> and <point> a method or an inference sweep point.
rule infer_base:
    # one job per method over every benchmark: their prompts share one generate call (seer/stages/infer.py)
    input: expand(f"{RES}/data/bench/{{bench}}.jsonl", bench=BENCHES)
    output: expand(f"{RES}/infer/base/{{bench}}/{{{{method}}}}/samples.jsonl", bench=BENCHES)
    wildcard_constraints: method="direct|cot"
    log: f"{RES}/logs/infer/base/{{method}}.log"
    benchmark: f"{RES}/benchmarks/infer/base/{{method}}.tsv"
    resources: **res("infer")
    params: benches=lambda wc, input: hydra_list(input), outs=lambda wc, output: hydra_list(output)
    shell: seer("infer", "infer.method={wildcards.method}", "io.benches={params.benches}", "io.outs={params.outs}") \
        + " 2> {log}"


rule infer_model:
    input:
        bench=f"{RES}/data/bench/{{bench}}.jsonl",
        model=lambda wc: f"{RES}/models/{wc.model}",
    output: f"{RES}/infer/{{model}}/{{bench}}/{{point}}/samples.jsonl"
    wildcard_constraints: model=r"stage[12](@[^/]+)?"
    log: f"{RES}/logs/infer/{{model}}/{{bench}}/{{point}}.log"
    benchmark: f"{RES}/benchmarks/infer/{{model}}/{{bench}}/{{point}}.tsv"
    resources: **res("infer")
    params: ovr=lambda wc: point_args(wc.point)
    shell:
        seer("infer", "{params.ovr}", "infer.method=beam", "io.bench={input.bench}", hq("io.model", "{input.model}"),
             hq("io.out", "{output}")) + " 2> '{log}'"


def seer_targets():
    """Score files of the trained models: every (model, train point, inference point) of the sweep
    (one default point without a sweep), on every benchmark. Experiments of the thinking-data
    explorers (SRA-MCTS, CoT, ToT) train no policy-value model: none."""
    if CFG.explore.method != "seer":
        return []
    out = []
    for p in POINTS:
        for m in CFG.sweep.models:
            model = m + model_suffix(p.stage1 if m == "stage1" else p.train)
            out += expand(f"{RES}/scores/{model}/{{bench}}/{point_name(p.infer)}/eval.json", bench=BENCHES)
    return list(dict.fromkeys(out))
