"""Structured configs (the schema of conf/) and config composition.

Every hyperparameter lives in conf/; these dataclasses are its schema, registered with Hydra's
ConfigStore so a misspelt key is an error naming the valid keys. `compose()` is what every
`seer <stage>` calls.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import ConfigCompositionException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

T = TypeVar("T")


def _choice(key: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ValueError(f"{key}={value!r}: valid values are {', '.join(valid)}")


def _positive(key: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"{key} must be >= 1, got {value}")


@dataclass
class ModelConfig:
    name: str = "smollm2-135m"  # embedded id (smollm2-135m, qwen2.5-coder-0.5b, tiny) or hub name / local dir
    dtype: str = "float32"  # float32 | bfloat16 | float16 | auto (bf16 where the GPU/CPU computes it natively)
    max_context: int = 2048
    chat_template: bool = True  # wrap prompts with the tokenizer's chat template
    cache_dir: str = ""  # where converted embedded models live; "" = ~/.cache/seer/models
    adapter: str = ""  # a trained policy-value model directory to load on top (value head + LoRA)


@dataclass
class BackendConfig:
    name: str = "transformers"  # transformers | vllm
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    # sequences per forward; halved automatically on out-of-memory. A decode step costs little more
    # at 32 rows than at 16 (Qwen 0.5B on one CPU core: 0.67 s vs 0.51 s, 8 rows 0.45 s), so fewer,
    # fuller batches: an SRA evaluation of 8 trees x 3 children is one batch, not 16 + 8 rows
    batch_size: int = 32
    threads: int = 0  # torch intra-op threads; 0 = torch default
    progress: bool = True  # tqdm bars over batches (also off when stderr is not a terminal)
    gpu_memory_utilization: float = 0.9  # vllm only: for both engines, generation and the value head's pooling
    # vllm: automatic prefix caching; transformers: one prefill per shared prefix in a generate batch
    enable_prefix_caching: bool = True


@dataclass
class SandboxConfig:
    timeout: float = 3.0  # seconds per program (the paper's test timeout)
    workers: int = 2
    memory_mb: int = 1024
    max_output_bytes: int = 65536
    cache: bool = True
    allow_weak: bool = False  # no root, no user namespaces: run unisolated (warned) instead of failing


@dataclass
class DataConfig:
    source: str = "mbpp"  # mbpp | leetcode | self_oss | sra_leetcode | jsonl
    path: str = ""  # for source=jsonl
    splits: list[str] = field(default_factory=lambda: ["train", "validation", "prompt"])
    difficulties: list[str] = field(default_factory=list)  # keep only these (easy/medium/hard); empty = all
    limit: int = 0  # 0 = all
    shuffle_seed: int = 0  # 0 = source order; N > 0 shuffles with seed N before `limit`
    decontaminate: bool = True
    ngram: int = 10
    threshold: float = 0.3


@dataclass
class BenchConfig:
    names: list[str] = field(default_factory=lambda: ["humaneval", "mbpp", "mbppplus", "lcb"])
    name: str = ""  # the one benchmark `seer bench_data` writes (set per rule: bench.name={wildcards.bench})
    limit: int = 0  # first N tasks of each benchmark; 0 = all
    mbppplus_ids: str = "v0.2"  # v0.2 (378 tasks, as SEER reports) | all (399)
    use_plus_tests: bool = True


PERTURB_MODES = ("rollouts", "mcts")
QUESTION_CUTS = ("first_sentence", "first_period")


@dataclass
class PerturbConfig:
    enabled: bool = True
    max_per_problem: int = 6
    n_samples: int = 6  # mode=rollouts: independent completions of the prefix
    # mcts: a full tree (the explore settings) from the perturbed prefix, its failing paths keep the tree's
    # Q on the suffix steps (the authors); rollouts: n_samples independent completions, suffix unscored
    mode: str = "rollouts"
    # first_period: text before the first '.' (the authors' split('.')[0]); first_sentence: up to the
    # first sentence end or line break
    question_cut: str = "first_sentence"

    def __post_init__(self) -> None:
        _choice("explore.perturb.mode", self.mode, PERTURB_MODES)
        _choice("explore.perturb.question_cut", self.question_cut, QUESTION_CUTS)


REFINE_PROMPTS = ("chat", "from_step")


@dataclass
class RefineConfig:
    enabled: bool = True
    temperature: float = 0.7
    max_tokens: int = 1024
    verify: bool = True  # run the rewritten code; if it fails the tests, fall back to the reference code too
    # chat: zero-shot chat prompt, "Wrong step: N" prefix, a malformed rewrite repaired from the reference;
    # from_step: raw-text 3-shot prompt answered "From step <num> ...", stopped at </code>\n</step>, a
    # malformed rewrite or one naming a step not in the path DROPPED (the authors')
    prompt: str = "chat"
    paths_per_problem: int = 1  # incorrect paths refined per all-fail problem (the authors: every kept one, <= 4)
    attempts_without_path: int = 1  # refinements of a problem whose tree has no valid path (the authors: 6)

    def __post_init__(self) -> None:
        _choice("explore.refine.prompt", self.prompt, REFINE_PROMPTS)
        _positive("explore.refine.paths_per_problem", self.paths_per_problem)
        _positive("explore.refine.attempts_without_path", self.attempts_without_path)


@dataclass
class SraConfig:
    """SRA-MCTS (docs/method.md section 6) and the thinking -> code step shared with the CoT/ToT baselines."""

    c: float = 0.5  # UCT exploration constant
    n_children: int = 3  # siblings per expansion, generated one by one
    max_retries: int = 5  # re-draws of a sibling that duplicates another (or is empty)
    alpha: float = 0.5  # backup: r_p = alpha * r_p + (1 - alpha) * visit-weighted mean of the children's r
    iterations: int = 5
    temperature: float = 0.9  # proposal, evaluation and reflection calls alike (as the authors' code)
    top_p: float = 0.98
    max_step_tokens: int = 256
    max_eval_tokens: int = 128  # self-evaluation (criteria verdicts + "Score: N")
    max_reflection_tokens: int = 128
    end_gate: float = 8.8  # ToT: a candidate scored at least this ends the search (the authors' constant)
    min_words: int = 20  # thinking with fewer words (after code is stripped) is dropped, as in the authors' cleaning
    code_temperature: float = 0.0  # thinking -> code; 0 = greedy
    max_answer_tokens: int = 512  # CoT answers (plan + code) and thinking -> code answers
    verify_tests: bool = False  # beyond the paper: keep only triples whose code passes the seed tests
    methods: list[str] = field(default_factory=list)  # thinking-data baselines in the DAG: sra | cot | tot


STOP_RULES = ("exhausted", "dead_end")
VALUE_BACKUPS = ("children", "expanded")
EXPLORE_PROMPTS = ("chat", "plan_first")


@dataclass
class ExploreConfig:
    method: str = "seer"  # seer | sra | cot | tot
    shards: int = 1
    iterations: int = 60
    n_children: int = 5
    c_puct: float = 1.5  # the paper text says 0.5, the authors' code defaults to 1.5
    max_depth: int = 8
    temperature: float = 1.0
    top_p: float = 1.0
    max_step_tokens: int = 512
    n_fewshot: int = 3
    batch_problems: int = 16  # live trees per shard; each MCTS round is ONE generate call over all of them
    use_value: bool = True  # value estimates for non-terminal leaves when the policy has a head
    # exhausted: a node whose children are all closed is closed and the search goes on elsewhere until
    # every node is closed or `iterations` ran; dead_end: the tree stops as soon as selection reaches a
    # node whose children are all terminal (the authors: `iterations` is only an upper bound)
    stop_rule: str = "exhausted"
    # children: each non-terminal child backs up its own V (no backup without a value head);
    # expanded: each expansion backs up ONE V, of the expanded node read at its prompt's last token
    # (the authors); a node whose prompt does not fit gets -1 and is closed
    value_backup: str = "children"
    # round 1 (the base model has no value head): give it a freshly initialised one, as the authors'
    # engine did (their round-1 values are an untrained head's); false: no value estimates in round 1
    fresh_value_head: bool = False
    # chat: chat-template prompt, 4 worked examples incl. a direct answer, fixed per problem;
    # plan_first: raw-text prompt asking for a high-level plan first, n_fewshot of 7 plan-first examples
    # re-drawn at every expansion (the authors)
    prompt: str = "chat"
    # a step holding a code fence without <code>, or cut at max_step_tokens: false = invalid (-1 at
    # once); true = kept as a plan node (the authors)
    lenient_plan_steps: bool = False
    # a path's plan step holding several numbered lines becomes one step per line, its value target on
    # the last (the authors retag such text as several steps)
    split_numbered_steps: bool = False
    max_correct_paths: int = 4
    max_incorrect_paths: int = 4
    tot_depth: int = 4
    tot_branching: int = 3
    perturb: PerturbConfig = field(default_factory=PerturbConfig)
    refine: RefineConfig = field(default_factory=RefineConfig)
    sra: SraConfig = field(default_factory=SraConfig)

    def __post_init__(self) -> None:
        _choice("explore.stop_rule", self.stop_rule, STOP_RULES)
        _choice("explore.value_backup", self.value_backup, VALUE_BACKUPS)
        _choice("explore.prompt", self.prompt, EXPLORE_PROMPTS)


@dataclass
class LoraConfig:
    r: int = 64
    alpha: int = 128
    dropout: float = 0.1
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj",
                                                                "gate_proj", "up_proj", "down_proj"])


@dataclass
class SftConfig:
    """SFT on thinking data (SRA-MCTS and its CoT/ToT baselines): plain NLL, no value loss; the LoRA
    shape, optimizer and max length come from `train`. Paper: lr 1e-4, 2 epochs, warmup 0.05, batch 4."""

    lr: float = 1.0e-4
    epochs: float = 2.0
    warmup_ratio: float = 0.05
    batch_size: int = 4
    grad_accum: int = 1


LOSS_NORMS = ("token_group", "sequence")


SHARDINGS = ("none", "fsdp")


@dataclass
class TrainConfig:
    stage: int = 1  # 1: NLL + beta * value; 2: new LoRA on the stage-1 model, KL to it
    lora: LoraConfig = field(default_factory=LoraConfig)
    sft: SftConfig = field(default_factory=SftConfig)
    max_steps: int = 0  # optimizer steps; 0 = as many as `epochs` take
    max_grad_norm: float = 1.0  # 0 = no clipping
    save_merged: bool = False  # also write merged full weights into the model directory
    # a job of several processes: none - each holds the whole frozen base (data parallel); fsdp - the
    # base weights are sharded over them (torch FSDP2), for a base that does not fit one device
    sharding: str = "none"
    lr: float = 5e-5
    warmup_steps: int = 15
    epochs: float = 2.0
    batch_size: int = 4  # per step; effective batch = batch_size * grad_accum
    grad_accum: int = 32
    max_length: int = 2048
    optimizer: str = "adafactor"  # adafactor | adamw
    beta: float = 0.025  # value-loss weight
    kl_weight: float = 1.0  # stage 2
    nll_weight: float = 0.0  # stage 2
    bf16: bool = True  # used only where the device supports it
    gradient_checkpointing: bool = False
    save_every: int = 50  # optimizer steps between checkpoints
    heldout_fraction: float = 0.1
    direct_n: int = 5  # stage-2 direct samples per seed problem
    direct_temperature: float = 0.6
    random_seed: int = 0
    # token_group: every term a token mean over the whole accumulation group; sequence: each sequence's
    # token-mean NLL (0 for an incorrect path) and per-sequence value MSE, averaged over sequences (the
    # authors train one sequence per micro-batch)
    loss_norm: str = "token_group"
    overlong: str = "truncate"  # a path longer than max_length: truncate | drop (the authors)
    # no value targets on a multi-step path whose Q values are all 1 (the authors)
    skip_all_one_values: bool = False
    # no value targets on the steps a refined path shares with the incorrect path it repairs (the authors)
    mask_refined_prefix: bool = False
    direct_model: str = "stage1"  # which model samples the stage-2 direct answers: stage1 | base (the authors)
    direct_prompt: str = "step"  # step: the zero-shot step prompt opened at the code step | plain (the authors)
    direct_dedup: bool = False  # drop repeated direct answers of a problem (the authors)
    value_head_dropout: float = 0.0  # dropout before the value head in training (the authors: 0.1)
    value_head_init: str = "small"  # small: N(0, 1/(hidden+1)) | linear_default: torch's Linear init (the authors)

    def __post_init__(self) -> None:
        _choice("train.loss_norm", self.loss_norm, LOSS_NORMS)
        _choice("train.overlong", self.overlong, ("truncate", "drop"))
        _choice("train.direct_model", self.direct_model, ("stage1", "base"))
        _choice("train.direct_prompt", self.direct_prompt, ("step", "plain"))
        _choice("train.value_head_init", self.value_head_init, ("small", "linear_default"))
        _choice("train.sharding", self.sharding, SHARDINGS)
        if not 0.0 <= self.heldout_fraction < 1.0:
            raise ValueError(f"train.heldout_fraction must be in [0, 1), got {self.heldout_fraction}")


INFER_METHODS = ("direct", "cot", "beam")  # single-shot answers, or SEER's adaptive beam search


@dataclass
class InferConfig:
    method: str = "beam"  # one of INFER_METHODS
    b1: int = 3
    b2: int = 4
    temperature: float = 0.5
    top_p: float = 1.0
    max_depth: int = 15
    max_step_tokens: int = 512
    max_tokens: int = 1024  # direct / cot single-shot answers
    direct_fraction: float = -1.0  # <0: off (as the artifact ran); else share of first-step samples forced direct
    use_value: bool = True  # False: rank by policy likelihood (the "without value model" ablation)
    n_samples: int = 1
    random_seed: int = 0
    remove_duplicates: bool = False  # beam: drop a candidate step identical to a sibling's (the authors)
    strip_asserts: bool = False  # drop `assert` lines from the final answer (the authors)

    def __post_init__(self) -> None:
        if self.method not in INFER_METHODS:
            raise ValueError(f"infer.method must be one of {', '.join(INFER_METHODS)}, got {self.method!r}")
        if self.b1 < 1 or self.b2 < 1:
            raise ValueError(f"infer.b1 and infer.b2 must be >= 1, got {self.b1}, {self.b2}")
        if self.direct_fraction > 1:
            raise ValueError(f"infer.direct_fraction must be <= 1 (or < 0 for off), got {self.direct_fraction}")


@dataclass
class ClusterConfig:
    """Compute resources per `seer` stage: Snakemake's `resources:` of the rules running it (SLURM
    maps them to --gpus, --cpus-per-task, --mem, --time, --partition). `default` applies to every
    stage; `stages.<stage>` overrides some of its keys. See seer/cluster.py and docs/cluster.md."""

    gpu_partition: str = ""  # partition of stages with gpu > 0 unless the stage names one; "" = cluster default
    cpu_partition: str = ""  # partition of the other stages
    default: dict[str, Any] = field(default_factory=lambda: {"gpu": 0, "cpus_per_task": 1, "mem_mb": 4000,
                                                             "runtime": 60})
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class TrackingConfig:
    mode: str = "offline"  # offline | disabled | online
    project: str = "seer"
    dir: str = ""  # "" = beside the stage's outputs


@dataclass
class ProgressConfig:
    """How a job reports progress (seer/progress.py); never part of the config hash."""

    every_s: float = 30.0  # seconds between `[progress]` lines in a job's log; 0 = only the final line


@dataclass
class IOConfig:
    """Paths a Snakemake rule passes to a stage (inputs and the output)."""

    out: str = ""
    seed: str = ""
    bench: str = ""
    # single-shot infer (direct, cot) over several benchmarks in one generate call: parallel lists,
    # instead of bench/out (the baselines' rule: the rows of every benchmark share the decode steps)
    benches: list[str] = field(default_factory=list)
    outs: list[str] = field(default_factory=list)
    trees: list[str] = field(default_factory=list)
    paths: str = ""
    all_pass: str = ""
    all_fail: str = ""
    perturbed: str = ""
    refined: str = ""
    data: str = ""
    model: str = ""
    ref_model: str = ""
    samples: str = ""
    scores: list[str] = field(default_factory=list)
    stats: str = ""  # a stage's statistics json (paths, refine)
    run: str = ""  # report: the run directory <results>/<experiment>, whose benchmarks/ give the job costs
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class SweepConfig:
    """A grid in Hydra's sweep syntax, e.g. {"infer.b1": "1,2,3", "infer.b2": "range(1,6)"}."""

    params: dict[str, str] = field(default_factory=dict)
    models: list[str] = field(default_factory=lambda: ["stage1", "stage2"])  # trained models the grid infers with


