"""Search trees over reasoning steps (docs/method.md section 1-2): nodes, paths, lossless json.

A node holds the step that led to it (the root holds none), the policy prior of that step, the
visit count and value sum that MCTS backs up, and — once it is terminal — its kind and reward.
Terminal kinds:
- ``code``: a valid code step; its reward (+1/-1) comes from running the code against the tests.
- ``too_deep``: a valid non-code step at the maximum depth (reward -1).
- ``invalid``: an unparsable step, or a code step whose code does not parse (reward -1).
- ``over_length``: the prompt to expand this node does not fit the model's context (reward -1).

``closed`` marks a node that selection must skip: it is terminal, or every child is closed.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

TERMINAL_KINDS: tuple[str, ...] = ("code", "too_deep", "invalid", "over_length")


@dataclass(eq=False)
class Node:
    step: str = ""  # normalised step text; "" for the root
    prior: float = 1.0  # exp(mean token log-prob) of the step under the policy
    visits: int = 0
    value_sum: float = 0.0
    terminal: str | None = None  # one of TERMINAL_KINDS, None while the node can still be expanded
    reward: float | None = None  # set for terminal nodes
    detail: str = ""  # why a node is invalid, or the sandbox status of a code node
    n_tokens: int = 0  # tokens generated for this step
    closed: bool = False
    meta: dict[str, Any] = field(default_factory=dict)  # explorer-specific fields (SRA-MCTS: reward, reflection)
    children: list["Node"] = field(default_factory=list)
    parent: "Node | None" = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.terminal is not None and self.terminal not in TERMINAL_KINDS:
            raise ValueError(f"node.terminal must be one of {TERMINAL_KINDS} or null, got {self.terminal!r}")

    @property
    def q(self) -> float:
        """Q = value_sum / visits, 0 for an unvisited node."""
        return self.value_sum / self.visits if self.visits else 0.0

    @property
    def depth(self) -> int:
        d, n = 0, self
        while n.parent is not None:
            d, n = d + 1, n.parent
        return d

    @property
    def expanded(self) -> bool:
        return bool(self.children)

    def add_child(self, child: "Node") -> "Node":
        child.parent = self
        self.children.append(child)
        return child

    def set_terminal(self, kind: str, reward: float, detail: str = "") -> None:
        if kind not in TERMINAL_KINDS:
            raise ValueError(f"terminal kind must be one of {TERMINAL_KINDS}, got {kind!r}")
        self.terminal, self.reward, self.closed = kind, reward, True
        if detail:
            self.detail = detail

    def steps(self) -> list[str]:
        """The steps from the root to this node (the root contributes none)."""
        return [n.step for n in self.lineage()[1:]]

    def lineage(self) -> list["Node"]:
        """Nodes from the root down to this node, inclusive."""
        chain, n = [], self
        while n is not None:
            chain.append(n)
            n = n.parent
        return chain[::-1]

    def refresh_closed(self) -> None:
        """Close this node and its ancestors whose children are all closed (after an expansion)."""
        n: Node | None = self
        while n is not None and not n.closed and n.children and all(c.closed for c in n.children):
            n.closed = True
            n = n.parent

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step, "prior": self.prior, "visits": self.visits, "value_sum": self.value_sum,
            "terminal": self.terminal, "reward": self.reward, "detail": self.detail,
            "n_tokens": self.n_tokens, "closed": self.closed,
            **({"meta": self.meta} if self.meta else {}),
            "children": [c.to_dict() for c in self.children],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Node":
        if not isinstance(d, dict):
            raise ValueError(f"expected an object for a tree node, got {type(d).__name__}")
        fields = {"step", "prior", "visits", "value_sum", "terminal", "reward", "detail", "n_tokens", "closed",
                  "meta", "children"}
        unknown = sorted(set(d) - fields)
        if unknown:
            raise ValueError(f"unknown tree node field(s) {unknown}; valid: {sorted(fields)}")
        node = cls(**{k: v for k, v in d.items() if k != "children"})
        for c in d.get("children", []):
            node.add_child(cls.from_dict(c))
        return node


def best_open_child(node: Node, key: Callable[[Node], Any], rng: random.Random) -> Node | None:
    """The open child with the highest ``key`` (random among ties); None when every child is closed.
    Selection in both explorers: ``key`` is PUCT (SEER) or UCT (SRA-MCTS)."""
    best: list[Node] = []
    best_key: Any = None
    for c in node.children:
        if c.closed:  # terminal nodes are always closed
            continue
        k = key(c)
        if best_key is None or k > best_key:
            best, best_key = [c], k
        elif k == best_key:
            best.append(c)
    return rng.choice(best) if best else None


def descend(root: Node, choose: Callable[[Node], Node | None]) -> Node | None:
    """Follow ``choose`` from the root down to a node without children; None when the tree is closed."""
    if root.closed:
        return None
    node = root
    while node.expanded:
        nxt = choose(node)
        if nxt is None:
            raise RuntimeError("an open node has no open child: closed flags were not refreshed after an expansion")
        node = nxt
    return node


def iter_nodes(root: Node) -> Iterator[Node]:
    """Depth-first, children in insertion order."""
    stack = [root]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


@dataclass
class TreePath:
    """A root-to-terminal path: its steps, each step's Q, and the terminal's kind and reward."""

    steps: list[str]
    q_values: list[float]
    terminal: str
    reward: float


def enumerate_paths(root: Node) -> list[TreePath]:
    """Every root-to-leaf path that ends in a terminal node, depth-first order."""
    out = []
    for n in iter_nodes(root):
        if n.terminal is not None and n is not root:
            chain = n.lineage()[1:]
            out.append(TreePath([c.step for c in chain], [c.q for c in chain], n.terminal, float(n.reward or 0.0)))
    return out
