"""SEER's MCTS over reasoning steps (docs/method.md section 2), batched across trees.

One iteration of one tree:
- Selection: from the root, descend by PUCT over children that are neither terminal nor closed,
  ``Q(s,a) + c_puct * P(s,a) * sqrt(N(s)) / (1 + N(s,a))`` with random tie-break, to a leaf.
- Expansion: sample ``n_children`` continuations of the leaf's path, each stopped at ``</step>``.
- Evaluation: a code child is run against the tests (+1 pass / -1 otherwise); an unparsable child
  (a step cut at max_step_tokens; a complete code block ended by EOS counts as a code step), a
  non-code child at ``max_depth`` and a leaf whose prompt does not fit the context get -1
  (``lenient_plan_steps``: a cut step or one with a bare code fence is a plan node instead, as in
  the authors' code). Values from the policy's value head (``value_backup``): ``children`` - each
  non-terminal child backs up V(child), and without a head only terminal rewards count;
  ``expanded`` - each expansion backs up ONE value, V of the expanded node read at the last token
  of the prompt that expanded it (the authors').
- Backup: every evaluated node adds its value and one visit to itself and each ancestor.

When a tree stops (``stop_rule``): ``exhausted`` - a node whose children are all closed is closed
and selection goes elsewhere, until the root is closed or ``iterations`` ran; ``dead_end`` - the
tree stops as soon as selection reaches a node whose children are all terminal (the authors'
selection returns None there), so ``iterations`` is only an upper bound.

Batching: ``BatchedMcts`` keeps up to ``batch_problems`` trees live. Each round makes ONE
``policy.generate`` call holding the expansion of every live tree, submits all new code to the
sandbox pool, and while the pool runs, scores value-head leaves and prepares the next prompts of
trees that wait on no execution; the other trees back up and prepare as their results arrive.
A finished tree is handed to ``emit`` at once and its slot goes to the next problem.
"""
from __future__ import annotations

import dataclasses
import math
import random
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

from seer import progress
from seer.config import ExploreConfig, ModelConfig
from seer.data.schemas import Problem, Tests
from seer.llm.policy import GenerateRequest, Generation, Policy
from seer.llm.solutions import to_solution
from seer.llm.steps import STEP_CLOSE, format_code_step, parse_step
from seer.search.tree import Node, best_open_child, descend, iter_nodes

# (problem, steps so far) -> the full prompt text whose continuation is the next step
PromptFn = Callable[[Problem, Sequence[str]], str]


class Executor(Protocol):
    """Runs code against tests asynchronously (``seer.sandbox.SandboxPool`` or a test fake).

    The future's result has ``passed: bool`` and ``status: str``.
    """

    def submit(self, code: str, tests: Tests) -> Future[Any]: ...


def step_request(settings: ExploreConfig, n: int) -> GenerateRequest:
    """n samples of one reasoning step (stopped at ``</step>``) with the exploration settings."""
    return GenerateRequest(n=n, temperature=settings.temperature, top_p=settings.top_p,
                           max_tokens=settings.max_step_tokens, stop=[STEP_CLOSE])


def puct(parent: Node, child: Node, c_puct: float) -> float:
    return child.q + c_puct * child.prior * math.sqrt(parent.visits) / (1 + child.visits)


def select_child(node: Node, c_puct: float, rng: random.Random) -> Node | None:
    """The PUCT-best selectable child (random among ties); None when every child is closed."""
    return best_open_child(node, lambda c: puct(node, c, c_puct), rng)


def select_leaf(root: Node, c_puct: float, rng: random.Random) -> Node | None:
    """Descend by PUCT from the root to an unexpanded, non-terminal node; None when the tree is closed."""
    return descend(root, lambda n: select_child(n, c_puct, rng))


def select_leaf_dead_end(root: Node, c_puct: float, rng: random.Random) -> Node | None:
    """Descend by PUCT over non-terminal children to an unexpanded node; None - the tree stops - when
    the descent reaches a node whose children are all terminal (that node is closed) or the root is
    terminal. Closed flags must then mean terminal only: ``refresh_closed`` is not used with this rule."""
    node = root
    while node.expanded:
        nxt = select_child(node, c_puct, rng)
        if nxt is None:
            node.closed = True
            return None
        node = nxt
    return None if node.closed else node