@dataclass
class SeerConfig:
    experiment: str = "quickstart"
    results_root: str = "results"
    stage: str = ""
    shard: int = 0
    random_seed: int = 0
    model: ModelConfig = field(default_factory=ModelConfig)
    backend: BackendConfig = field(default_factory=BackendConfig)
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    data: DataConfig = field(default_factory=DataConfig)
    bench: BenchConfig = field(default_factory=BenchConfig)
    explore: ExploreConfig = field(default_factory=ExploreConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    infer: InferConfig = field(default_factory=InferConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    progress: ProgressConfig = field(default_factory=ProgressConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    io: IOConfig = field(default_factory=IOConfig)
    sweep: SweepConfig = field(default_factory=lambda: SweepConfig())  # conf/sweep/*.yaml


cs = ConfigStore.instance()
cs.store(name="seer_schema", node=SeerConfig)

CONF_DIR = Path(os.environ.get("SEER_CONF_DIR", Path(__file__).resolve().parent.parent / "conf"))


class ConfigError(ValueError):
    """A config could not be composed; the message names the bad key and the valid ones."""


def _valid_keys_hint(msg: str) -> str:
    # OmegaConf's message names the missing key and its full path; add the valid keys of that node.
    import re

    m = re.search(r"full_key:\s*([\w.]+)", msg)
    if not m:
        return msg
    node: Any = OmegaConf.structured(SeerConfig)
    parts = m.group(1).split(".")
    for p in parts[:-1]:
        node = node.get(p) if isinstance(node, DictConfig) else None
        if node is None:
            return msg
    if isinstance(node, DictConfig):
        return f"{msg}\nvalid keys under '{'.'.join(parts[:-1]) or '<root>'}': {', '.join(sorted(node.keys()))}"
    return msg


def compose(overrides: list[str] | None = None, conf_dir: str | os.PathLike[str] | None = None) -> DictConfig:
    """Compose conf/config.yaml with overrides; raise ConfigError naming a bad key."""
    conf_dir = Path(conf_dir or CONF_DIR).resolve()
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(conf_dir), version_base="1.3"):
            cfg = hydra_compose(config_name="config", overrides=list(overrides or []))
    except (ConfigCompositionException, OmegaConfBaseException, ConfigKeyError) as e:
        cause = e.__cause__ or e
        raise ConfigError(_valid_keys_hint(f"{type(cause).__name__}: {cause}")) from None
    try:
        OmegaConf.to_object(cfg)  # runs the schema's __post_init__ checks on the composed values
    except ValueError as e:
        raise ConfigError(str(e)) from None
    OmegaConf.set_readonly(cfg, False)
    return cfg


def settings(node: Any, schema: type[T]) -> T:
    """A composed config group as its schema dataclass (e.g. `settings(cfg.explore, ExploreConfig)`),
    which is what the algorithms take; building it runs the schema's checks (`__post_init__`)."""
    if isinstance(node, schema):
        return node
    obj = OmegaConf.to_object(node) if isinstance(node, DictConfig) else None
    if not isinstance(obj, schema):
        raise ConfigError(f"expected a {schema.__name__} config node, got {type(node).__name__}")
    return obj


def to_container(cfg: DictConfig) -> dict[str, Any]:
    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]


# knobs of how a job runs, not what it computes: a killed shard resumed with other --cores (so other
# backend.threads) must still recognise its finished trees by the hash; a training run resumes its
# checkpoint with or without sharding (the same math)
_RUNTIME_KNOBS: dict[str, tuple[str, ...]] = {"backend": ("threads", "progress"), "train": ("sharding",)}


def config_hash(cfg: DictConfig, ignore: tuple[str, ...] = ("io", "stage", "shard", "tracking", "progress",
                                                               "cluster")) -> str:
    """A short hash of the settings that determine results (paths and logging excluded)."""
    d = {k: v for k, v in to_container(cfg).items() if k not in ignore}
    for group, keys in _RUNTIME_KNOBS.items():
        if isinstance(d.get(group), dict):
            d[group] = {k: v for k, v in d[group].items() if k not in keys}
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]


def save_resolved(cfg: DictConfig, out: str | os.PathLike[str]) -> Path:
    """Write the resolved config beside an output: `<out>.config.yaml` (or `<dir>/config.yaml`)."""
    p = Path(out)
    target = p / "config.yaml" if p.is_dir() or not p.suffix else p.with_name(p.name + ".config.yaml")
    target.parent.mkdir(parents=True, exist_ok=True)
    from seer.data.jsonl import atomic_open

    with atomic_open(target) as f:
        f.write(f"# config hash {config_hash(cfg)}\n")
        f.write(OmegaConf.to_yaml(cfg, resolve=True))
    return target
