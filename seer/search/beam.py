"""Adaptive inference: value-guided step beam search (docs/method.md section 5, Algorithm 1).

Round 0 samples ``b1 * b2`` first steps from the root (some are direct code steps, some plans);
later rounds sample ``b2`` continuations of every kept node. All new candidates are scored with
the value head and the top ``k`` (k starts at ``b1``) are kept. A kept terminal (code) candidate
goes to the answer pool and shrinks ``k`` by one; a kept invalid or too-deep candidate is dropped
and also shrinks ``k``. The search stops when ``k`` reaches 0, no node is left, or at max depth.
Answer: the highest-value terminal; if there is none, the highest-value candidate holding code.

Every round makes ONE generate call and ONE value call for all live problems.
``use_value=False`` ranks by the policy's likelihood instead (the "without value model" ablation);
``direct_fraction`` in [0, 1] forces that share of first-step samples to open a code step and the
rest to open a plan step (0 = "always plan", the "without adaptive CoT" ablation); < 0 is off.
``remove_duplicates`` drops a sampled step identical (after stripping) to a sibling's, before
scoring; ``strip_asserts`` drops ``assert`` lines from the answer's code (both the authors').
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from seer import progress
from seer.config import InferConfig
from seer.data.schemas import Problem
from seer.llm.policy import GenerateRequest, Generation, Policy
from seer.llm.prompts import STEP_STOP, exploration_prompt, value_prefix
from seer.llm.solutions import to_solution
from seer.llm.steps import CODE_OPEN, STEP_OPEN, extract_code, parse_step

DIRECT_OPEN = f"{CODE_OPEN}\n```python\n"  # forces a code (direct) first step
PLAN_OPEN = "1."  # forces a plan first step


@dataclass
class Candidate:
    steps: list[str]
    value: float = 0.0
    logprob_sum: float = 0.0  # sum over the path's tokens of log-probs (likelihood ranking)
    n_tokens: int = 0
    terminal: bool = False
    error: str | None = None
    code: str | None = None

    @property
    def mean_logprob(self) -> float:
        return self.logprob_sum / self.n_tokens if self.n_tokens else 0.0

    @property
    def direct(self) -> bool:
        return self.terminal and len(self.steps) == 1


@dataclass
class BeamState:
    problem: Problem
    k: int
    beam: list[Candidate] = field(default_factory=lambda: [Candidate([])])
    answers: list[Candidate] = field(default_factory=list)
    seen: list[Candidate] = field(default_factory=list)  # every scored candidate (fallback answer)
    depth: int = 0
    tokens: int = 0

    @property
    def live(self) -> bool:
        return self.k > 0 and bool(self.beam)


def _round_requests(states: Sequence[BeamState], depth: int, policy: Policy, s: InferConfig
                    ) -> tuple[list[str], list[tuple[int, Candidate, str]], int]:
    """This round's prompts, who each belongs to (state, parent, forced opener), and samples per prompt.

    All problems advance one depth per round, so one request serves every live problem: round 0
    asks b1*b2 samples of the root (one prompt per sample when openers are forced), later rounds
    b2 samples of each kept node.
    """
    if depth == 0 and s.direct_fraction >= 0:
        total = s.b1 * s.b2
        n_direct = round(s.direct_fraction * total)
        openers, n = [DIRECT_OPEN] * n_direct + [PLAN_OPEN] * (total - n_direct), 1
    else:
        openers, n = [""], (s.b1 * s.b2 if depth == 0 else s.b2)
    prompts: list[str] = []
    owners: list[tuple[int, Candidate, str]] = []
    for i, st in enumerate(states):
        if not st.live:
            continue
        for node in st.beam:
            user, prefix = exploration_prompt(st.problem, (), node.steps)
            for opener in openers:
                prompts.append(policy.chat_prompt(user, assistant_prefix=prefix + opener))
                owners.append((i, node, opener))
    return prompts, owners, n


def beam_search(policy: Policy, problems: Sequence[Problem], s: InferConfig) -> list[BeamState]:
    if s.use_value and not policy.has_value_head:
        raise ValueError("infer.use_value=true needs a policy-value model (io.model); "
                         "set infer.use_value=false to rank by likelihood")
    states = [BeamState(p, k=s.b1) for p in problems]
    depth = 0
    while any(st.live for st in states):
        prompts, owners, n = _round_requests(states, depth, policy, s)
        req = GenerateRequest(n=n, temperature=s.temperature, top_p=s.top_p, max_tokens=s.max_step_tokens,
                              stop=list(STEP_STOP), seed=s.random_seed + depth)
        new: list[tuple[int, Candidate]] = []
        siblings: dict[tuple[int, int], set[str]] = {}
        for (i, parent, opener), gens in zip(owners, policy.generate(prompts, req)):
            seen = siblings.setdefault((i, id(parent)), set())
            for g in gens:
                states[i].tokens += g.n_tokens
                if s.remove_duplicates:
                    key = (opener + g.text).strip()
                    if key in seen:
                        continue
                    seen.add(key)
                new.append((i, _child(parent, opener, g, depth + 1, s.max_depth)))
        _score(policy, states, new, s)
        by_state: dict[int, list[Candidate]] = {}
        for i, c in new:
            by_state.setdefault(i, []).append(c)
        for i, st in enumerate(states):
            if not st.live:
                continue
            cands = by_state.get(i, [])
            st.seen.extend(cands)
            kept: list[Candidate] = []
            for c in sorted(cands, key=lambda c: _rank_key(c, s), reverse=True)[: st.k]:
                if c.error is not None:
                    st.k -= 1  # invalid or too deep: dropped, and the beam shrinks
                elif c.terminal:
                    st.answers.append(c)
                    st.k -= 1
                else:
                    kept.append(c)
            st.beam = kept
            st.depth = depth + 1
        depth += 1
        progress.set_done(sum(not st.live for st in states), rounds=1, nodes=len(new))
    return states


def _child(parent: Candidate, opener: str, g: Generation, depth: int, max_depth: int) -> Candidate:
    parsed = parse_step(opener + g.text)
    c = Candidate(parent.steps + [parsed.text], logprob_sum=parent.logprob_sum + g.mean_logprob * g.n_tokens,
                  n_tokens=parent.n_tokens + g.n_tokens, terminal=parsed.is_terminal, error=parsed.error,
                  code=parsed.code if parsed.code is not None else extract_code(parsed.body))
    if c.error is None and not c.terminal and depth >= max_depth:
        c.error = "too deep"
    return c


def _score(policy: Policy, states: Sequence[BeamState], new: list[tuple[int, Candidate]], s: InferConfig) -> None:
    if not s.use_value:
        return
    texts = []
    for i, c in new:
        user, _ = exploration_prompt(states[i].problem, (), ())
        texts.append(policy.chat_prompt(user, assistant_prefix=value_prefix(c.steps, c.terminal)))
    for (_, c), v in zip(new, policy.value(texts)):
        c.value = float(v)


def _rank_key(c: Candidate, s: InferConfig) -> float:
    return c.value if s.use_value else c.mean_logprob


def choose_answer(st: BeamState, s: InferConfig) -> Candidate | None:
    if st.answers:
        return max(st.answers, key=lambda c: _rank_key(c, s))
    with_code = [c for c in st.seen if c.code]
    return max(with_code, key=lambda c: _rank_key(c, s)) if with_code else None


def without_asserts(code: str) -> str:
    """The code without its ``assert`` lines (the authors' solver_demo.py 125-129)."""
    return "\n".join(line for line in code.split("\n") if not line.strip().startswith("assert"))


def beam_search_samples(policy: Policy, problems: Sequence[Problem], s: InferConfig) -> list[dict[str, Any]]:
    """EvalPlus samples with a per-task trace (chosen path, values, direct or CoT)."""
    out = []
    for st in beam_search(policy, problems, s):
        ans = choose_answer(st, s)
        code = ans.code if ans is not None and ans.code else ""
        if code and s.strip_asserts:
            code = without_asserts(code)
        out.append({
            "task_id": st.problem.id,
            "solution": to_solution(st.problem, f"```python\n{code}\n```") if code else "",
            "n_tokens": st.tokens,
            "method": "beam",
            "trace": {
                "steps": ans.steps if ans else [],
                "value": ans.value if ans else None,
                "mean_logprob": ans.mean_logprob if ans else None,
                "direct": bool(ans and ans.direct),
                "from_pool": bool(ans and ans.terminal and ans.error is None),
                "n_answers": len(st.answers),
                "rounds": st.depth,
                "answer_values": [a.value for a in st.answers],
            },
        })
    return out

