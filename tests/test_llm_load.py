"""Model names -> weights: the tiny model, embedded GGUF packages (found, joined, verified), errors."""
import hashlib
from pathlib import Path

import pytest

from seer.config import compose
from seer.llm import load
from seer.llm.load import GgufSource, ModelError, cache_root, gguf_path, package_file, resolve_model


def mcfg(name: str, cache_dir: str = ""):
    cfg = compose([]).model
    cfg.name, cfg.cache_dir = name, cache_dir
    return cfg


def test_tiny_resolves_to_the_fixture_dir(tiny_model_dir):
    assert Path(resolve_model(mcfg("tiny"))) == Path(tiny_model_dir)


def test_tiny_without_env_is_built_into_the_cache(tmp_path, monkeypatch, tiny_model_dir):
    monkeypatch.delenv("SEER_TINY_MODEL")
    d = Path(resolve_model(mcfg("tiny", str(tmp_path))))
    assert d == tmp_path / "tiny" and (d / "config.json").is_file() and (d / "tokenizer.json").is_file()


def test_hub_ids_and_local_dirs_pass_through_unknown_names_fail(tmp_path):
    assert resolve_model(mcfg("Qwen/Qwen2.5-Coder-7B-Instruct")) == "Qwen/Qwen2.5-Coder-7B-Instruct"
    assert resolve_model(mcfg(str(tmp_path))) == str(tmp_path)
    with pytest.raises(ModelError, match="unknown model 'qwen-7b'.*qwen2.5-coder-0.5b"):
        resolve_model(mcfg("qwen-7b"))


def test_cache_root_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("SEER_CACHE_DIR", str(tmp_path / "env"))
    assert cache_root("") == tmp_path / "env" / "models"
    assert cache_root(str(tmp_path / "cfg")) == tmp_path / "cfg"
    monkeypatch.delenv("SEER_CACHE_DIR")
    assert cache_root("") == Path.home() / ".cache" / "seer" / "models"


def test_missing_package_says_how_to_install():
    with pytest.raises(ModelError, match=r"'no-such-seer-pkg' is not installed: run `make models`"):
        package_file("no_such_seer_pkg", "data/part01.bin")


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    """Two importable-looking packages holding one part each (never imported, only located)."""
    chunks = [b"GGUF" + bytes(range(256)) * 3, b"tail" * 100]
    for i, c in enumerate(chunks, 1):
        pkg = tmp_path / "site" / f"seer_fake_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("raise ImportError('must not be imported')\n")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(c)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    parts = tuple((f"seer_fake_part{i}", f"data/part{i:02d}.bin") for i in (1, 2))
    return parts, b"".join(chunks)


def test_parts_are_joined_in_order_and_verified(fake_parts, tmp_path, monkeypatch):
    parts, joined = fake_parts
    good = GgufSource(parts=parts, sha256=hashlib.sha256(joined).hexdigest(), size=len(joined))
    monkeypatch.setitem(load.EMBEDDED, "fake", good)
    out = gguf_path("fake", tmp_path)
    assert out.read_bytes() == joined

    bad = GgufSource(parts=parts, sha256="0" * 64, size=len(joined))
    monkeypatch.setitem(load.EMBEDDED, "fake", bad)
    with pytest.raises(ModelError, match="does not match the pinned sha256 0000") as e:
        gguf_path("fake", tmp_path)
    assert "seer_fake_part2" in str(e.value)
    assert not (tmp_path / "fake.gguf").exists()  # a corrupt join is not left behind


def test_unfinished_conversion_is_redone(tmp_path, monkeypatch):
    # a cache dir without the completion mark (a killed conversion) is converted again
    (tmp_path / "smollm2-135m").mkdir()
    calls = []
    monkeypatch.setattr(load, "convert_gguf", lambda name, d: calls.append((name, d)) or d)
    assert resolve_model(mcfg("smollm2-135m", str(tmp_path))) == str(tmp_path / "smollm2-135m")
    assert calls == [("smollm2-135m", tmp_path / "smollm2-135m")]


@pytest.mark.slow
def test_embedded_packages_resolve_and_qwen_parts_match_the_pinned_sha256(tmp_path):
    smol = gguf_path("smollm2-135m", tmp_path)
    assert smol.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and smol.read_bytes()[:4] == b"GGUF"
    qwen = gguf_path("qwen2.5-coder-0.5b", tmp_path)  # joins 6 parts and checks the sha256
    assert qwen.stat().st_size == 491_400_064
    assert qwen.read_bytes()[:4] == b"GGUF"


@pytest.mark.slow
def test_smollm2_converts_once_into_a_loadable_cache(tmp_path):
    from transformers import AutoModelForCausalLM

    d = Path(resolve_model(mcfg("smollm2-135m", str(tmp_path))))
    assert (d / "seer-converted.txt").is_file() and (d / "chat_template.jinja").is_file()
    # no temp dirs or joined GGUF left behind, only the lock that serialises parallel conversions
    assert sorted(p.name for p in tmp_path.iterdir()) == [".smollm2-135m.lock", "smollm2-135m"]
    mtime = (d / "model.safetensors").stat().st_mtime
    assert resolve_model(mcfg("smollm2-135m", str(tmp_path))) == str(d)
    assert (d / "model.safetensors").stat().st_mtime == mtime  # the second call does not convert
    tok = load.load_tokenizer(str(d))
    assert "<|im_start|>assistant" in tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False,
                                                               add_generation_prompt=True)
    model = AutoModelForCausalLM.from_pretrained(str(d))
    assert model.config.model_type == "llama" and model.config.vocab_size == len(tok)
