"""`seer train` (both stages) and `seer direct_samples` (stage-2 data), docs/method.md section 4.

- `train`: stage 1 (`train.stage=1`) trains a fresh LoRA + value head on `io.data`; stage 2
  (`train.stage=2`) merges the stage-1 model `io.ref_model` and trains a new LoRA on it, with the
  stage-1 model (the new adapter disabled) as the KL reference. Writes the model directory
  `io.out` (+ metrics.json); checkpoints live beside it in `<io.out>.ckpt/` (Snakemake deletes a
  failed job's outputs, not its neighbours) and are removed once the model is saved.
- `direct_samples`: n direct solutions per seed problem from the stage-1 model (`train.direct_model`:
  or the base model, as the authors), labelled by the tests (+1/-1), balanced, mixed 1:1 with
  stage-1 data.
"""
from __future__ import annotations

import hashlib
import logging
import random
import shutil
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from omegaconf import DictConfig

from seer.config import config_hash
from seer.data.jsonl import read_jsonl, write_json, write_jsonl
from seer.data.schemas import Problem, TrainPath
from seer.llm.policy import GenerateRequest
from seer.llm.prompts import STEP_STOP, exploration_prompt, format_question
from seer.llm.steps import CODE_OPEN, format_code_step, parse_step
from seer.stages import require_io
from seer.train.data import read_paths, split_heldout, tokenize_paths, without_all_one_targets

log = logging.getLogger(__name__)

# a direct answer is a path whose first step is the code step: open that step after the
# (empty) exploration prefix
DIRECT_OPEN = f"{CODE_OPEN}\n```python\n"


def checkpoint_dir(out: str | Path) -> Path:
    return Path(f"{out}.ckpt")


