"""Reusable test doubles: a scripted Policy and an in-process executor.

``ScriptedPolicy`` implements ``seer.llm.policy.Policy``. Its outputs are a function of the
prompt, the call index and the sample index, so a test decides exactly what the "model" says::

    policy = ScriptedPolicy(lambda prompt, call, j: "1. plan\\n</step>")
    policy = ScriptedPolicy(script, values=lambda text: 0.5)   # with a value head

A script may return a ``str`` (token count = whitespace words, log-prob = ``logprob``) or a
``Generation`` (full control of the prior). Stop strings are applied as a real backend does:
the text is cut right after the first stop string, which is kept. Every call is recorded in
``calls`` / ``value_calls`` for assertions such as "one generate call per round".
"""
from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable, Sequence

from seer.data.schemas import Tests
from seer.llm.policy import GenerateRequest, Generation

Script = Callable[[str, int, int], "str | Generation"]


class ScriptedPolicy:
    def __init__(self, script: Script, values: Callable[[str], float] | None = None, logprob: float = -0.5) -> None:
        self.script = script
        self.values = values
        self.logprob = logprob
        self.has_value_head = values is not None
        self.calls: list[tuple[list[str], GenerateRequest]] = []
        self.value_calls: list[list[str]] = []

    def generate(self, prompts: Sequence[str], req: GenerateRequest) -> list[list[Generation]]:
        k = len(self.calls)
        self.calls.append((list(prompts), req))
        out = []
        for p in prompts:
            row = []
            for j in range(req.n):
                g = self.script(p, k, j)
                if isinstance(g, str):
                    g = Generation(g, self.count_tokens(g), self.logprob)
                row.append(_apply_stop(g, req.stop))
            out.append(row)
        return out

    def value(self, texts: Sequence[str]) -> list[float]:
        if self.values is None:
            raise NotImplementedError("this ScriptedPolicy has no value head")
        self.value_calls.append(list(texts))
        return [float(self.values(t)) for t in texts]

    def chat_prompt(self, user: str, system: str | None = None, assistant_prefix: str = "") -> str:
        return f"<system>{system or ''}</system>\n<user>{user}</user>\n<assistant>{assistant_prefix}"

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def _apply_stop(g: Generation, stop: Sequence[str]) -> Generation:
    cuts = [g.text.index(s) + len(s) for s in stop if s in g.text]
    if not cuts:
        return g
    return Generation(g.text[:min(cuts)], g.n_tokens, g.mean_logprob, "stop")


@dataclass
class FakeResult:
    passed: bool
    status: str
    pass_rate: float


class FakeExecutor:
    """An executor whose verdict is ``judge(code, tests)``; futures are already resolved."""

    def __init__(self, judge: Callable[[str, Tests], bool]) -> None:
        self.judge = judge
        self.runs: list[str] = []

    def submit(self, code: str, tests: Tests) -> Future[FakeResult]:
        self.runs.append(code)
        ok = bool(self.judge(code, tests))
        f: Future[FakeResult] = Future()
        f.set_result(FakeResult(ok, "passed" if ok else "failed", 1.0 if ok else 0.0))
        return f


def exec_judge(code: str, tests: Tests) -> bool:
    """Run trusted test code in-process (assert-kind tests only): passes iff nothing raises."""
    if tests.kind != "assert":
        raise ValueError("exec_judge handles assert-kind tests only")
    env: dict[str, object] = {}
    try:
        exec("\n".join([tests.prelude, code, tests.setup, *tests.cases]), env)  # noqa: S102 - trusted test code
    except Exception:
        return False
    return True
