"""bf16 vs fp32 on this CPU, same run: the transformers backend's generate (prefill + decode of a
batch of chat prompts) and one LoRA training step, for `model.dtype=auto`'s choice.

On CPUs with bf16 instructions (AVX512-BF16, AMX) `auto` loads a bf16 model; elsewhere fp32 (bf16
is emulated there). Rounds alternate the order of the two dtypes; medians are printed.

    python bench/bench_dtype.py --model qwen05 --rows 12 --new-tokens 48 --repeats 2
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from bench_generate import TASKS
from seer.config import compose
from seer.llm.hf_backend import TransformersPolicy
from seer.llm.load import cpu_has_native_bf16, load_model_and_tokenizer, torch_dtype
from seer.llm.policy import GenerateRequest

DTYPES = ("float32", "bfloat16")


def train_step_seconds(model: torch.nn.Module, ids: torch.Tensor) -> float:
    """Forward + backward of a causal-LM loss through the frozen model (LoRA-like: only the head's
    input gradient flows), the shape of one training micro-batch."""
    for p in model.parameters():
        p.requires_grad_(False)
    emb = model.get_input_embeddings()(ids).detach().requires_grad_(True)
    t = time.perf_counter()
    out = model(inputs_embeds=emb, labels=ids)
    out.loss.float().backward()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="qwen05")
    ap.add_argument("--rows", type=int, default=12)
    ap.add_argument("--new-tokens", type=int, default=48)
    ap.add_argument("--train-tokens", type=int, default=384, help="tokens per sequence of the training step (2 rows)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"CPU has native bf16: {cpu_has_native_bf16()}; model.dtype=auto -> {torch_dtype('auto', 'cpu')}; "
          f"threads {args.threads}; load average before {os.getloadavg()}")
    pols = {}
    for dt in DTYPES:
        cfg = compose([f"model={args.model}", f"model.dtype={dt}"])
        model, tok = load_model_and_tokenizer(cfg.model, device="cpu")
        pols[dt] = TransformersPolicy(model, tok, batch_size=32, progress=False)
    prompts = [pols["float32"].chat_prompt(f"{TASKS[i % len(TASKS)]} (variant {i})") for i in range(args.rows)]
    ids = torch.randint(100, 5000, (2, args.train_tokens))
    gen: dict[str, list[float]] = {dt: [] for dt in DTYPES}
    train: dict[str, list[float]] = {dt: [] for dt in DTYPES}
    tokens: dict[str, int] = {}
    for r in range(args.repeats):
        for dt in (DTYPES if r % 2 == 0 else DTYPES[::-1]):
            t = time.perf_counter()
            g = pols[dt].generate(prompts, GenerateRequest(n=1, temperature=0.7, max_tokens=args.new_tokens, seed=r))
            gen[dt].append(time.perf_counter() - t)
            tokens[dt] = sum(x.n_tokens for row in g for x in row)
            train[dt].append(train_step_seconds(pols[dt].model, ids))
    print(f"{'dtype':>9} {'generate s':>10} {'tokens':>6} {'tok/s':>6} {'train step s':>12}")
    for dt in DTYPES:
        g, s = statistics.median(gen[dt]), statistics.median(train[dt])
        print(f"{dt:>9} {g:>10.1f} {tokens[dt]:>6} {tokens[dt] / g:>6.1f} {s:>12.1f}")
    f32, b16 = (statistics.median(gen[d]) for d in DTYPES)
    t32, t16 = (statistics.median(train[d]) for d in DTYPES)
    print(f"bf16 / fp32 speed: generate {f32 / b16:.2f}x, training step {t32 / t16:.2f}x; "
          f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
