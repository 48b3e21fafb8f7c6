"""SRA-MCTS (docs/method.md section 6): self-evaluated MCTS over natural-language reasoning steps, batched.

One iteration of one tree:
- Selection: from the root, greedy descent by UCT ``r + c * sqrt(ln N / n)`` over children that are
  not closed (an unvisited child scores +inf; ties are broken at random) down to a leaf.
- Reflection: the LLM reviews the leaf's steps and either suggests the next step or says ``<end>``
  (the steps solve the problem). ``<end>`` finishes the tree: its thinking is the leaf's path.
- Expansion: ``n_children`` siblings generated one by one; the prompt of sibling k lists siblings
  0..k-1. A duplicate (or empty) proposal is drawn again, at most ``max_retries`` times; after that
  the sibling is skipped. A leaf that gets no child at all is closed.
- Evaluation: each new child gets a 0-10 self-evaluation (`seer.llm.thinking_prompts.parse_evaluation`):
  its reward r and its first visit.
- Backup: from the leaf to the root, every node gets a visit and
  ``r_p = alpha * r_p + (1 - alpha) * sum(v_c * r_c) / sum(v_c)`` over its children (v = visits).
The search stops at ``<end>`` or after ``iterations``; without ``<end>`` the thinking is the path to
the highest-reward node (deepest among ties), as the authors' fallback.

Node fields: ``step`` is the bare step text; ``meta`` holds ``score`` (the self-evaluation), ``r``
(the backed-up reward) and ``reflection``; ``visits`` counts visits.

Batching: up to ``batch_problems`` trees are live. Each phase of a round is ONE generate call over
all live trees: the reflections; then draw rounds, each holding the next draw of every tree still
short of siblings (its k-th sibling, or a re-draw of a duplicate: trees advance independently);
then the evaluations of all new children. Siblings of one node stay sequential by design; trees
run in parallel.
"""
from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from seer.config import ExploreConfig, SraConfig
from seer.data.schemas import Problem
from seer.llm.policy import GenerateRequest, Generation, Policy
from seer.llm.prompts import format_question
from seer.llm.thinking_prompts import (
    END,
    PROPOSAL_STOP,
    evaluation_prompt,
    is_duplicate,
    number_steps,
    parse_evaluation,
    parse_proposal,
    parse_reflection,
    proposal_prompt,
    reflection_prompt,
)
from seer.search.mcts import EngineStats
from seer.search.tree import Node, best_open_child, descend, iter_nodes


def chat_request(settings: SraConfig, max_tokens: int, stop: Sequence[str] = (), n: int = 1) -> GenerateRequest:
    """One proposal, evaluation or reflection call: SRA samples them all alike."""
    return GenerateRequest(n=n, temperature=settings.temperature, top_p=settings.top_p, max_tokens=max_tokens,
                           stop=list(stop))


# --- the tree arithmetic ---------------------------------------------------------------------------
def reward(node: Node) -> float:
    return float(node.meta.get("r", 0.0))


def uct(parent: Node, child: Node, c: float) -> float:
    """``r + c * sqrt(ln N / n)``; +inf for an unvisited child."""
    if child.visits == 0:
        return math.inf
    return reward(child) + c * math.sqrt(math.log(max(parent.visits, 1)) / child.visits)


def select_child(node: Node, c: float, rng: random.Random) -> Node | None:
    """The UCT-best open child; among unvisited (infinite) children the highest reward; random among ties."""
    return best_open_child(node, lambda ch: (uct(node, ch, c), reward(ch)), rng)


def select_leaf(root: Node, c: float, rng: random.Random) -> Node | None:
    """Greedy UCT descent to a node without children; None when the whole tree is closed."""
    return descend(root, lambda n: select_child(n, c, rng))


def backup(leaf: Node, alpha: float) -> None:
    """Visit ``leaf`` and its ancestors; each mixes its r with the visit-weighted mean r of its children."""
    node: Node | None = leaf
    while node is not None:
        node.visits += 1
        weights = sum(ch.visits for ch in node.children)
        if weights:
            mean = sum(ch.visits * reward(ch) for ch in node.children) / weights
            node.meta["r"] = alpha * reward(node) + (1 - alpha) * mean
        node = node.parent


def best_node(root: Node) -> Node:
    """The highest-reward node below the root (the deepest among ties); the root when it has none."""
    best, key = root, (-math.inf, -1)
    for n in iter_nodes(root):
        if n is root:
            continue
        k = (reward(n), n.depth)
        if k > key:
            best, key = n, k
    return best


def close(node: Node) -> None:
    """Mark a node that cannot be expanded, and ancestors left without an open child."""
    node.closed = True
    if node.parent is not None:
        node.parent.refresh_closed()


# --- batched search --------------------------------------------------------------------------------
@dataclass(eq=False)
class _Tree:
    problem: Problem
    question: str
    root: Node
    rng: random.Random
    t_start: float
    iterations: int = 0
    tokens: int = 0
    retries: int = 0  # re-drawn proposals (duplicates or empty)
    skipped: int = 0  # siblings given up after max_retries
    leaf: Node | None = None  # the node this round expands; None once the tree is finished
    end: Node | None = None  # the node whose reflection said <end>
    new: list[Node] = field(default_factory=list)


