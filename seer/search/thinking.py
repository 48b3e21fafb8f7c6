"""The thinking-data baselines of SRA-MCTS (docs/method.md section 6), batched across problems.

- CoT: one "Let's think step by step" answer per problem (`seer.llm.prompts.cot_prompt`, the same
  plan-then-code prompt the CoT inference uses); its numbered plan is the thinking (code is cut
  out later by the cleaning rule, as the authors do).
- ToT: depth-first search with depth ``depth`` and branching ``branching`` as the authors ran it
  (select one child per level, greedily): at each level the node gets ``branching`` candidate
  next steps (the SRA proposal prompt without reflection or siblings), each candidate gets the
  0-10 self-evaluation, and the best one is descended into. A candidate scored at least
  ``end_gate`` ends the search; otherwise the thinking is the path to the highest-scored node.
  Each level is ONE generate call for the candidates of every live problem (plus retry rounds
  for empty or duplicate candidates) and ONE call for their evaluations.

Both are explorers for ``seer.search.shards.run_shard``: they emit one thinking record per problem.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from seer.config import ExploreConfig, SraConfig
from seer.data.schemas import Problem
from seer.llm.policy import GenerateRequest, Policy
from seer.llm.prompts import COT_STOP, cot_prompt, format_question
from seer.llm.thinking_prompts import (
    PROPOSAL_STOP,
    evaluation_prompt,
    is_duplicate,
    number_steps,
    parse_evaluation,
    parse_proposal,
    proposal_prompt,
)
from seer.search.sra import ChatCalls, best_node, chat_request, reward
from seer.search.tree import Node, iter_nodes

Emit = Callable[[dict[str, Any]], None]


def _chunks(items: Sequence[Problem], n: int) -> list[Sequence[Problem]]:
    return [items[i:i + n] for i in range(0, len(items), max(1, n))]


class CotThinking:
    """One CoT answer per problem; one generate call per ``batch_problems`` problems."""

    def __init__(self, policy: Policy, settings: SraConfig, max_tokens: int,
                 batch_problems: int = ExploreConfig.batch_problems) -> None:
        self.settings, self.max_tokens, self.batch_problems = settings, max_tokens, batch_problems
        self._generate = ChatCalls(policy)
        self.engine = self._generate.engine

    def __call__(self, problems: Sequence[Problem], emit: Emit) -> None:
        st = self.settings
        req = GenerateRequest(n=1, temperature=st.temperature, top_p=st.top_p, max_tokens=self.max_tokens,
                              stop=list(COT_STOP))
        for chunk in _chunks(problems, self.batch_problems):
            t0 = time.time()
            parts = [cot_prompt(p) for p in chunk]
            for p, (_, prefix), g in zip(chunk, parts, self._generate(parts, req)):
                emit({"problem_id": p.id, "method": "cot", "thinking": cot_thinking(prefix, g.text),
                      "stats": {"tokens": g.n_tokens, "finish_reason": g.finish_reason,
                                "wall_time": round(time.time() - t0, 3)}})


def cot_thinking(prefix: str, continuation: str) -> str:
    """The answer from its numbered plan on: the prefix's "Let's think step by step." line is the
    prompt's, not the thinking's."""
    text = prefix + continuation
    i = text.find("1.")
    return (text[i:] if i >= 0 else text).strip()


@dataclass(eq=False)
class _TotSearch:
    problem: Problem
    question: str
    root: Node
    t_start: float
    node: Node | None = None  # the node expanded at this level; None once finished
    end: Node | None = None
    tokens: int = 0
    new: list[Node] = field(default_factory=list)


class TotThinking:
    """ToT depth-first search (one child kept per level) over many problems."""

    def __init__(self, policy: Policy, settings: SraConfig, depth: int, branching: int, end_gate: float,
                 batch_problems: int = ExploreConfig.batch_problems) -> None:
        self.policy, self.settings, self.batch_problems = policy, settings, batch_problems
        self.depth, self.branching, self.end_gate = depth, branching, end_gate
        self._generate = ChatCalls(policy)
        self.engine = self._generate.engine

    def __call__(self, problems: Sequence[Problem], emit: Emit) -> None:
        for chunk in _chunks(problems, self.batch_problems):
            searches = [_TotSearch(p, format_question(p), Node(), time.time()) for p in chunk]
            for s in searches:
                s.node = s.root
            for _ in range(self.depth):
                live = [s for s in searches if s.node is not None]
                if not live:
                    break
                self._level(live)
            for s in searches:
                emit(self._record(s))

    def _level(self, live: list[_TotSearch]) -> None:
        st = self.settings
        # candidate slots: `branching` per search, re-drawn while empty or duplicate
        slots = [s for s in live for _ in range(self.branching)]
        for _ in range(1 + st.max_retries):
            if not slots:
                break
            users = [proposal_prompt(s.question, s.node.steps()) for s in slots]  # type: ignore[union-attr]
            gens = self._generate(users, chat_request(st, st.max_step_tokens, PROPOSAL_STOP))
            again = []
            for s, g in zip(slots, gens):
                assert s.node is not None
                s.tokens += g.n_tokens
                step = parse_proposal(g.text)
                if step is None or is_duplicate(step, [c.step for c in s.new], s.node.steps()):
                    if g.finish_reason != "context":
                        again.append(s)
                    continue
                s.new.append(s.node.add_child(Node(step=step, prior=math.exp(g.mean_logprob), n_tokens=g.n_tokens)))
            slots = again
        items = [(s, ch) for s in live for ch in s.new]
        if items:
            users = [evaluation_prompt(s.question, ch.steps()) for s, ch in items]
            gens = self._generate(users, chat_request(st, st.max_eval_tokens))
            for (s, ch), (_, prefix), g in zip(items, users, gens):
                s.tokens += g.n_tokens
                score = parse_evaluation(prefix + g.text)
                ch.meta.update(score=score, r=score)
                ch.visits = 1
        for s in live:
            if not s.new:
                s.node = None  # no candidate at all: stop here
                continue
            top = max(s.new, key=reward)  # the first of equal scores, as a stable sort would rank it
            s.new = []
            if reward(top) >= self.end_gate:
                s.end, s.node = top, None
            else:
                s.node = top

    def _record(self, s: _TotSearch) -> dict[str, Any]:
        node = s.end if s.end is not None else best_node(s.root)
        steps = node.steps()
        return {"problem_id": s.problem.id, "method": "tot", "steps": steps, "thinking": number_steps(steps),
                "ended": s.end is not None, "tree": s.root.to_dict(),
                "stats": {"tokens": s.tokens, "nodes": sum(1 for _ in iter_nodes(s.root)),
                          "wall_time": round(time.time() - s.t_start, 3)}}
