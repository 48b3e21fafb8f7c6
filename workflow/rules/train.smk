# Training (SEER.md section 4): stage 1 on the explored paths, direct samples from the stage-1
# model, stage 2 (new LoRA, KL to stage 1) on the mix. A model is a directory (adapter + value head
# + metrics.json + config.yaml); checkpoints sit beside it in <dir>.ckpt/ until it is finished, so a
# killed training job resumes. Resources per stage: the `cluster` config, see res() in common.smk.


def model_dir(stage, point=""):
    """A trained model's directory; a sweep point (e.g. "beta=0.02") becomes a name suffix, so
    sweep points sit beside the default model instead of inside its directory output."""
    return f"{RES}/models/stage{stage}" + (f"-{point}" if point else "")


rule train_stage1:
    input: data=f"{RES}/train/stage1.jsonl"
    output: directory(model_dir(1))
    log: f"{RES}/logs/train/stage1.log"
    threads: stage_threads("train")
    resources: **res("train")
    shell:
        seer("train", "train.stage=1", "backend.threads={threads}", "io.data={input.data}",
             "io.out={output}") + " 2> {log}"


rule direct_samples:
    input:
        model=model_dir(1),
        seed=f"{RES}/data/seed.jsonl",
        stage1=f"{RES}/train/stage1.jsonl",
    output:
        direct=f"{RES}/train/direct.jsonl",
        mix=f"{RES}/train/stage2.jsonl",
    log: f"{RES}/logs/train/direct_samples.log"
    threads: stage_threads("direct_samples")
    resources: **res("direct_samples")
    shell:
        seer("direct_samples", "backend.threads={threads}", "io.model={input.model}", "io.seed={input.seed}",
             "io.data={input.stage1}", "io.samples={output.direct}", "io.out={output.mix}") + " 2> {log}"


rule train_stage2:
    input:
        data=f"{RES}/train/stage2.jsonl",
        ref=model_dir(1),
    output: directory(model_dir(2))
    log: f"{RES}/logs/train/stage2.log"
    threads: stage_threads("train")
    resources: **res("train")
    shell:
        seer("train", "train.stage=2", "backend.threads={threads}", "io.data={input.data}",
             "io.ref_model={input.ref}", "io.out={output}") + " 2> {log}"
