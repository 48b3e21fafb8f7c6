"""EvalPlus benchmarks (MBPP+, HumanEval+) as call-based Problems.

EvalPlus tests a candidate by differential testing: call it on ``base_input`` + ``plus_input`` and
compare with the canonical solution's outputs (``atol`` for floats). The data files hold inputs
only; expected outputs are computed by running the canonical solution in the sandbox
(``seer.sandbox.fill_expected``), exactly as EvalPlus computes its ground truth.

The files store inputs as JSON, which has no tuples, sets or complex numbers; EvalPlus restores
them per task (``mbpp_deserialize_inputs``). We restore them the same way at load time and store
them in the sandbox's tagged JSON (``seer.sandbox.codec``), so the candidate receives the same
Python values EvalPlus passes. Outputs are compared by EvalPlus's own rule
(``Tests.rule = "evalplus:mbpp" | "evalplus:humaneval"``, see ``seer.sandbox.compare``: exact
``==``, its special oracles, ``np.allclose`` for floats); ``Tests.n_base`` marks where the plus
inputs start, so one run gives both the base and the plus verdict. Expected outputs and per-input
time limits (``Tests.time_limits``, EvalPlus's ``max(1 s, 4 x reference time)``) are computed in
``bench_data`` (``seer.sandbox.references.fill_expected_outputs``).

The conversion table is a port of evalplus/data/mbpp.py (Apache-2.0, the EvalPlus authors).
"""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import Any

from seer.data.files import read_bundled_jsonl, read_bundled_lines
from seer.data.jsonl import iter_jsonl
from seer.data.mbpp import mbpp_question
from seer.data.schemas import Problem, Tests

log = logging.getLogger(__name__)

MBPPPLUS_FILE = "evalplus/MbppPlus-399.jsonl.gz"
MBPPPLUS_V02_IDS = "evalplus/mbppplus-v0.2-task-ids.txt"

Args = list[Any]


def _deep_tuple(x: Any) -> Any:
    return tuple(_deep_tuple(i) for i in x) if isinstance(x, list) else x


def _tuples(inp: Args) -> Args:
    return [tuple(a) for a in inp]


def _tuples2(inp: Args) -> Args:
    return [[tuple(x) for x in a] for a in inp]


# task number -> the real arguments of one JSON input (evalplus.data.mbpp.mbpp_deserialize_inputs)
_MBPP_ARGS: dict[int, Callable[[Args], Args]] = {
    **{t: _tuples for t in (2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596,
                            616, 630, 726, 740, 744, 809)},
    **{t: _tuples2 for t in (63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780)},
    **{t: lambda inp: [[tuple(x) for x in inp[0]], inp[1]] for t in (75, 413, 444, 753)},
    **{t: lambda inp: [inp[0], tuple(inp[1])] for t in (106, 750)},
    115: lambda inp: [[set(x) if isinstance(x, list) and len(x) else {} for x in inp[0]]],
    124: lambda inp: [float(inp[0]), complex(inp[1])],
    **{t: lambda inp: [tuple(inp[0]), inp[1]] for t in (250, 405, 446, 617, 720, 763, 808)},
    **{t: lambda inp: [tuple(tuple(x) for x in a) for a in inp] for t in (259, 401, 445)},
    278: lambda inp: [tuple(tuple(x) if isinstance(x, list) else x for x in inp[0])],
    307: lambda inp: [tuple(inp[0]), inp[1], inp[2]],
    722: lambda inp: [{k: tuple(v) for k, v in inp[0].items()}, *inp[1:]],
    252: lambda inp: [complex(inp[0])],
    **{t: lambda inp: [_deep_tuple(a) for a in inp] for t in (580, 615, 791)},
}

def _call_tests(rec: dict[str, Any], use_plus: bool, rule: str, prelude: str = "",
                convert: Callable[[Args], Args] | None = None) -> Tests:
    # the sandbox's value format (tuples, sets stay distinct from lists) and its comparison rules;
    # imported here so that importing a data loader does not load the sandbox package
    from seer.sandbox.codec import encode
    from seer.sandbox.compare import WRAPPER

    base, plus = list(rec["base_input"]), (list(rec["plus_input"]) if use_plus else [])
    inputs = base + plus
    if convert is not None:
        inputs = [convert(list(i)) for i in inputs]
    # the task's own atol (0 when it has none): compare.py applies EvalPlus's 1e-6 for float outputs
    return Tests(kind="call", cases=[{"input": encode(list(i))} for i in inputs], prelude=prelude,
                 fn_name=WRAPPER if prelude else rec["entry_point"], atol=float(rec.get("atol") or 0),
                 rule=rule, n_base=len(base) if use_plus else 0)