def backup(node: Node, value: float) -> None:
    """Add ``value`` and one visit to ``node`` and every ancestor up to the root (no discount)."""
    n: Node | None = node
    while n is not None:
        n.visits += 1
        n.value_sum += value
        n = n.parent


# errors of a step without <code> that the authors' parser still reads as a plan step
_LENIENT_ERRORS = ("no closing </step>", "code in a non-final step")


def child_from_generation(gen: Generation, depth: int, max_depth: int, lenient: bool = False) -> Node:
    """A new node for a sampled step at ``depth`` (root = 0).

    Invalid and too-deep children are terminal with reward -1 at once; a code child is terminal
    with its reward pending until the sandbox answers. ``lenient``: a step without ``<code>`` that is
    cut short or holds a code fence is a plan step (the authors' parser), not an invalid one.
    """
    p = parse_step(gen.text)
    if STEP_CLOSE not in gen.text and gen.finish_reason == "stop":
        # the model ended its turn (EOS) after a complete code block without closing the step:
        # a finished code step, stored in the canonical format
        closed = parse_step(gen.text.rstrip() + "\n" + STEP_CLOSE)
        if closed.is_terminal and closed.valid and closed.code is not None:
            p = dataclasses.replace(closed, text=format_code_step(closed.code))
    node = Node(step=p.text, prior=math.exp(gen.mean_logprob), n_tokens=gen.n_tokens)
    if lenient and p.error in _LENIENT_ERRORS and "<code>" not in p.body:
        p = dataclasses.replace(p, error=None)
    if not p.valid:
        node.set_terminal("invalid", -1.0, p.error or "")
        return node
    if p.is_terminal:
        node.terminal, node.closed = "code", True
        return node
    if depth >= max_depth:
        node.set_terminal("too_deep", -1.0, f"no code by depth {max_depth}")
    return node


@dataclass(eq=False)
class _LiveTree:
    """One problem's tree while it is searched, and its bookkeeping."""

    problem: Problem
    root: Node
    rng: random.Random
    t_start: float
    iterations: int = 0
    tokens: int = 0
    sandbox_runs: int = 0
    leaf: Node | None = None  # the node this round expands; None once the tree is finished
    prompt: str = ""
    pending: list[tuple[Node, Future[Any]]] = field(default_factory=list)


@dataclass
class EngineStats:
    """What the engine-utilisation bench needs: generated tokens and the time spent generating."""

    rounds: int = 0
    sequences: int = 0  # prompts x n summed over rounds
    tokens: int = 0
    generate_seconds: float = 0.0


