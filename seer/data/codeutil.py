"""Small static helpers on Python source used by the data loaders (no code is executed here)."""
from __future__ import annotations

import ast
import builtins
import re
import warnings


def parse(src: str) -> ast.Module:
    """ast.parse without the invalid-escape warnings old data sets' code triggers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (SyntaxWarning, DeprecationWarning))
        return ast.parse(src)


_FENCE = re.compile(r"^```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)^```", re.DOTALL | re.MULTILINE)


def defined_names(code: str) -> list[str]:
    """Top-level function and class names of ``code``, in order (regex fallback if it doesn't parse)."""
    try:
        tree = parse(code)
    except SyntaxError:
        return re.findall(r"^(?:async\s+)?(?:def|class)\s+(\w+)", code, flags=re.MULTILINE)
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def called_names(stmt: str) -> list[str]:
    """Names called as plain functions in ``stmt`` (``f(x)`` gives f), outermost first."""
    try:
        tree = parse(stmt)
    except SyntaxError:
        return re.findall(r"\b([A-Za-z_]\w*)\s*\(", stmt)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    calls.sort(key=lambda c: (c.lineno, c.col_offset))
    return [c.func.id for c in calls]  # type: ignore[attr-defined]


def find_entry_point(code: str, tests: list[str]) -> str:
    """The function of ``code`` the tests call: the first called name the code defines.

    Falls back to the first name called in the tests that is not a builtin, then to the first
    definition, so a problem always names *something* the candidate must define.
    """
    defined = defined_names(code)
    calls = [c for t in tests for c in called_names(t)]
    for c in calls:
        if c in defined:
            return c
    for c in calls:
        if not hasattr(builtins, c):
            return c
    return defined[0] if defined else ""


def code_blocks(markdown: str) -> list[str]:
    """Contents of the fenced Python (or unlabelled) code blocks of a markdown text."""
    return list(_FENCE.findall(markdown))


def split_asserts(code: str) -> tuple[str, list[str]]:
    """Split a program into (code without top-level asserts, the top-level assert statements)."""
    tree = parse(code)
    lines = code.splitlines(keepends=True)
    asserts: list[str] = []
    drop: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.Assert):
            end = node.end_lineno or node.lineno
            asserts.append("".join(lines[node.lineno - 1:end]).strip())
            drop.update(range(node.lineno - 1, end))
    rest = "".join(ln for i, ln in enumerate(lines) if i not in drop)
    return rest.strip() + "\n", asserts


class _DropAnnotations(ast.NodeTransformer):
    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.annotation = None
        return node

    def _fn(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        node.returns = None
        self.generic_visit(node)
        return node

    visit_FunctionDef = _fn  # type: ignore[assignment]
    visit_AsyncFunctionDef = _fn  # type: ignore[assignment]

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is None:
            return ast.Pass()
        return ast.Assign(targets=[node.target], value=node.value, lineno=node.lineno)


def strip_annotations(src: str) -> str:
    """``src`` with every annotation removed.

    Harness code written for ``from __future__ import annotations`` (self-referencing class
    annotations) must run as a plain module part, where a __future__ import is illegal.
    """
    tree = _DropAnnotations().visit(parse(src))
    tree.body = [n for n in tree.body
                 if not (isinstance(n, ast.ImportFrom) and n.module == "__future__")]
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n" if tree.body else ""
