"""Single-shot inference (no search): direct code answers and plan-then-code CoT."""
from __future__ import annotations

from typing import Any, Callable, Sequence

from seer.data.schemas import Problem
from seer.llm.policy import GenerateRequest, Policy
from seer.llm.prompts import COT_STOP, DIRECT_STOP, cot_prompt, direct_prompt
from seer.llm.solutions import to_solution

METHODS: dict[str, tuple[Callable[[Problem], tuple[str, str]], list[str]]] = {
    "direct": (direct_prompt, DIRECT_STOP),
    "cot": (cot_prompt, COT_STOP),
}


def single_shot(policy: Policy, problems: Sequence[Problem], method: str, n: int, temperature: float,
                top_p: float, max_tokens: int, seed: int) -> list[dict[str, Any]]:
    """EvalPlus samples (`task_id`, `solution`) plus the raw answer and token count of each.

    With n == 1 decoding is greedy whatever the temperature: pass@1 of a single sample is then the
    deterministic number model reports quote.
    """
    if method not in METHODS:
        raise ValueError(f"infer.method: single-shot methods are {sorted(METHODS)}, got {method!r}")
    build, stop = METHODS[method]
    prompts, prefixes = [], []
    for p in problems:
        user, prefix = build(p)
        prompts.append(policy.chat_prompt(user, assistant_prefix=prefix))
        prefixes.append(prefix)
    req = GenerateRequest(n=n, temperature=0.0 if n == 1 else temperature, top_p=top_p,
                          max_tokens=max_tokens, stop=list(stop), seed=seed)
    gens = policy.generate(prompts, req)
    samples = []
    for p, prefix, outs in zip(problems, prefixes, gens):
        for g in outs:
            answer = prefix + g.text
            samples.append({"task_id": p.id, "solution": to_solution(p, answer), "answer": answer,
                            "n_tokens": g.n_tokens, "finish_reason": g.finish_reason, "method": method})
    return samples
