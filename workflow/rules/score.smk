rule score:
    input:
        samples=f"{RES}/infer/{{model}}/{{bench}}/{{point}}/samples.jsonl",
        bench=f"{RES}/data/bench/{{bench}}.jsonl",
    output: f"{RES}/scores/{{model}}/{{bench}}/{{point}}/eval.json"
    log: f"{RES}/logs/score/{{model}}/{{bench}}/{{point}}.log"
    resources: **res("score")
    shell: seer("score", hq("io.samples", "{input.samples}"), "io.bench={input.bench}", hq("io.out", "{output}")) + " 2> '{log}'"


rule report:
    input: score_targets()
    output:
        md=report(f"{RES}/report/results.md", category="Results"),
        csv=f"{RES}/report/results.csv",
        costs=f"{RES}/report/job_costs.csv",
    log: f"{RES}/logs/report.log"
    resources: **res("report")
    params: scores=lambda wc, input: hydra_list(input)
    shell: seer("report", "io.scores={params.scores}", f"io.run={RES}", "io.out={output.md}") + " 2> {log}"
