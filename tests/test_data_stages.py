"""`seer seed_data` / `seer bench_data` through the CLI: outputs, stats, config errors."""
from __future__ import annotations

import json

from seer.cli import main
from seer.data.jsonl import read_jsonl
from seer.data.schemas import Problem


def test_seed_data_writes_decontaminated_seed_and_stats(tmp_path):
    out = tmp_path / "data" / "seed.jsonl"
    rc = main(["seed_data", "bench=full", "bench.limit=3", "data.limit=0", "tracking=disabled", f"io.out={out}"])
    assert rc == 0
    problems = read_jsonl(out, Problem.from_dict)
    stats = json.loads((tmp_path / "data" / "seed.jsonl.stats.json").read_text())
    assert stats["loaded"] == 474 and stats["kept"] == len(problems) == 474 - stats["removed"]
    dec = stats["decontamination"]
    # bench.limit does not shrink what we decontaminate against: MBPP+ holds many train-split tasks
    assert dec["removed_by_benchmark"]["mbppplus"] > 100
    assert set(dec["removed_ids"]["mbppplus"]).isdisjoint(p.id for p in problems)
    assert (tmp_path / "data" / "seed.jsonl.config.yaml").exists()


def test_seed_data_without_decontamination_and_with_limit(tmp_path):
    out = tmp_path / "seed.jsonl"
    assert main(["seed_data", "data=sra_leetcode", "data.limit=5", "data.shuffle_seed=3", f"io.out={out}"]) == 0
    problems = read_jsonl(out, Problem.from_dict)
    assert len(problems) == 5 and all(p.source == "sra_leetcode" for p in problems)
    stats = json.loads((tmp_path / "seed.jsonl.stats.json").read_text())
    assert stats == {**stats, "loaded": 5, "removed": 0, "kept": 5}


def test_bench_data_writes_one_benchmark(tmp_path):
    out = tmp_path / "bench" / "humaneval.jsonl"
    assert main(["bench_data", "bench.name=humaneval", "bench.limit=4", f"io.out={out}"]) == 0
    problems = read_jsonl(out, Problem.from_dict)
    assert [p.id for p in problems] == [f"HumanEval/{i}" for i in range(4)]
    lcb = tmp_path / "bench" / "lcb.jsonl"
    assert main(["bench_data", "bench.name=lcb", "bench.limit=0", f"io.out={lcb}"]) == 0
    assert len(read_jsonl(lcb, Problem.from_dict)) == 713


def test_bench_data_errors_are_one_line(tmp_path, capsys):
    assert main(["bench_data", f"io.out={tmp_path / 'x.jsonl'}"]) == 1
    assert "bench.name" in capsys.readouterr().err
    assert main(["bench_data", "bench.name=humaneva", f"io.out={tmp_path / 'x.jsonl'}"]) == 1
    assert "unknown benchmark 'humaneva'" in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists()
    assert main(["seed_data", "data.sourse=mbpp", f"io.out={tmp_path / 's.jsonl'}"]) == 2
    assert "difficulties" in capsys.readouterr().err  # the valid keys of `data` are listed
