"""The policy-value model of docs/method.md section 4: a causal LM (+ LoRA) and a linear value head.

The value of a text is ``tanh(head(h))`` where ``h`` is the LM's last hidden state (after the final
norm) at the text's last token. The head is tiny and always kept in float32.

A trained model is a directory::

    policy_value.json        # what to load: base model name, adapters, stage
    adapter/                 # the trainable LoRA (peft format)
    base_adapters/0/ ...     # earlier stages' adapters, merged into the base before `adapter/`
    value_head.safetensors
    tokenizer files          # so a loader needs only the base model's weights
    merged/                  # optional: the base with every adapter merged (loads without the base)

Stage 2 trains a new LoRA on the stage-1 model: the stage-1 adapter is copied into
``base_adapters/`` and merged into the base, so each directory is self-contained.
"""
from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch
from torch import nn

log = logging.getLogger(__name__)

META_FILE = "policy_value.json"
VALUE_HEAD_FILE = "value_head.safetensors"
ADAPTER_DIR = "adapter"
BASE_ADAPTERS_DIR = "base_adapters"
MERGED_DIR = "merged"
_MERGED_MARK = "seer-merged.txt"  # written last into a finished merged copy in the cache
FORMAT_VERSION = 1


HEAD_INITS = ("small", "linear_default")


class ValueHead(nn.Module):
    """``tanh(w . h + b)``: one scalar in [-1, 1] per position.

    ``init`` (`train.value_head_init`): small - N(0, 1/(hidden+1)) weights, zero bias, so early value
    gradients do not swamp the LM's; linear_default - torch's own Linear init (the authors' head).
    ``dropout`` (`train.value_head_dropout`, the authors' 0.1) applies to h in training mode only; it
    is set by the trainer and never saved, so a loaded head has none.
    """

    def __init__(self, hidden_size: int, init: str = "small") -> None:
        super().__init__()
        if init not in HEAD_INITS:
            raise ValueError(f"value head init {init!r}: valid values are {', '.join(HEAD_INITS)}")
        self.linear = nn.Linear(hidden_size, 1, dtype=torch.float32)
        if init == "small":
            nn.init.normal_(self.linear.weight, std=1.0 / (hidden_size + 1))
            nn.init.zeros_(self.linear.bias)
        self.dropout = 0.0

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        h = hidden.to(self.linear.weight.dtype)
        if self.dropout and self.training:
            h = nn.functional.dropout(h, self.dropout, training=True)
        return torch.tanh(self.linear(h)).squeeze(-1)


class UntrainedValueHead(nn.Module):
    """The value head of the authors' round 1: freshly initialised, never trained.

    Their engine (the MARIO vLLM fork) loads a ``value_head.pth`` next to every model, and for the
    base model that file is written by ``save_value_head.py`` of Super_MARIO: weights N(0, std) with
    std = the model's ``initializer_range`` (0.02 for Qwen2.5 and DeepSeek-Coder), bias 0. The head is
    sized on first use (``hidden.shape[-1]``, or ``sized(hidden_size)`` when vLLM serves it) from a seeded
    generator, so it needs no model config.
    """

    def __init__(self, seed: int = 0, std: float = 0.02) -> None:
        super().__init__()
        self.seed, self.std = seed, std
        self.linear: nn.Linear | None = None

    def sized(self, hidden_size: int) -> nn.Linear:
        """The head's linear layer for `hidden_size` (made on the first call, the same for a seed)."""
        if self.linear is None:
            g = torch.Generator().manual_seed(self.seed)
            self.linear = nn.Linear(hidden_size, 1, dtype=torch.float32)
            with torch.no_grad():
                self.linear.weight.copy_(torch.randn(self.linear.weight.shape, generator=g) * self.std)
                self.linear.bias.zero_()
        return self.linear

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        linear = self.sized(hidden.shape[-1]).to(hidden.device)
        return torch.tanh(linear(hidden.to(torch.float32))).squeeze(-1)


@dataclass
class PolicyValueOutput:
    logits: torch.Tensor  # [B, T, V]
    values: torch.Tensor  # [B, T], tanh already applied


def _lora_targets(lm: nn.Module, wanted: Sequence[str]) -> list[str]:
    present = {name.rsplit(".", 1)[-1] for name, mod in lm.named_modules() if isinstance(mod, nn.Linear)}
    targets = [t for t in wanted if t in present]
    if not targets:
        raise ValueError(f"train.lora.target_modules {list(wanted)} match no linear layer of the model; "
                         f"its linear layers are named {sorted(present)}")
    return targets


def add_lora(lm: nn.Module, r: int, alpha: int, dropout: float, target_modules: Sequence[str]) -> Any:
    """Wrap `lm` in a fresh, trainable peft LoRA (B = 0, so it starts equal to `lm`)."""
    from peft import LoraConfig, get_peft_model

    cfg = LoraConfig(r=int(r), lora_alpha=int(alpha), lora_dropout=float(dropout),
                     target_modules=_lora_targets(lm, list(target_modules)), task_type="CAUSAL_LM")
    return get_peft_model(lm, cfg)


