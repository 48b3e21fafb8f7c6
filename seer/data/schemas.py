"""Plain-data records exchanged between pipeline stages (jsonl, never pickles).

Every stage reads and writes these as dicts via `to_dict` / `from_dict`; `from_dict` names the
missing or unexpected field so a malformed line can be reported with its file and line number.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

TestKind = Literal["assert", "call", "stdio"]
TEST_KINDS: tuple[str, ...] = ("assert", "call", "stdio")


class SchemaError(ValueError):
    """A record does not match its schema; the message names the field."""


@dataclass
class Tests:
    """The tests of one problem, in one of three kinds.

    - ``assert``: ``cases`` are Python statements (usually ``assert f(x) == y``) run after the
      candidate code; ``setup`` runs between the candidate and the cases (MBPP's test_setup_code,
      HumanEval's ``def check(candidate): ...``).
    - ``call``: ``cases`` are ``{"input": [args...], "output": value}``; the candidate's
      ``fn_name`` (a function, or a method of ``class Solution`` when ``class_name`` is set) is
      called with the args and its return value compared with ``output`` (``atol`` for floats).
      ``output`` may be absent when expected values are computed from a reference solution.
    - ``stdio``: ``cases`` are ``{"input": str, "output": str}``; the candidate runs as a script
      with the input on stdin and its stdout is compared line by line, whitespace-trimmed.

    ``prelude`` runs before the candidate code (imports the tests rely on).

    ``rule`` names the comparison rule of a call/stdio test's output, as the benchmark's own
    harness compares (``seer.sandbox.compare.RULES``; empty = seer's default). ``n_base``: the
    first ``n_base`` cases are EvalPlus's base tests, the rest its plus tests (0 = no split).
    ``time_limits``: seconds per case (same length as ``cases``), computed from the reference
    solution's measured time as EvalPlus does; empty = only the sandbox's flat ``timeout``.
    """

    __test__ = False  # not a pytest class

    kind: str
    cases: list[Any]
    prelude: str = ""
    setup: str = ""
    fn_name: str = ""
    class_name: str = ""
    atol: float = 0.0
    rule: str = ""
    n_base: int = 0
    time_limits: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.kind not in TEST_KINDS:
            raise SchemaError(f"tests.kind must be one of {TEST_KINDS}, got {self.kind!r}")
        if self.kind == "call" and not self.fn_name:
            raise SchemaError("tests.fn_name is required for call-based tests")
        if self.time_limits and len(self.time_limits) != len(self.cases):
            raise SchemaError(f"tests.time_limits has {len(self.time_limits)} entries for "
                              f"{len(self.cases)} cases")
        if not 0 <= self.n_base <= len(self.cases):
            raise SchemaError(f"tests.n_base must be within 0..{len(self.cases)}, got {self.n_base}")


@dataclass
class Problem:
    """One programming problem: a seed for exploration or a benchmark task."""

    id: str
    question: str
    tests: Tests
    entry_point: str = ""
    prompt: str = ""  # benchmark-style code prompt (signature + docstring) when there is one
    solution: str = ""  # reference solution (full program), empty when unknown
    source: str = ""
    difficulty: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Problem":
        return _from_dict(cls, d)


PATH_SOURCES: tuple[str, ...] = ("mcts", "perturb", "refine", "direct")


@dataclass
class TrainPath:
    """One training path (stage-1/2 data): a question and the steps that answer it.

    ``question`` is the problem as exploration prompts show it (``prompts.format_question``), so the
    training prompt built from it is the inference prompt of the same problem.

    The assistant response is the steps joined by newlines (``response()``), the last step being
    the code step. ``reward`` is +1 (the code passes the tests) or -1: NLL is taken on correct
    paths only. ``q_values[i]`` is the value target on the last token of ``steps[i]``; ``None``
    masks a step (no target). ``repairs``: for a refined path, the steps of the incorrect path it
    rewrites (``train.mask_refined_prefix`` masks the targets of the steps they share).
    """

    problem_id: str
    question: str
    steps: list[str]
    q_values: list[float | None]
    reward: float
    source: str
    config_hash: str = ""
    repairs: list[str] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        if self.source not in PATH_SOURCES:
            raise SchemaError(f"source must be one of {PATH_SOURCES}, got {self.source!r}")
        if not self.steps:
            raise SchemaError("steps must not be empty")
        if len(self.q_values) != len(self.steps):
            raise SchemaError(f"q_values has {len(self.q_values)} entries for {len(self.steps)} steps")

    @property
    def correct(self) -> bool:
        return self.reward > 0

    def response(self) -> str:
        return "\n".join(self.steps)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        if not self.repairs:
            del d["repairs"]  # only refined paths have one
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainPath":
        return _from_dict(cls, d)


THINKING_METHODS: tuple[str, ...] = ("sra", "cot", "tot")


@dataclass
class SftRecord:
    """One SFT example of thinking data (SRA-MCTS and its CoT/ToT baselines, docs/method.md section 6):
    the (question, thinking, code) triple and the chat turn it trains, ``prompt`` (the user
    message) -> ``response`` (the assistant text: thinking, then the code block). ``passed`` is
    whether the code passed the seed tests (None when they were not run)."""

    problem_id: str
    method: str
    question: str
    thinking: str
    code: str
    prompt: str
    response: str
    passed: bool | None = None
    config_hash: str = ""

    def __post_init__(self) -> None:
        if self.method not in THINKING_METHODS:
            raise SchemaError(f"method must be one of {THINKING_METHODS}, got {self.method!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SftRecord":
        return _from_dict(cls, d)


def _from_dict(cls: type, d: Any) -> Any:
    if not isinstance(d, dict):
        raise SchemaError(f"expected an object for {cls.__name__}, got {type(d).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - set(fields))
    if unknown:
        raise SchemaError(f"unknown field(s) {unknown} for {cls.__name__}; valid: {sorted(fields)}")
    missing = [
        n
        for n, f in fields.items()
        if n not in d
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING  # type: ignore[misc]
    ]
    if missing:
        raise SchemaError(f"missing field(s) {missing} for {cls.__name__}")
    kwargs = dict(d)
    if cls is Problem:
        kwargs["tests"] = _from_dict(Tests, d["tests"])
    return cls(**kwargs)
