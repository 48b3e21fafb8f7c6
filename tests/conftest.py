import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# wandb must never reach the network from tests
os.environ.setdefault("WANDB_MODE", "offline")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random Qwen2 model + locally trained tokenizer (built once per test session)."""
    from seer.llm.tiny import build_tiny_model

    d = build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")
    os.environ["SEER_TINY_MODEL"] = str(d)
    return d