class PolicyValueModel(nn.Module):
    """A causal LM (usually a peft LoRA model) and a value head on its last hidden state.

    ``meta`` records how to rebuild the model: ``base_model`` (a `model.name`), ``base_adapters``
    (adapter directories merged into the base, in order, relative to ``source_dir``) and ``stage``.
    """

    def __init__(self, lm: nn.Module, value_head: ValueHead, tokenizer: Any, meta: dict[str, Any],
                 source_dir: Path | None = None) -> None:
        super().__init__()
        self.lm = lm
        self.value_head = value_head
        self.tokenizer = tokenizer
        self.meta = dict(meta)
        self.source_dir = source_dir  # the directory this model was loaded from (holds base_adapters)

    # ---- forward -------------------------------------------------------------------------
    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> PolicyValueOutput:
        out = self.lm(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True,
                      use_cache=False)
        # hidden_states[-1] is after the final norm: the state the LM head reads
        return PolicyValueOutput(logits=out.logits, values=self.value_head(out.hidden_states[-1]))

    def reference_logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of the model with the trainable adapter switched off (the frozen reference)."""
        if not self.has_adapter:
            raise ValueError("reference_logits needs a LoRA adapter to disable (stage-2 training)")
        with torch.no_grad(), self.lm.disable_adapter():
            return self.lm(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits

    # ---- parameters ----------------------------------------------------------------------
    @property
    def has_adapter(self) -> bool:
        return hasattr(self.lm, "disable_adapter") and hasattr(self.lm, "peft_config")

    def trainable_named_parameters(self) -> Iterator[tuple[str, nn.Parameter]]:
        return ((n, p) for n, p in self.named_parameters() if p.requires_grad)

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        return {n: p.detach().cpu().contiguous() for n, p in self.trainable_named_parameters()}

    def load_trainable_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        own = dict(self.trainable_named_parameters())
        if set(own) != set(state):
            missing, extra = sorted(set(own) - set(state)), sorted(set(state) - set(own))
            raise ValueError(f"checkpoint does not match the model: missing {missing[:5]}, unexpected {extra[:5]}")
        with torch.no_grad():
            for n, p in own.items():
                p.copy_(state[n].to(p.device, p.dtype))

    # ---- save / load ---------------------------------------------------------------------
    def save(self, out_dir: str | os.PathLike[str], merged: bool = False) -> Path:
        """Write the model directory (see the module docstring); files already in `out_dir` that
        the model does not write (the resolved config, metrics) are kept.

        With ``merged=True`` the adapter is also merged into the base and the full weights are
        written to ``merged/``; this merges in place, so call it last.
        """
        from safetensors.torch import save_file

        out = Path(out_dir)
        tmp = out.with_name(out.name + ".saving")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        meta = dict(self.meta, format=FORMAT_VERSION, hidden_size=self.value_head.linear.in_features,
                    adapter=ADAPTER_DIR if self.has_adapter else None, merged=MERGED_DIR if merged else None)
        if self.has_adapter:
            self.lm.save_pretrained(str(tmp / ADAPTER_DIR))
        # earlier stages' adapters are copied, so the directory does not depend on theirs
        for i, a in enumerate(self.meta["base_adapters"]):
            shutil.copytree(Path(self.source_dir or ".") / a, tmp / BASE_ADAPTERS_DIR / str(i))
        meta["base_adapters"] = [f"{BASE_ADAPTERS_DIR}/{i}" for i in range(len(self.meta["base_adapters"]))]
        save_file({k: v.detach().cpu().contiguous() for k, v in self.value_head.state_dict().items()},
                  str(tmp / VALUE_HEAD_FILE))
        if self.tokenizer is not None:
            self.tokenizer.save_pretrained(str(tmp))
        if merged:
            if self.has_adapter:
                self.lm = self.lm.merge_and_unload()
            self.lm.save_pretrained(str(tmp / MERGED_DIR))
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        if out.exists():
            for p in out.iterdir():
                if not (tmp / p.name).exists():
                    p.rename(tmp / p.name)
            shutil.rmtree(out)
        tmp.rename(out)
        self.meta, self.source_dir = meta, out
        return out


def _resolve_base(name: str, cache_dir: str = "") -> str:
    from types import SimpleNamespace

    from seer.llm.load import resolve_model

    return resolve_model(SimpleNamespace(name=name, cache_dir=cache_dir))


def _load_lm(path: str, dtype: torch.dtype, device: str) -> nn.Module:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path, dtype=dtype).to(device)


def read_meta(model_dir: str | os.PathLike[str]) -> dict[str, Any]:
    p = Path(model_dir) / META_FILE
    if not p.is_file():
        raise FileNotFoundError(f"{model_dir}: not a policy-value model directory (no {META_FILE})")
    meta = json.loads(p.read_text())
    if meta.get("format") != FORMAT_VERSION:
        raise ValueError(f"{p}: format {meta.get('format')!r}, this code reads format {FORMAT_VERSION}")
    return meta


def create_policy_value(base: str, lora: Any, *, cache_dir: str = "", dtype: torch.dtype = torch.float32,
                        device: str = "cpu", stage: int = 1, head_init: str = "small") -> PolicyValueModel:
    """A fresh stage-1 model: base LM `base` (a `model.name`) + new LoRA (`lora`: r, alpha, dropout,
    target_modules) + a new value head (`head_init`, see `ValueHead`)."""
    from seer.llm.load import load_tokenizer

    path = _resolve_base(base, cache_dir)
    lm = add_lora(_load_lm(path, dtype, device), lora.r, lora.alpha, lora.dropout, lora.target_modules)
    head = ValueHead(lm.config.hidden_size, head_init).to(device)
    meta = {"base_model": base, "base_adapters": [], "stage": stage}
    return PolicyValueModel(lm, head, load_tokenizer(path), meta)


def load_policy_value(model_dir: str | os.PathLike[str], *, merge: bool = False, new_lora: Any = None,
                      cache_dir: str = "", dtype: torch.dtype = torch.float32, device: str = "cpu") -> PolicyValueModel:
    """Load a policy-value directory (frozen, in eval mode, unless `new_lora` is given).

    - ``merge``: merge the adapter into the base (fastest for inference; no adapter left);
    - ``new_lora``: merge the adapter, then add a fresh trainable LoRA (stage 2 on a stage-1 model);
      the value head is trainable and continues from this directory's head.
    """
    from peft import PeftModel

    from seer.llm.load import load_tokenizer

    d = Path(model_dir)
    meta = read_meta(d)
    tok = load_tokenizer(str(d))
    merge_all = merge or new_lora is not None
    if merge_all and meta.get("merged") and (d / meta["merged"]).is_dir():
        lm = _load_lm(str(d / meta["merged"]), dtype, device)
        merged_adapters = [*meta["base_adapters"], *([meta["adapter"]] if meta.get("adapter") else [])]
    else:
        lm = _load_lm(_resolve_base(meta["base_model"], cache_dir), dtype, device)
        for a in meta["base_adapters"]:
            lm = PeftModel.from_pretrained(lm, str(d / a)).merge_and_unload()
        merged_adapters = list(meta["base_adapters"])
        if meta.get("adapter"):
            if merge_all:
                lm = PeftModel.from_pretrained(lm, str(d / meta["adapter"])).merge_and_unload()
                merged_adapters.append(meta["adapter"])
            else:
                lm = PeftModel.from_pretrained(lm, str(d / meta["adapter"]))
    stage = int(meta.get("stage", 1))
    if new_lora is not None:
        lm = add_lora(lm, new_lora.r, new_lora.alpha, new_lora.dropout, new_lora.target_modules)
        stage += 1
    head = ValueHead(int(meta["hidden_size"]))
    head.load_state_dict(value_head_state(d))
    head.to(device)
    head.requires_grad_(new_lora is not None)
    new_meta = {"base_model": meta["base_model"], "base_adapters": merged_adapters, "stage": stage}
    model = PolicyValueModel(lm, head, tok, new_meta, source_dir=d)
    return model if new_lora is not None else model.eval()


def value_head_state(model_dir: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The saved value head of a policy-value directory: `linear.weight`, `linear.bias`."""
    from safetensors.torch import load_file

    return load_file(str(Path(model_dir) / VALUE_HEAD_FILE))


