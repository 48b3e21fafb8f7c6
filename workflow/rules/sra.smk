# Thinking-data baselines (docs/method.md section 6): for each method m of THINKING (sra = SRA-MCTS, cot,
# tot), thinking over K shards -> think2code (SFT triples) -> SFT (LoRA, value loss off) -> CoT
# inference -> score. Methods: explore.sra.methods, plus explore.method when it is one of them.
# A thinking shard is resumable like an explore shard (thinking/m/shard-k.partial.jsonl).
# Models land in models/sft-m; their scores in scores/sft-m/<bench>/cot/, beside SEER's in the report.
THINKING = list(dict.fromkeys(
    list(CFG.explore.sra.methods) + ([CFG.explore.method] if CFG.explore.method in ("sra", "cot", "tot") else [])))
THINK_SEED = f"{RES}/data/seed.jsonl"
# on CPU the cores are split between the shards that run at once
THINK_THREADS = stage_threads("thinking_data", share=len(SHARDS))


def thinking_shards(method):
    return expand(f"{RES}/thinking/{method}/shard-{{k}}.jsonl.gz", k=SHARDS)


def thinking_score_targets():
    return expand(f"{RES}/scores/sft-{{method}}/{{bench}}/cot/eval.json", method=THINKING, bench=BENCHES)


wildcard_constraints:
    method_t="sra|cot|tot",


rule thinking_data:
    input: seed=THINK_SEED
    output: f"{RES}/thinking/{{method_t}}/shard-{{k}}.jsonl.gz"
    wildcard_constraints: k=r"\d+"
    log: f"{RES}/logs/thinking/{{method_t}}/shard-{{k}}.log"
    benchmark: f"{RES}/benchmarks/thinking/{{method_t}}/shard-{{k}}.tsv"
    threads: THINK_THREADS
    resources: **res("thinking_data")
    shell:
        seer("thinking_data", "explore.method={wildcards.method_t}", "shard={wildcards.k}", "backend.threads={threads}",
             "io.seed={input.seed}", "io.out={output}") + " 2> {log}"


rule think2code:
    input: shards=lambda wc: thinking_shards(wc.method_t), seed=THINK_SEED
    output: data=f"{RES}/thinking/{{method_t}}/sft.jsonl", stats=f"{RES}/thinking/{{method_t}}/think2code.json"
    log: f"{RES}/logs/thinking/{{method_t}}/think2code.log"
    resources: **res("think2code")
    params: shards=lambda wc, input: hydra_list(input.shards)
    shell:
        seer("think2code", "explore.method={wildcards.method_t}", "io.trees={params.shards}", "io.seed={input.seed}",
             "io.out={output.data}", "io.stats={output.stats}") + " 2> {log}"


rule sft:
    input: data=f"{RES}/thinking/{{method_t}}/sft.jsonl"
    output: directory(f"{RES}/models/sft-{{method_t}}")
    log: f"{RES}/logs/train/sft-{{method_t}}.log"
    benchmark: f"{RES}/benchmarks/train/sft-{{method_t}}.tsv"
    resources: **res("sft")
    shell: seer_train("sft", "explore.method={wildcards.method_t}", "io.data={input.data}", "io.out={output}") + " 2> {log}"


# the SFT data teaches "Let's think step by step" + plan + code, the turn infer.method=cot prompts for
rule infer_sft:
    input: bench=f"{RES}/data/bench/{{bench}}.jsonl", model=f"{RES}/models/sft-{{method_t}}"
    output: f"{RES}/infer/sft-{{method_t}}/{{bench}}/cot/samples.jsonl"
    log: f"{RES}/logs/infer/sft-{{method_t}}/{{bench}}/cot.log"
    benchmark: f"{RES}/benchmarks/infer/sft-{{method_t}}/{{bench}}/cot.tsv"
    resources: **res("infer")
    shell:
        seer("infer", "infer.method=cot", "io.model={input.model}", "io.bench={input.bench}", "io.out={output}")
        + " 2> {log}"