class BatchedMcts:
    """SEER MCTS over many problems; an explorer for ``seer.search.shards.run_shard``."""

    def __init__(self, policy: Policy, executor: Executor, prompt_fn: PromptFn, settings: ExploreConfig,
                 seed: int = 0, max_context: int = ModelConfig.max_context) -> None:
        self.policy, self.executor, self.prompt_fn = policy, executor, prompt_fn
        self.settings, self.seed, self.max_context = settings, seed, max_context
        self.use_value = settings.use_value and policy.has_value_head
        self.dead_end = settings.stop_rule == "dead_end"
        self.engine = EngineStats()

    def __call__(self, problems: Sequence[Problem], emit: Callable[[dict[str, Any]], None]) -> None:
        """Search every problem; ``emit`` gets one record per finished tree, as it finishes."""
        queue = deque(problems)
        live: list[_LiveTree] = []
        while queue or live:
            while queue and len(live) < self.settings.batch_problems:
                s = self._start(queue.popleft())
                if s.leaf is None:
                    emit(self._record(s))
                else:
                    live.append(s)
            if live:
                self._round(live)
            for s in live:
                if s.leaf is None:
                    emit(self._record(s))
            live = [s for s in live if s.leaf is not None]

    def _start(self, problem: Problem) -> _LiveTree:
        s = _LiveTree(problem, Node(), random.Random(f"{self.seed}:{problem.id}"), time.time())
        self._prepare(s)
        return s

    def _prepare(self, s: _LiveTree) -> None:
        """Select the next leaf of ``s`` and build its prompt, or mark the tree finished."""
        st = self.settings
        select = select_leaf_dead_end if self.dead_end else select_leaf
        while s.iterations < st.iterations:
            leaf = select(s.root, st.c_puct, s.rng)
            if leaf is None:
                break
            prompt = self.prompt_fn(s.problem, leaf.steps())
            n = self.policy.count_tokens(prompt)
            if n + st.max_step_tokens <= self.max_context:
                s.leaf, s.prompt = leaf, prompt
                return
            leaf.set_terminal("over_length", -1.0,
                              f"prompt {n} + step {st.max_step_tokens} > context {self.max_context} tokens")
            backup(leaf, -1.0)
            if leaf.parent is not None and not self.dead_end:
                leaf.parent.refresh_closed()
        s.leaf, s.prompt = None, ""

    def _round(self, live: list[_LiveTree]) -> None:
        st = self.settings
        t0 = time.perf_counter()
        outs = self.policy.generate([s.prompt for s in live], step_request(st, st.n_children))
        self.engine.generate_seconds += time.perf_counter() - t0
        self.engine.rounds += 1
        self.engine.sequences += len(live) * st.n_children
        to_value: list[tuple[Node, str]] = []
        expanded_values = self.use_value and st.value_backup == "expanded"
        for s, gens in zip(live, outs, strict=True):
            leaf = s.leaf
            assert leaf is not None
            depth = leaf.depth + 1
            if expanded_values:
                to_value.append((leaf, s.prompt))  # the expanded node's state: its prompt's last token
            for g in gens:
                child = child_from_generation(g, depth, st.max_depth, st.lenient_plan_steps)
                leaf.add_child(child)
                s.tokens += g.n_tokens
                self.engine.tokens += g.n_tokens
                if child.terminal == "code":
                    program = to_solution(s.problem, child.step)
                    s.pending.append((child, self.executor.submit(program, s.problem.tests)))
                    s.sandbox_runs += 1
                elif child.terminal is not None:
                    backup(child, float(child.reward))  # type: ignore[arg-type]
                elif self.use_value and not expanded_values:
                    # the child's state: its step closed by </step> and the newline its value is read at
                    to_value.append((child, s.prompt + g.text + "\n"))
            s.iterations += 1
        # the sandbox runs meanwhile: value-head scores and prompts of trees with nothing to wait for
        if to_value:
            for (child, _), v in zip(to_value, self.policy.value([t for _, t in to_value]), strict=True):
                backup(child, float(v))
        waiting = []
        for s in live:
            if s.pending:
                waiting.append(s)
            else:
                self._finish_round(s)
        while waiting:
            wait({f for s in waiting for _, f in s.pending}, return_when=FIRST_COMPLETED)
            ready = [s for s in waiting if all(f.done() for _, f in s.pending)]
            for s in ready:
                self._finish_round(s)
            waiting = [s for s in waiting if s not in ready]
        progress.partial(sum(s.iterations for s in live if s.leaf is not None) / st.iterations)
        progress.gauge(open=len(live))
        progress.add(rounds=1, nodes=len(live) * st.n_children)

    def _finish_round(self, s: _LiveTree) -> None:
        for child, fut in s.pending:
            res = fut.result()
            child.reward = 1.0 if res.passed else -1.0
            child.detail = str(res.status)
            backup(child, child.reward)
        progress.add(correct=sum(child.reward > 0 for child, _ in s.pending))
        s.pending.clear()
        assert s.leaf is not None
        if not self.dead_end:
            s.leaf.refresh_closed()
        self._prepare(s)

    def _record(self, s: _LiveTree) -> dict[str, Any]:
        return {
            "problem_id": s.problem.id,
            "tree": s.root.to_dict(),
            "stats": {"iterations": s.iterations, "tokens": s.tokens, "sandbox_runs": s.sandbox_runs,
                      "wall_time": round(time.time() - s.t_start, 3),
                      "nodes": sum(1 for _ in iter_nodes(s.root))},
        }