def mbppplus_problem(rec: dict[str, Any], use_plus: bool = True, source: str = "mbppplus") -> Problem:
    """One EvalPlus MBPP+ record (raw JSON form) as a Problem without expected outputs."""
    num = int(rec["task_id"].split("/")[1])
    from seer.sandbox.compare import evalplus_preludes  # the comparison rules live with the sandbox

    entry = rec["entry_point"]
    prelude, _ = evalplus_preludes(entry)
    text = rec["prompt"].strip().strip("'\"").strip()
    asserts = [a.strip() for a in rec.get("assertion", "").splitlines() if a.strip().startswith("assert")]
    example = asserts[0] if asserts else ""
    # v0.2 records carry the example assert inside the docstring prompt already
    if example and example in text:
        text = text.replace(example, "").strip()
    question = mbpp_question(text, example) if example else text
    return Problem(
        id=rec["task_id"],
        question=question,
        tests=_call_tests(rec, use_plus, "evalplus:mbpp", prelude, _MBPP_ARGS.get(num)),
        entry_point=entry,
        solution=rec["canonical_solution"].strip("\n") + "\n",
        source=source,
        meta={"n_base": len(rec["base_input"]), "n_plus": len(rec["plus_input"]) if use_plus else 0},
    )


def humanevalplus_problem(rec: dict[str, Any], use_plus: bool = True) -> Problem:
    entry = rec["entry_point"]
    return Problem(
        id=rec["task_id"],
        question=rec["prompt"],
        tests=_call_tests(rec, use_plus, "evalplus:humaneval"),
        entry_point=entry,
        prompt=rec["prompt"],
        solution=rec["prompt"] + rec["canonical_solution"],
        source="humaneval_plus",
        meta={"n_base": len(rec["base_input"]), "n_plus": len(rec["plus_input"]) if use_plus else 0},
    )


def load_mbppplus_bundled(ids: str = "v0.2", use_plus: bool = True) -> list[Problem]:
    """The bundled 399-task MBPP+ pre-release; ``ids="v0.2"`` keeps the 378 tasks of MBPP+ v0.2."""
    recs = read_bundled_jsonl(MBPPPLUS_FILE)
    if ids == "v0.2":
        keep = set(read_bundled_lines(MBPPPLUS_V02_IDS))
        recs = [r for r in recs if r["task_id"] in keep]
    elif ids != "all":
        raise ValueError(f"bench.mbppplus_ids must be 'v0.2' or 'all', got {ids!r}")
    out = [mbppplus_problem(r, use_plus) for r in recs]
    log.info("mbppplus: %d problems (ids=%s, %s tests)", len(out), ids, "base+plus" if use_plus else "base")
    return out


def _official(env: str, loader: Callable[[], dict[str, dict]], name: str) -> list[dict[str, Any]]:
    override = os.environ.get(env)
    if override:
        return list(iter_jsonl(override))
    try:
        return list(loader().values())
    except ImportError:
        raise ValueError(f"benchmark {name} needs the evalplus package (pip install evalplus) "
                         f"or a local file in ${env}") from None
    except OSError as e:
        raise ValueError(f"benchmark {name}: evalplus could not download its data ({e}); "
                         f"offline, point ${env} at a local copy of the jsonl") from None


def _evalplus_mbpp() -> dict[str, dict]:
    from evalplus.data import get_mbpp_plus
    from evalplus.data.mbpp import mbpp_serialize_inputs

    # get_mbpp_plus deserialises inputs (tuples, sets, complex); put them back in their JSON form
    plus = get_mbpp_plus()
    for tid, t in plus.items():
        for k in ("base_input", "plus_input"):
            t[k] = json.loads(json.dumps(mbpp_serialize_inputs(tid, t[k])))
    return plus


def _evalplus_humaneval() -> dict[str, dict]:
    from evalplus.data import get_human_eval_plus

    return get_human_eval_plus()


def load_mbppplus_official(use_plus: bool = True) -> list[Problem]:
    recs = _official("MBPP_OVERRIDE_PATH", _evalplus_mbpp, "mbpp_plus_official")
    out = [mbppplus_problem(r, use_plus, source="mbpp_plus_official") for r in recs]
    log.info("mbpp_plus_official: %d problems", len(out))
    return out


def load_humanevalplus(use_plus: bool = True) -> list[Problem]:
    recs = _official("HUMANEVAL_OVERRIDE_PATH", _evalplus_humaneval, "humaneval_plus")
    out = [humanevalplus_problem(r, use_plus) for r in recs]
    log.info("humaneval_plus: %d problems", len(out))
    return out
