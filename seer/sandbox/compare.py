"""Comparisons done in the parent, on values it decoded itself (never on sandbox objects)."""
from __future__ import annotations

import math
from typing import Any


def values_equal(actual: Any, expected: Any, atol: float = 0.0) -> bool:
    """Python ``==`` on plain data, except: floats match within ``atol`` (NaN matches NaN), and
    lists and tuples match each other element-wise (JSON stores tuples as lists)."""
    if isinstance(actual, float) or isinstance(expected, float):
        if isinstance(actual, bool) or isinstance(expected, bool):
            return actual == expected
        if not (isinstance(actual, (int, float)) and isinstance(expected, (int, float))):
            return False
        if math.isnan(actual) or math.isnan(expected):
            return math.isnan(actual) and math.isnan(expected)
        return actual == expected or abs(actual - expected) <= atol
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        return len(actual) == len(expected) and all(
            values_equal(a, e, atol) for a, e in zip(actual, expected))
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(
            values_equal(actual[k], expected[k], atol) for k in actual)
    return bool(actual == expected)


def stdout_equal(actual: str, expected: str) -> bool:
    """LiveCodeBench-style: same lines once trailing whitespace and blank trailing lines go."""
    return _lines(actual) == _lines(expected)


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines()]


def preview(value: Any, limit: int = 120) -> str:
    s = repr(value)
    return s if len(s) <= limit else s[: limit - 3] + "..."
