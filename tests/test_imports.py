"""Every seer module imports on its own, and the import graph has no circle.

Two checks: a static one over every import statement (module level and inside functions, so a lazy
import cannot hide a circle), and a dynamic one that imports each module into a fresh set of seer
modules in one child interpreter (a circle that breaks at import time fails there).
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "seer"
# run inside the sandboxed interpreter as top-level modules (`import codec`, `import driver`)
SANDBOX_SCRIPTS = {"seer.sandbox.checker", "seer.sandbox.driver", "seer.sandbox.zygote"}
# imported by `python -m seer` only: importing it runs the CLI
ENTRY = {"seer.__main__"}
# (importer package, imported package) pairs that would point up the layers (llm < model < search <
# stages; data < sandbox), checked over module-level imports
FORBIDDEN = [("seer.llm", "seer.model"), ("seer.llm", "seer.search"), ("seer.llm", "seer.stages"),
             ("seer.model", "seer.stages"), ("seer.search", "seer.stages"), ("seer.data", "seer.sandbox"),
             ("seer.data", "seer.search"), ("seer.data", "seer.stages")]


def module_names() -> dict[str, Path]:
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        name = ".".join(p.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = p
    return out


def imports(name: str, path: Path, known: set[str], module_level_only: bool = False) -> set[str]:
    """The seer modules `name` imports (`from a.b import c` counts as a.b.c when that is a module)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if module_level_only else ast.walk(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            for a in node.names:
                full = f"{base}.{a.name}"
                out.add(full if full in known else base)
    return (out & known) - {name}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_import_graph_has_no_circle():
    mods = module_names()
    graph = {n: imports(n, p, set(mods)) for n, p in mods.items()}
    assert circles(graph) == []
    # the check itself sees a circle, including one made of imports inside functions
    assert circles({**graph, "seer.config": graph["seer.config"] | {"seer.cli"}})


def test_no_module_level_import_points_up_the_layers():
    mods = module_names()
    def within(name: str, package: str) -> bool:
        return name == package or name.startswith(package + ".")

    bad = [f"{n} imports {m}" for n, p in mods.items() for m in sorted(imports(n, p, set(mods), True))
           for low, high in FORBIDDEN if within(n, low) and within(m, high)]
    assert bad == []


CHILD = """
import importlib, json, sys, traceback
failed = {}
for name in json.loads(sys.argv[1]):
    for m in [m for m in sys.modules if m == "seer" or m.startswith("seer.")]:
        del sys.modules[m]
    try:
        importlib.import_module(name)
    except Exception:
        failed[name] = traceback.format_exc(limit=-3)
print(json.dumps(failed))
"""


def test_every_module_imports_in_isolation():
    names = [n for n in module_names() if n not in SANDBOX_SCRIPTS | ENTRY]
    res = subprocess.run([sys.executable, "-c", CHILD, json.dumps(names)], capture_output=True, text=True,
                         cwd=ROOT, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    failed = json.loads(res.stdout.strip().splitlines()[-1])
    assert failed == {}, "\n".join(f"{k}:\n{v}" for k, v in failed.items())
