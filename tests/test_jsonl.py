import errno
import gzip
import json

import pytest

from seer.data import jsonl
from seer.data.jsonl import DataError, JsonlAppender, atomic_open, iter_jsonl, read_jsonl, write_jsonl
from seer.data.schemas import Problem, Tests


def test_roundtrip_plain_and_gz(tmp_path):
    recs = [{"a": i, "s": "é"} for i in range(3)]
    for name in ("x.jsonl", "x.jsonl.gz"):
        assert write_jsonl(tmp_path / name, recs) == 3
        assert read_jsonl(tmp_path / name) == recs
    # gzip output is byte-stable (mtime=0) so reruns produce identical files
    first = (tmp_path / "x.jsonl.gz").read_bytes()
    write_jsonl(tmp_path / "x.jsonl.gz", recs)
    assert (tmp_path / "x.jsonl.gz").read_bytes() == first


def test_malformed_line_names_file_and_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"a": 1}\n\n{"a": \n')
    with pytest.raises(DataError, match=r"bad.jsonl:3: invalid JSON"):
        read_jsonl(p)


def test_schema_error_names_field_and_line(tmp_path):
    good = Problem("t1", "q", Tests("assert", ["assert True"])).to_dict()
    bad = dict(good, id="t2")
    del bad["question"]
    p = tmp_path / "p.jsonl"
    write_jsonl(p, [good, bad])
    with pytest.raises(DataError, match=r"p.jsonl:2: missing field\(s\) \['question'\]"):
        read_jsonl(p, Problem.from_dict)
    typo = dict(good, questoin="x")
    write_jsonl(p, [typo])
    with pytest.raises(DataError, match="unknown field.*questoin.*valid"):
        read_jsonl(p, Problem.from_dict)


def test_problem_roundtrip():
    p = Problem("t", "q", Tests("call", [{"input": [1], "output": 2}], fn_name="f", atol=1e-6), entry_point="f")
    assert Problem.from_dict(json.loads(json.dumps(p.to_dict()))) == p
    with pytest.raises(ValueError, match="fn_name"):
        Tests("call", [])


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    p = tmp_path / "out.jsonl"
    write_jsonl(p, [{"v": 1}])
    with pytest.raises(RuntimeError):
        with atomic_open(p) as f:
            f.write("partial")
            raise RuntimeError("killed")
    assert read_jsonl(p) == [{"v": 1}]
    assert [x.name for x in tmp_path.iterdir()] == ["out.jsonl"]


def test_disk_full_is_reported_and_loses_nothing(tmp_path, monkeypatch):
    p = tmp_path / "out.jsonl"
    write_jsonl(p, [{"v": 1}])

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(jsonl.os, "fsync", full)
    with pytest.raises(OSError, match="disk full while writing .*out.jsonl"):
        write_jsonl(p, [{"v": 2}])
    monkeypatch.undo()
    assert read_jsonl(p) == [{"v": 1}]
    assert len(list(tmp_path.iterdir())) == 1


def test_appender_repairs_truncated_tail(tmp_path):
    p = tmp_path / "shard.jsonl"
    with JsonlAppender(p) as a:
        a.append({"i": 1})
        a.append({"i": 2})
    with open(p, "a") as f:
        f.write('{"i": 3, "tr')  # a writer killed mid-record
    assert list(iter_jsonl(p, skip_truncated_tail=True)) == [{"i": 1}, {"i": 2}]
    with pytest.raises(DataError):
        read_jsonl(p)
    with JsonlAppender(p) as a:
        a.append({"i": 3})
    assert read_jsonl(p) == [{"i": 1}, {"i": 2}, {"i": 3}]


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_jsonl(tmp_path / "nope.jsonl")
