# Training (docs/method.md section 4): stage 1 on the explored paths, direct samples from the stage-1
# model, stage 2 (new LoRA, KL to stage 1) on the mix. A model is a directory (adapter + value head
# + metrics.json + config.yaml); checkpoints sit beside it in <dir>.ckpt/ until it is finished, so a
# killed training job resumes. Resources per stage: the `cluster` config, see res() in common.smk.
#
# A training sweep point is a name suffix, `models/stage2@train.beta=0.02` (`{tp}` below, empty for
# the default): sweep points sit beside the default model, stage 1 ignores stage-2-only keys (a KL
# sweep trains stage 1 once) and direct samples depend only on stage 1 and the direct-sampling keys.
from seer.sweep import SweepPoint

TP = r"(@[^/]+)?"


def model_dir(stage, point=""):
    """A trained model's directory for a train point suffix ("" or "@k=v,...")."""
    return f"{RES}/models/stage{stage}{point}"


def _sub(tp, part):
    return model_suffix(getattr(SweepPoint(parse_point_name(tp.lstrip("@") or "default")), part))


rule train_stage1:
    input: data=f"{RES}/train/stage1.jsonl"
    output: directory(f"{RES}/models/stage1{{tp}}")
    wildcard_constraints: tp=TP
    log: f"{RES}/logs/train/stage1{{tp}}.log"
    benchmark: f"{RES}/benchmarks/train/stage1{{tp}}.tsv"
    threads: stage_threads("train")
    resources: **res("train")
    params: ovr=lambda wc: point_args(wc.tp)
    priority: CHAIN_PRIORITY
    shell:
        seer_train("train", "{params.ovr}", "train.stage=1", "backend.threads={threads}", "io.data={input.data}",
             hq("io.out", "{output}")) + " 2> '{log}'"


rule direct_samples:
    input:
        model=lambda wc: model_dir(1, _sub(wc.tp, "stage1")),
        seed=f"{RES}/data/seed.jsonl",
        stage1=f"{RES}/train/stage1.jsonl",
    output:
        direct=f"{RES}/train/direct{{tp}}.jsonl",
        mix=f"{RES}/train/stage2{{tp}}.jsonl",
    wildcard_constraints: tp=TP
    log: f"{RES}/logs/train/direct_samples{{tp}}.log"
    benchmark: f"{RES}/benchmarks/train/direct_samples{{tp}}.tsv"
    threads: stage_threads("direct_samples")
    resources: **res("direct_samples")
    params: ovr=lambda wc: point_args(wc.tp)
    priority: CHAIN_PRIORITY
    shell:
        seer("direct_samples", "{params.ovr}", "backend.threads={threads}", hq("io.model", "{input.model}"),
             "io.seed={input.seed}", "io.data={input.stage1}", hq("io.samples", "{output.direct}"),
             hq("io.out", "{output.mix}")) + " 2> '{log}'"


rule train_stage2:
    input:
        data=lambda wc: f"{RES}/train/stage2{_sub(wc.tp, 'direct')}.jsonl",
        ref=lambda wc: model_dir(1, _sub(wc.tp, "stage1")),
    output: directory(f"{RES}/models/stage2{{tp}}")
    wildcard_constraints: tp=TP
    log: f"{RES}/logs/train/stage2{{tp}}.log"
    benchmark: f"{RES}/benchmarks/train/stage2{{tp}}.tsv"
    threads: stage_threads("train")
    resources: **res("train")
    params: ovr=lambda wc: point_args(wc.tp)
    priority: CHAIN_PRIORITY
    shell:
        seer_train("train", "{params.ovr}", "train.stage=2", "backend.threads={threads}", hq("io.data", "{input.data}"),
             hq("io.ref_model", "{input.ref}"), hq("io.out", "{output}")) + " 2> '{log}'"