def merged_weights(model_dir: str | os.PathLike[str], cache_dir: str = "", *, dtype: torch.dtype = torch.float32,
                   device: str = "cpu") -> str:
    """A directory of full weights for a policy-value directory (vLLM serves merged weights).

    The directory's own `merged/` when training saved it, else the directory loaded with merge=True
    (on `device` in `dtype`, then freed) and written once under the model cache, keyed by the
    directory and its write time."""
    from seer.llm.load import cache_root

    d = Path(model_dir)
    meta = read_meta(d)
    if meta.get("merged") and (d / meta["merged"]).is_dir():
        return str(d / meta["merged"])
    # a retrained model (new write time) gets a new key
    stamp = f"{d.resolve()}:{(d / META_FILE).stat().st_mtime_ns}"
    out = cache_root(cache_dir) / "merged" / hashlib.sha256(stamp.encode()).hexdigest()[:16]
    if (out / _MERGED_MARK).is_file():
        return str(out)
    tmp = out.with_name(f"{out.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model = load_policy_value(d, merge=True, cache_dir=cache_dir, dtype=dtype, device=device)
    model.lm.save_pretrained(str(tmp))
    model.tokenizer.save_pretrained(str(tmp))
    del model
    if device.startswith("cuda"):  # vLLM's engine processes count this process's cached blocks as used
        gc.collect()
        torch.cuda.empty_cache()
    (tmp / _MERGED_MARK).write_text(f"{stamp}\n")
    try:
        tmp.rename(out)
    except OSError:  # another job merged the same directory first; its copy is as good
        shutil.rmtree(tmp, ignore_errors=True)
        if not (out / _MERGED_MARK).is_file():
            raise
    log.info("merged weights of %s for vLLM in %s", d, out)
    return str(out)