class ChatCalls:
    """The one place the explorers call the model: (user, assistant prefix) pairs -> one sample
    each, in ONE generate call, counted in ``engine`` (``rounds`` = generate calls)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.engine = EngineStats()

    def __call__(self, users: Sequence[tuple[str, str]], req: GenerateRequest) -> list[Generation]:
        prompts = [self.policy.chat_prompt(u, assistant_prefix=p) for u, p in users]
        t0 = time.perf_counter()
        outs = self.policy.generate(prompts, req)
        self.engine.generate_seconds += time.perf_counter() - t0
        self.engine.rounds += 1
        self.engine.sequences += len(prompts)
        gens = [row[0] for row in outs]
        self.engine.tokens += sum(g.n_tokens for g in gens)
        return gens


class BatchedSra:
    """SRA-MCTS over many problems; an explorer for ``seer.search.shards.run_shard``."""

    def __init__(self, policy: Policy, settings: SraConfig, seed: int = 0,
                 batch_problems: int = ExploreConfig.batch_problems) -> None:
        self.settings, self.seed, self.batch_problems = settings, seed, batch_problems
        self._generate = ChatCalls(policy)
        self.engine = self._generate.engine
        self.nodes = 0  # children created (expanded nodes), for the bench

    def __call__(self, problems: Sequence[Problem], emit: Callable[[dict[str, Any]], None]) -> None:
        queue = deque(problems)
        live: list[_Tree] = []
        while queue or live:
            while queue and len(live) < self.batch_problems:
                p = queue.popleft()
                t = _Tree(p, format_question(p), Node(), random.Random(f"{self.seed}:{p.id}"), time.time())
                self._prepare(t)
                live.append(t)
            self._round(live)
            for t in live:
                if t.leaf is None:
                    emit(self._record(t))
            live = [t for t in live if t.leaf is not None]

    def _prepare(self, t: _Tree) -> None:
        if t.end is None and t.iterations < self.settings.iterations:
            t.leaf = select_leaf(t.root, self.settings.c, t.rng)
        else:
            t.leaf = None

    def _round(self, live: list[_Tree]) -> None:
        st = self.settings
        live = [t for t in live if t.leaf is not None]
        self._reflect([t for t in live if "reflection" not in t.leaf.meta])  # type: ignore[union-attr]
        expanding = [t for t in live if t.end is None]
        self._expand(expanding)
        self._evaluate(expanding)
        for t in expanding:
            leaf = t.leaf
            assert leaf is not None
            if t.new:
                backup(leaf, st.alpha)
            else:
                close(leaf)
            t.new = []
            t.iterations += 1
        for t in live:
            self._prepare(t)

    def _reflect(self, trees: list[_Tree]) -> None:
        if not trees:
            return
        st = self.settings
        gens = self._generate([reflection_prompt(t.question, t.leaf.steps()) for t in trees],  # type: ignore[union-attr]
                              chat_request(st, st.max_reflection_tokens))
        for t, g in zip(trees, gens):
            leaf = t.leaf
            assert leaf is not None
            t.tokens += g.n_tokens
            ref = parse_reflection(g.text)
            if ref == END and leaf is t.root:
                ref = ""  # with no steps there is nothing to end: the root always gets expanded
            leaf.meta["reflection"] = ref
            if ref == END:
                t.end = leaf

    def _expand(self, trees: list[_Tree]) -> None:
        """Give each tree's leaf its siblings, one by one; ONE generate call per draw round.

        A round holds the next draw of every tree still short of siblings: its next sibling, or a
        re-draw of one that came out empty or duplicate. Trees advance independently, so a tree
        re-drawing a duplicate never holds the others back: the calls number the most draws any
        one tree needs (``n_children`` when nothing is re-drawn).
        """
        st = self.settings
        slots = {id(t): 0 for t in trees}  # siblings finished (added or given up)
        draws = {id(t): 0 for t in trees}  # draws of the current sibling
        pending = [t for t in trees if st.n_children > 0]
        while pending:
            users = [proposal_prompt(t.question, t.leaf.steps(), t.leaf.meta.get("reflection", ""),  # type: ignore[union-attr]
                                     [c.step for c in t.new]) for t in pending]
            gens = self._generate(users, chat_request(st, st.max_step_tokens, PROPOSAL_STOP))
            for t, g in zip(pending, gens):
                leaf = t.leaf
                assert leaf is not None
                t.tokens += g.n_tokens
                draws[id(t)] += 1
                step = parse_proposal(g.text)
                if step is not None and not is_duplicate(step, [c.step for c in t.new], leaf.steps()):
                    t.new.append(leaf.add_child(Node(step=step, prior=math.exp(g.mean_logprob), n_tokens=g.n_tokens)))
                    self.nodes += 1
                elif draws[id(t)] <= st.max_retries and g.finish_reason != "context":  # over the context: no better next time
                    t.retries += 1
                    continue
                else:
                    t.skipped += 1
                slots[id(t)] += 1
                draws[id(t)] = 0
            pending = [t for t in pending if slots[id(t)] < st.n_children]

    def _evaluate(self, trees: list[_Tree]) -> None:
        items = [(t, ch) for t in trees for ch in t.new]
        if not items:
            return
        st = self.settings
        users = [evaluation_prompt(t.question, ch.steps()) for t, ch in items]
        gens = self._generate(users, chat_request(st, st.max_eval_tokens))
        for (t, ch), (_, prefix), g in zip(items, users, gens):
            t.tokens += g.n_tokens
            score = parse_evaluation(prefix + g.text)
            ch.meta.update(score=score, r=score)
            ch.visits = 1  # its evaluation is its first visit

    def _record(self, t: _Tree) -> dict[str, Any]:
        node = t.end if t.end is not None else best_node(t.root)
        steps = node.steps()
        return {
            "problem_id": t.problem.id,
            "method": "sra",
            "steps": steps,
            "thinking": number_steps(steps),
            "ended": t.end is not None,
            "tree": t.root.to_dict(),
            "stats": {"iterations": t.iterations, "tokens": t.tokens, "retries": t.retries, "skipped": t.skipped,
                      "nodes": sum(1 for _ in iter_nodes(t.root)), "wall_time": round(time.time() - t.t_start, 3)},
        }
