"""`seer models model=<name>`: prepare (convert once and cache) the model named by `model.name`."""
from __future__ import annotations

import logging
import time

from omegaconf import DictConfig

from seer.data.jsonl import write_json
from seer.llm.load import load_model_and_tokenizer, resolve_model

log = logging.getLogger(__name__)


def prepare(cfg: DictConfig) -> None:
    """Convert an embedded GGUF into the cache if needed, then prove it loads and has a chat template.

    Writes `{name, path, convert_s, load_s}` to `io.out` when given (a marker Snakemake can depend on).
    """
    t0 = time.time()
    path = resolve_model(cfg.model)
    convert_s = time.time() - t0
    t1 = time.time()
    model, tok = load_model_and_tokenizer(cfg.model, device="cpu")
    load_s = time.time() - t1
    if cfg.model.chat_template and not getattr(tok, "chat_template", None):
        raise ValueError(f"model {cfg.model.name}: the tokenizer has no chat template; "
                         "set model.chat_template=false to use plain prompts")
    n_params = sum(p.numel() for p in model.parameters())
    log.info("model %s ready at %s: %.0fM parameters, resolve %.1fs, load %.1fs",
             cfg.model.name, path, n_params / 1e6, convert_s, load_s)
    if cfg.io.out:
        write_json(cfg.io.out, {"name": cfg.model.name, "path": path, "params": n_params,
                                "resolve_s": round(convert_s, 1), "load_s": round(load_s, 1)})