def file_digest(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()[:16]


def train(cfg: DictConfig) -> dict[str, Any]:
    """Train stage `cfg.train.stage` on `cfg.io.data` into the model directory `cfg.io.out`."""
    from seer.model.policy_value import VALUE_HEAD_FILE, create_policy_value, load_policy_value

    require_io(cfg, "data", "out")
    stage = int(cfg.train.stage)
    if stage == 2:
        require_io(cfg, "ref_model")
    elif stage != 1:
        raise ValueError(f"train.stage must be 1 or 2, got {stage}")
    t0 = time.time()
    paths = read_paths(cfg.io.data)
    if not paths:
        raise ValueError(f"{cfg.io.data}: no training paths")
    if not any(p.correct for p in paths):
        log.warning("%s: no correct path, so no NLL term; only the value head learns", cfg.io.data)

    def load_model(device: str, dtype: Any) -> Any:
        if stage == 1:
            model = create_policy_value(cfg.model.name, cfg.train.lora, cache_dir=cfg.model.cache_dir, dtype=dtype,
                                        device=device, head_init=cfg.train.value_head_init)
        else:
            model = load_policy_value(cfg.io.ref_model, new_lora=cfg.train.lora, cache_dir=cfg.model.cache_dir,
                                      dtype=dtype, device=device)
        model.value_head.dropout = float(cfg.train.value_head_dropout)
        return model

    if cfg.train.skip_all_one_values:
        paths = [without_all_one_targets(p) for p in paths]

    # a retrained stage-1 model (new value head) must not resume an old stage-2 run
    ref = file_digest(Path(cfg.io.ref_model) / VALUE_HEAD_FILE) if stage == 2 else ""
    return fit_and_save(cfg, load_model, lambda fmt, max_length: tokenize_paths(paths, fmt, max_length, cfg.train.overlong),
                        label=f"stage {stage}: {len(paths)} paths", run_name=f"train-stage{stage}",
                        fingerprint=f"{config_hash(cfg)}:{stage}:{file_digest(cfg.io.data)}:{ref}",
                        summary={"stage": stage, "n_paths": len(paths)}, t0=t0)


def fit_and_save(cfg: DictConfig, load_model: Callable[[str, Any], Any],
                 make_examples: Callable[[Any, int], list[Any]], *, label: str, run_name: str, fingerprint: str,
                 summary: dict[str, Any], t0: float, train_config: Callable[[int], Any] | None = None
                 ) -> dict[str, Any]:
    """The training run `train` and `sft` share: a policy-value model and its examples -> `io.out`.

    Threads, device and seeds are set up; `load_model(device, dtype)` builds the model and
    `make_examples(formatter, max_length)` tokenizes the data in the model's prompt format. The
    held-out split, tracker, checkpointed fit (resumed only under the same `fingerprint`), the model
    directory and its metrics.json (the fit's metrics + `summary`) are common; checkpoints are
    removed once the model is saved. `train_config(n_train)` gives the Trainer's settings
    (default `cfg.train`).
    """
    from seer.llm.load import setup_device, torch_dtype
    from seer.model.value_policy import as_policy
    from seer.tracking import Tracker
    from seer.train.distributed import Dist
    from seer.train.sharding import shard_base
    from seer.train.trainer import Trainer, seed_everything

    out = Path(cfg.io.out)
    device = setup_device(cfg.backend)
    seed_everything(int(cfg.train.random_seed))
    dist = Dist.from_env(device, cfg.train.sharding)  # one process unless accelerate launched several
    device = dist.device or device
    if dist.sharded and cfg.train.save_merged:
        raise ValueError(f"train.save_merged=true needs the whole base in one process, but train.sharding=fsdp "
                         f"splits it over {dist.world}: leave save_merged false (vLLM merges the saved adapter "
                         "on first use, seer.model.policy_value.merged_weights)")
    model = load_model(device, torch_dtype(cfg.model.dtype, device))
    shard_base(model, dist)
    fmt = as_policy(model, device=device, chat_template=cfg.model.chat_template, max_context=cfg.model.max_context,
                    progress=False)
    examples = make_examples(fmt, min(int(cfg.train.max_length), int(cfg.model.max_context)))
    train_set, heldout = split_heldout(examples, float(cfg.train.heldout_fraction), int(cfg.train.random_seed))
    log.info("%s -> %d train / %d held-out examples", label, len(train_set), len(heldout))
    tracker = Tracker(cfg, name=f"{cfg.experiment}-{run_name}", out_dir=out) if dist.is_main else None
    ckpt = checkpoint_dir(out)
    tcfg = train_config(len(train_set)) if train_config is not None else cfg.train
    trainer = Trainer(model, train_set, heldout, tcfg, ckpt_dir=ckpt, device=device, tracker=tracker,
                      fingerprint=fingerprint, progress=bool(cfg.backend.progress), dist=dist)
    metrics = trainer.fit()
    if not dist.is_main:
        return metrics
    tracker.finish()
    model.save(out, merged=bool(cfg.train.save_merged))
    metrics.update({**summary, "n_train": len(train_set), "n_heldout": len(heldout),
                    "seconds": round(time.time() - t0, 1), "config_hash": config_hash(cfg), **trainer.layout,
                    "sharding": "fsdp" if dist.sharded else "none",
                    "loss_curve": [h["loss"] for h in trainer.history]})
    write_json(out / "metrics.json", metrics)
    shutil.rmtree(ckpt, ignore_errors=True)
    return metrics


# ---- stage-2 data ---------------------------------------------------------------------------------
def _passes(cfg: DictConfig, items: Sequence[tuple[str, Any]]) -> list[bool]:
    """Run (code, tests) pairs in the sandbox; True where every test passed."""
    if not items:
        return []
    from seer.sandbox import SandboxPool

    with SandboxPool.from_config(cfg.sandbox) as pool:
        return [r.passed for r in pool.run_many(list(items), progress=False)]


def direct_prompt_parts(problem: Problem) -> tuple[str, str]:
    """(user message, assistant prefix) of a direct answer in the step format: the zero-shot
    exploration prompt with the first step opened as the code step."""
    user, prefix = exploration_prompt(problem, (), ())
    return user, prefix + DIRECT_OPEN


PLAIN_DIRECT_STOP = ["```"]


def plain_direct_prompt(problem: Problem) -> str:
    """The authors' stage-2 direct prompt (direct.py 19-25, 86), in our words: raw text asking for the
    solution code only, the answer opened as a python block (sample with `PLAIN_DIRECT_STOP`)."""
    return ("Write a solution to the problem below. Write only the solution code: no tests, no example "
            f"calls.\n\n{format_question(problem)}\n\nSolution:\n```python\n")


def direct_step(problem: Problem, continuation: str, prompt: str) -> str:
    """The code step of a direct answer: `prompt` step - the continuation of the opened code step;
    plain - the code the continuation holds."""
    if prompt == "plain":
        return format_code_step(continuation.split("```")[0])
    return direct_prompt_parts(problem)[1] + continuation


def label_direct(cfg: DictConfig, problems: Sequence[Problem], texts: Sequence[Sequence[str]]) -> list[TrainPath]:
    """One path per generated direct answer: the code step, rewarded +1/-1 by the problem's tests.

    `texts[i]` are the continuations of problem i's direct prompt (`train.direct_prompt`); with
    `train.direct_dedup` a problem's repeated answers count once. A step that does not parse (or
    whose code does not) is -1 without running, as in exploration.
    """
    h = config_hash(cfg)
    steps: list[tuple[Problem, str]] = []
    to_run: list[tuple[int, tuple[str, Any]]] = []
    for p, conts in zip(problems, texts):
        if cfg.train.direct_dedup:
            conts = list(dict.fromkeys(conts))
        for t in conts:
            parsed = parse_step(direct_step(p, t, cfg.train.direct_prompt))
            if parsed.valid and parsed.is_terminal and parsed.code is not None:
                to_run.append((len(steps), (parsed.code, p.tests)))
            steps.append((p, parsed.text))
    ok = dict(zip((i for i, _ in to_run), _passes(cfg, [item for _, item in to_run])))
    out = []
    for i, (p, step) in enumerate(steps):
        reward = 1.0 if ok.get(i, False) else -1.0
        out.append(TrainPath(problem_id=p.id, question=format_question(p), steps=[step], q_values=[reward], reward=reward,
                             source="direct", config_hash=h))
    return out


def balance_and_mix(direct: Sequence[TrainPath], stage1: Sequence[TrainPath], seed: int) -> list[TrainPath]:
    """Equal numbers of correct and incorrect direct paths, plus as many stage-1 paths, shuffled.

    With one class empty, balancing would leave nothing: the direct paths are kept as they are
    (with a warning) so stage 2 still trains.
    """
    rng = random.Random(seed)
    pos = [p for p in direct if p.correct]
    neg = [p for p in direct if not p.correct]
    k = min(len(pos), len(neg))
    if k == 0:
        log.warning("direct samples: %d correct, %d incorrect; cannot balance, keeping all", len(pos), len(neg))
        chosen = list(direct)
    else:
        chosen = rng.sample(pos, k) + rng.sample(neg, k)
    if not chosen:
        raise ValueError("no direct samples to mix into stage-2 data")
    mix = chosen + rng.sample(list(stage1), min(len(chosen), len(stage1)))
    rng.shuffle(mix)
    return mix


def direct_samples(cfg: DictConfig) -> None:
    """Sample, label and mix stage-2 data: `io.samples` = all direct paths, `io.out` = the mix."""
    from seer.model.factory import load_policy

    require_io(cfg, "model", "seed", "data", "samples", "out")
    problems = read_jsonl(cfg.io.seed, Problem.from_dict)
    stage1 = read_paths(cfg.io.data)
    if cfg.train.direct_model == "base":  # the authors sample the base model
        base = cfg.copy()
        base.io.model = base.model.adapter = ""
        policy = load_policy(base)
    else:
        policy = load_policy(cfg, cfg.io.model)  # either backend (vllm on a cluster)
    if cfg.train.direct_prompt == "plain":
        prompts, stop = [plain_direct_prompt(p) for p in problems], PLAIN_DIRECT_STOP
    else:
        prompts = [policy.chat_prompt(u, assistant_prefix=a) for u, a in map(direct_prompt_parts, problems)]
        stop = STEP_STOP
    req = GenerateRequest(n=int(cfg.train.direct_n), temperature=float(cfg.train.direct_temperature),
                          max_tokens=int(cfg.explore.max_step_tokens), stop=stop, seed=int(cfg.train.random_seed))
    gens = policy.generate(prompts, req)
    direct = label_direct(cfg, problems, [[g.text for g in row] for row in gens])
    n_pos = sum(p.correct for p in direct)
    log.info("direct samples: %d problems x %d = %d paths, %d correct", len(problems), req.n, len(direct), n_pos)
    write_jsonl(cfg.io.samples, [p.to_dict() for p in direct])
    mix = balance_and_mix(direct, stage1, int(cfg.train.random_seed))
    write_jsonl(cfg.io.out, [p.to_dict() for p in mix])
    log.info("stage-2 data: %d paths (%d direct)", len(mix), sum(p.source == "direct" for p in mix))
