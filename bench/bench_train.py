"""Stage-1 training throughput vs a plain transformers causal-LM LoRA fine-tune (same run, same data).

Both sides train the same LoRA (conf/train embedded: r, alpha, dropout, target modules) with AdamW
and gradient clipping on the same micro-batches of MBPP paths (a correct path: plan step + the
reference solution; an incorrect one: the solution with its last line cut):

- seer:  `seer.train.trainer.Trainer` stage 1 — policy-value forward (hidden states + value head),
         NLL on correct paths' response tokens + beta * masked value MSE, group-wide normalisation;
- plain: `model(input_ids, attention_mask, labels=...)` on the peft model, the built-in causal-LM
         loss over the response tokens of every path.

Step k of both sides trains on the same micro-batch and the sides alternate step by step, so load
from other processes hits both alike; the overhead is the median of the per-step time ratios.
Throughput counts the (non-pad) tokens of the batches; the first step of each side is a warm-up.

    .venv/bin/python bench/bench_train.py                          # smollm2-135m
    .venv/bin/python bench/bench_train.py --model tiny --steps 40
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from seer.config import compose
from seer.data.mbpp import load_mbpp
from seer.data.schemas import TrainPath
from seer.llm.steps import format_code_step, format_plan_step
from seer.model.value_policy import as_policy
from seer.model.losses import IGNORE
from seer.model.policy_value import add_lora, create_policy_value
from seer.train.data import Collator, tokenize_paths
from seer.train.trainer import Trainer, seed_everything


def mbpp_paths(n: int) -> list[TrainPath]:
    out = []
    for p in load_mbpp(["prompt", "train"])[: (n + 1) // 2]:
        plan = format_plan_step(1, "Translate the task statement directly into a Python function.")
        bad = "\n".join(p.solution.rstrip().splitlines()[:-1]) or "pass"
        out.append(TrainPath(p.id, p.question, [plan, format_code_step(p.solution)], [0.5, 1.0], 1.0, "mcts"))
        out.append(TrainPath(p.id, p.question, [plan, format_code_step(bad)], [None, -1.0], -1.0, "mcts"))
    return out[:n]


def plain_model(cfg, path: str):
    from transformers import AutoModelForCausalLM

    lm = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    lora = cfg.train.lora
    return add_lora(lm, lora.r, lora.alpha, lora.dropout, lora.target_modules)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2", help="a conf/model choice (smollm2, qwen05, tiny)")
    ap.add_argument("--paths", type=int, default=32)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--steps", type=int, default=12, help="timed optimizer steps per side")
    ap.add_argument("--threads", type=int, default=0, help="torch threads; 0 = torch default")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    cfg = compose([f"model={args.model}", "backend.device=cpu", "tracking=disabled", "train.optimizer=adamw",
                   f"train.batch_size={args.batch}", "train.grad_accum=1", "train.epochs=0",
                   "train.max_steps=100000", "train.heldout_fraction=0", "train.save_every=0"])
    from seer.llm.load import resolve_model

    path = resolve_model(cfg.model)
    seed_everything(0)
    pv = create_policy_value(cfg.model.name, cfg.train.lora)
    examples = tokenize_paths(mbpp_paths(args.paths), as_policy(pv, progress=False), int(cfg.train.max_length))
    trainer = Trainer(pv, examples, [], cfg.train, ckpt_dir="/nonexistent-bench-ckpt", progress=False)
    seed_everything(0)
    plain = plain_model(cfg, path)
    plain.train()
    params = [p for p in plain.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.train.lr, weight_decay=0.0)
    collate = Collator(pv.tokenizer.pad_token_id or 0)
    plain_k = 0

    def plain_step() -> int:
        nonlocal plain_k
        ex = [examples[i] for i in trainer.plan.micro_batch(plain_k)]
        plain_k += 1
        b = collate(ex)
        labels = b["input_ids"].clone()
        labels[b["attention_mask"] == 0] = IGNORE
        for i, e in enumerate(ex):
            labels[i, :e.prompt_len] = IGNORE
        loss = plain(input_ids=b["input_ids"], attention_mask=b["attention_mask"], labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.train.max_grad_norm)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return int(b["attention_mask"].sum())

    def seer_step() -> int:
        before = trainer.tokens
        trainer._train_step()
        return trainer.tokens - before

    plain_step(), seer_step()  # warm-up
    # step k of both sides trains on the same micro-batch; the sides alternate step by step (order
    # flipped every step) so load from other processes hits both alike, and the median of the
    # per-step time ratios discounts steps that another process disturbed
    tokens = {"plain": 0, "seer": 0}
    wall = {"plain": [], "seer": []}
    for r in range(args.steps):
        for name, fn in (("plain", plain_step), ("seer", seer_step))[:: 1 if r % 2 == 0 else -1]:
            t0 = time.perf_counter()
            tokens[name] += fn()
            wall[name].append(time.perf_counter() - t0)
    mean_len = sum(len(e.input_ids) for e in examples) / len(examples)
    print(f"model {cfg.model.name}, LoRA r={cfg.train.lora.r}, batch {args.batch}, {len(examples)} paths "
          f"(mean {mean_len:.0f} tokens), {args.steps} timed steps per side, torch threads {torch.get_num_threads()}")
    for k in ("plain", "seer"):
        print(f"  {k:5s}: {tokens[k]} tokens in {sum(wall[k]):.1f}s = {tokens[k] / sum(wall[k]):.0f} tokens/s, "
              f"median step {statistics.median(wall[k]):.3f}s")
    ratio = statistics.median(s / p for s, p in zip(wall["seer"], wall["plain"]))
    total = (tokens["seer"] / sum(wall["seer"])) / (tokens["plain"] / sum(wall["plain"]))
    print(f"  seer / plain throughput: {1 / ratio:.3f} (median of per-step ratios), {total:.3f} (totals); "
          f"overhead {100 * (ratio - 1):.1f}% (target <= 10%)")


if __name__ == "__main__":
    main()
