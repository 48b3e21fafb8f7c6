"""Expected outputs of call tests computed from a reference solution (MBPP+ ships inputs only)."""
from __future__ import annotations

import dataclasses
import json

from seer.data.schemas import Tests
from seer.sandbox.execute import SandboxError, run_raw
from seer.sandbox.payload import Limits, prepare


def fill_expected(reference: str, tests: Tests, timeout: float = 30.0, memory_mb: int = 1024) -> Tests:
    """A copy of call ``tests`` where every case without ``"output"`` gets the return value of
    ``reference`` on its input (tagged JSON, see ``seer.sandbox.codec``), run in the sandbox.

    ``timeout`` covers all the missing cases together. Raises ``ValueError`` naming the case if
    the reference fails on one, ``SandboxError`` if the run did not complete.
    """
    if tests.kind != "call":
        raise ValueError(f"fill_expected needs call tests, got kind {tests.kind!r}")
    missing = [i for i, c in enumerate(tests.cases) if "output" not in c]
    cases = [dict(c) for c in tests.cases]
    if missing:
        probe = dataclasses.replace(tests, cases=[{"input": cases[i]["input"]} for i in missing], time_limits=[])
        limits = Limits(timeout, memory_mb, 65536)
        raw = run_raw(prepare(reference, probe, limits), len(missing), limits)
        if raw.load_error is not None:
            raise ValueError(f"reference solution does not load: {raw.load_error}")
        if not raw.verified:
            raise SandboxError(f"reference run {'timed out' if raw.killed else 'ended abnormally'}: "
                               f"{raw.stderr[-500:]}")
        if raw.timed_out:
            raise ValueError(f"reference solution ran out of time ({timeout} s for {len(missing)} cases)")
        for i, (status, payload) in zip(missing, raw.cases):
            if status != "value":
                raise ValueError(f"reference solution failed on tests.cases[{i}]: {json.loads(payload)}")
            cases[i]["output"] = json.loads(payload)
    return dataclasses.replace(tests, cases=cases)
