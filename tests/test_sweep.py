import pytest

from seer.config import ConfigError, compose
from seer.sweep import DEFAULT, SweepPoint, check_keys, expand, model_suffix, parse_point_name, point_name


def test_grid_expansion_hydra_syntax():
    pts = expand({"infer.b2": "range(1,4)", "infer.b1": "1,2"})
    assert len(pts) == 6
    assert pts[0].overrides == ("infer.b1=1", "infer.b2=1")
    names = [point_name(p.overrides) for p in pts]
    assert names[-1] == "infer.b1=2,infer.b2=3" and len(set(names)) == 6
    assert all(parse_point_name(n) == p.overrides for n, p in zip(names, pts))
    assert point_name(()) == DEFAULT and parse_point_name(DEFAULT) == ()


def test_routing_train_vs_infer_and_stage2_only_keys():
    p = SweepPoint(("infer.b1=2", "train.beta=0.02", "train.kl_weight=0"))
    assert p.train == ("train.beta=0.02", "train.kl_weight=0")
    assert p.stage1 == ("train.beta=0.02",)  # a KL sweep shares stage 1
    assert p.infer == ("infer.b1=2",)
    q = SweepPoint(("train.direct_n=3", "train.kl_weight=0", "train.lora.r=4"))
    assert q.direct == ("train.direct_n=3", "train.lora.r=4")
    assert model_suffix(q.stage1) == "@train.lora.r=4" and model_suffix(()) == ""
    assert p.value("train.kl_weight") == "0" and p.value("nope") is None


def test_empty_grid_is_one_default_point():
    assert expand({}) == [SweepPoint(())]


def test_typo_in_sweep_file_fails_early():
    with pytest.raises(ConfigError, match="bb1"):
        check_keys(expand({"infer.bb1": "1,2"}), compose)


@pytest.mark.parametrize("name", ["beams", "beams_quick", "beta", "kl", "ablations"])
def test_shipped_sweeps_compose(name):
    cfg = compose([f"sweep={name}"])
    pts = expand(cfg.sweep.params)
    check_keys(pts, lambda o: compose([f"sweep={name}", *o]))
    assert len(pts) >= 2
