"""Stage-1 training throughput: 2 processes (accelerate launch, gloo) vs 1 process on the CPU.

The same `seer train` job (same MBPP paths, same effective batch = batch x grad_accum, same steps)
launched by `python -m seer.train.launch --processes P` three ways, one after the other:

- 1 process x 1 thread       (the baseline)
- 1 process x 2 threads      (what one process makes of both cores)
- 2 processes x 1 thread     (data parallel: each process runs half of every step's micro-batches)
- with --fsdp, also 2 processes x 1 thread with train.sharding=fsdp (the base sharded over them)

Throughput = trained tokens / training seconds, as the trainer records them in metrics.json
(`tokens_per_s`: model load and tokenisation excluded); wall = the whole command. The final losses of
the 2-process and 1-process runs are printed too (they train the same steps on the same data).

    .venv/bin/python bench/bench_train_ddp.py                 # smollm2-135m, 32 paths, 4 steps
    .venv/bin/python bench/bench_train_ddp.py --model tiny --steps 8
    .venv/bin/python bench/bench_train_ddp.py --fsdp          # + the sharded 2-process run
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_train import mbpp_paths  # the same paths as the single-process bench


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--paths", type=int, default=32)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--accum", type=int, default=4)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--max-length", type=int, default=512)
    ap.add_argument("--fsdp", action="store_true", help="also run 2 processes with train.sharding=fsdp")
    args = ap.parse_args()

    from seer.data.jsonl import write_jsonl

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "stage1.jsonl"
        write_jsonl(data, [p.to_dict() for p in mbpp_paths(args.paths)])
        for procs, threads, sharding in ((1, 1, "none"), (1, 2, "none"), (2, 1, "none"),
                                         *([(2, 1, "fsdp")] if args.fsdp else [])):
            out = Path(tmp) / f"p{procs}t{threads}{sharding}"
            cmd = [sys.executable, "-m", "seer.train.launch", "--processes", str(procs), "train",
                   f"model={args.model}", "backend.device=cpu", "tracking=disabled", "backend.progress=false",
                   f"backend.threads={threads}", "train.stage=1", f"train.batch_size={args.batch}",
                   f"train.grad_accum={args.accum}", f"train.max_steps={args.steps}", "train.heldout_fraction=0",
                   f"train.max_length={args.max_length}", "train.optimizer=adamw", "train.save_every=0",
                   f"train.sharding={sharding}",
                   f"io.data={data}", f"io.out={out}"]
            env = dict(os.environ, OMP_NUM_THREADS=str(threads))
            t0 = time.perf_counter()
            r = subprocess.run(cmd, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if r.returncode:
                sys.exit(r.stderr[-3000:])
            m = json.loads((out / "metrics.json").read_text())
            rows.append({"processes": procs, "threads": threads, "sharding": sharding, "tokens": m["tokens"],
                         "tokens_per_s": round(m["tokens_per_s"], 1), "wall_s": round(wall, 1),
                         "final_loss": m["loss_curve"][-1], "effective_batch": m["effective_batch"]})
            print(json.dumps(rows[-1]), flush=True)
    base = rows[0]["tokens_per_s"]
    for r in rows:
        print(f"{r['processes']} proc x {r['threads']} thr {r['sharding']:>4}: {r['tokens_per_s']:8.1f} tok/s  "
              f"({r['tokens_per_s'] / base:.2f}x of 1x1)  wall {r['wall_s']:.0f}s  final loss {r['final_loss']:.6f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
