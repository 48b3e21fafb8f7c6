import subprocess
import sys

import pytest
from omegaconf import OmegaConf

from seer.config import ConfigError, compose, config_hash, save_resolved


def test_defaults_compose():
    cfg = compose()
    assert cfg.experiment == "quickstart"
    assert cfg.explore.method == "seer"
    assert cfg.data.source == "mbpp"


def test_override_changes_value_and_hash():
    a, b = compose(), compose(["explore.c_puct=0.5"])
    assert b.explore.c_puct == 0.5
    assert config_hash(a) != config_hash(b)
    # io paths do not change what a stage computes
    assert config_hash(a) == config_hash(compose(["io.out=elsewhere.jsonl"]))


def test_typo_names_valid_keys():
    with pytest.raises(ConfigError) as e:
        compose(["explore.cpuct=0.5"])
    msg = str(e.value)
    assert "cpuct" in msg and "c_puct" in msg and "n_children" in msg


def test_wrong_type_is_an_error():
    with pytest.raises(ConfigError, match="iterations"):
        compose(["explore.iterations=many"])


def test_unknown_group_option_lists_options():
    with pytest.raises(ConfigError, match="paper"):
        compose(["explore=nope"])


@pytest.mark.parametrize("exp", ["paper.yaml", "embedded.yaml"])
def test_paper_and_embedded_explore_groups_compose(exp):
    cfg = compose([f"explore={exp[:-5]}"])
    assert cfg.explore.n_children >= 1


def test_paper_values():
    cfg = compose(["experiment=paper_qwen"])
    # the authors' 8 plan steps + the code step: seer counts the code step in max_depth
    assert (cfg.explore.iterations, cfg.explore.n_children, cfg.explore.max_depth) == (60, 5, 9)
    assert (cfg.train.lora.r, cfg.train.lora.alpha, cfg.train.beta, cfg.train.lr) == (64, 128, 0.025, 5e-5)
    assert (cfg.infer.b1, cfg.infer.b2, cfg.infer.temperature, cfg.infer.max_depth) == (3, 4, 0.5, 15)


def test_save_resolved_beside_output(tmp_path):
    cfg = compose(["explore.iterations=7"])
    p = save_resolved(cfg, tmp_path / "out.jsonl")
    assert p.name == "out.jsonl.config.yaml"
    loaded = OmegaConf.load(p)
    assert loaded.explore.iterations == 7
    d = save_resolved(cfg, tmp_path / "modeldir")
    assert d == tmp_path / "modeldir" / "config.yaml"


def test_cli_typo_exits_2_with_message(tmp_path):
    r = subprocess.run([sys.executable, "-m", "seer", "score", "infer.bb1=3"], capture_output=True, text=True)
    assert r.returncode == 2
    assert "bb1" in r.stderr and "b1" in r.stderr


def test_cli_unknown_stage():
    r = subprocess.run([sys.executable, "-m", "seer", "nonsense"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown stage" in r.stderr
