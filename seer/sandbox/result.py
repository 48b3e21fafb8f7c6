"""Outcome of running one program against its tests (plain data; jsonl-friendly)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("pass", "fail", "error", "timeout")


@dataclass
class TestOutcome:
    __test__ = False  # not a pytest class

    status: str  # "pass" | "fail" | "error" | "timeout"
    detail: str = ""


@dataclass
class ExecResult:
    """``status``: "pass" only if every test passed and the run was verified (the harness saw its
    per-run token after the last test); "fail" if it completed with a failing test; "error" if the
    program did not load or the run ended abnormally; "timeout" if it ran out of time."""

    status: str
    tests: list[TestOutcome] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def pass_rate(self) -> float:
        if not self.tests:
            return 1.0 if self.passed else 0.0
        return sum(t.status == "pass" for t in self.tests) / len(self.tests)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExecResult:
        return cls(status=d["status"], tests=[TestOutcome(**t) for t in d.get("tests", [])],
                   stdout=d.get("stdout", ""), stderr=d.get("stderr", ""),
                   duration=float(d.get("duration", 0.0)))
