"""`seer infer`: single-shot baselines over several benchmarks in one call equal one call per benchmark."""
import json

import pytest
from train_fixtures import TINY_OVERRIDES, one_thread  # noqa: F401 (a fixture, used by pytestmark)

from seer.cli import main
from seer.config import compose
from seer.data.jsonl import read_jsonl, write_jsonl
from seer.data.schemas import Problem, Tests
from seer.stages.infer import io_pairs

pytestmark = pytest.mark.usefixtures("one_thread")
INFER = [*TINY_OVERRIDES, "infer.max_tokens=12", "infer.n_samples=1"]


def _bench(path, prefix, n):
    problems = [Problem(id=f"{prefix}/{i}", question=f"Return {i} plus one.", entry_point=f"f{i}",
                        prompt=f"def f{i}(x):\n    \"\"\"x + {i}\"\"\"\n",
                        tests=Tests(kind="assert", cases=[f"assert f{i}(1) == {i + 1}"])) for i in range(n)]
    write_jsonl(path, [p.to_dict() for p in problems])
    return path


@pytest.mark.parametrize("method", ["direct", "cot"])
def test_benchmarks_in_one_call_give_each_its_own_samples_as_separate_calls_do(tiny_model_dir, tmp_path, method):
    a, b = _bench(tmp_path / "a.jsonl", "A", 3), _bench(tmp_path / "b.jsonl", "B", 2)
    for bench in (a, b):
        assert main(["infer", *INFER, f"infer.method={method}", f"io.bench={bench}",
                     f"io.out={tmp_path / 'alone' / bench.stem / 'samples.jsonl'}"]) == 0
    outs = [tmp_path / "joint" / x / "samples.jsonl" for x in ("a", "b")]
    assert main(["infer", *INFER, f"infer.method={method}", f"io.benches=[{a},{b}]",
                 f"io.outs=[{outs[0]},{outs[1]}]"]) == 0
    for out, stem, n in zip(outs, ("a", "b"), (3, 2)):
        joint = read_jsonl(out)
        alone = read_jsonl(tmp_path / "alone" / stem / "samples.jsonl")
        assert [s["task_id"] for s in joint] == [s["task_id"] for s in alone] and len(joint) == n
        # greedy decoding: a row's tokens do not depend on the other rows of its batch
        assert [s["answer"] for s in joint] == [s["answer"] for s in alone]
        stats = json.loads(out.with_name("samples.jsonl.stats.json").read_text())
        assert stats["n_tasks"] == n and stats["tokens"] == sum(s["n_tokens"] for s in joint)
        assert stats["generated_with"] == [str(a), str(b)] and stats["wall_time_s"] <= stats["job_wall_time_s"]
        assert out.with_name("samples.jsonl.config.yaml").is_file()  # the resolved config beside each output


def test_io_pairs_name_the_mistake():
    assert io_pairs(compose([*INFER, "io.bench=x", "io.out=y"])) == [("x", "y")]
    with pytest.raises(ValueError, match="parallel lists"):
        io_pairs(compose([*INFER, "io.benches=[a,b]", "io.outs=[x]"]))
    with pytest.raises(ValueError, match="not both"):
        io_pairs(compose([*INFER, "io.benches=[a]", "io.outs=[x]", "io.out=y"]))
    with pytest.raises(ValueError, match="io.bench, io.out are required"):
        io_pairs(compose(INFER))
