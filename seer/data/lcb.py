"""LiveCodeBench (bundled 713 problems, public tests only) as Problems.

``public_test_cases`` is a JSON string of ``{input, output, testtype}``: ``stdin`` cases become
stdio tests (the program reads stdin, stdout is compared); ``functional`` cases become call tests on
the ``class Solution`` method of the starter code, each input line being one JSON-encoded argument.
Outputs are compared as LiveCodeBench compares them (``Tests.rule = "lcb"``, see
``seer.sandbox.compare``). Only the public tests ship here, so scores on these are "public-test
pass@1", not the official hidden-test number (Problem.meta["tests"] says so).
"""
from __future__ import annotations

import json
import logging
import re

from seer.data.files import read_bundled_json
from seer.data.schemas import Problem, Tests

log = logging.getLogger(__name__)

LCB_FILE = "livecodebench/lcb-713-public.json.gz"

# LiveCodeBench's own harness prepends these imports to every program; starter code relies on them
# (e.g. ``List[int]`` annotations without an import).
LCB_PRELUDE = (
    "from string import *\nfrom re import *\nfrom datetime import *\nfrom collections import *\n"
    "from heapq import *\nfrom bisect import *\nfrom copy import *\nfrom math import *\n"
    "from random import *\nfrom statistics import *\nfrom itertools import *\nfrom functools import *\n"
    "from operator import *\nfrom io import *\nfrom sys import *\nfrom json import *\n"
    "from builtins import *\nfrom typing import *\nimport string\nimport re\nimport datetime\n"
    "import collections\nimport heapq\nimport bisect\nimport copy\nimport math\nimport random\n"
    "import statistics\nimport itertools\nimport functools\nimport operator\nimport io\nimport sys\n"
    "import json\nsys.setrecursionlimit(50000)\n"
)


def _method_name(starter: str) -> str:
    m = re.search(r"^\s+def\s+(\w+)\s*\(\s*self", starter, flags=re.MULTILINE)
    if not m:
        raise ValueError(f"no method in starter code {starter!r}")
    return m.group(1)


def _functional_case(case: dict, where: str) -> dict:
    try:
        args = [json.loads(line) for line in case["input"].split("\n") if line.strip()]
        return {"input": args, "output": json.loads(case["output"])}
    except json.JSONDecodeError as e:
        raise ValueError(f"{where}: functional test case is not JSON ({e.msg})") from None


def lcb_problem(rec: dict) -> Problem:
    where = f"{LCB_FILE} task {rec['task_id']}"
    cases = json.loads(rec["public_test_cases"])
    kinds = {c["testtype"] for c in cases}
    starter = rec.get("starter_code") or ""
    meta = {"task_id": rec["task_id"], "tests": "public", "n_public_tests": len(cases)}
    question = rec["question"].strip()
    if starter:
        if kinds - {"functional"}:
            raise ValueError(f"{where}: starter code but test types {sorted(kinds)}")
        fn = _method_name(starter)
        tests = Tests(kind="call", cases=[_functional_case(c, where) for c in cases], prelude=LCB_PRELUDE,
                      fn_name=fn, class_name="Solution", rule="lcb")
        question += f"\n\nUse this starter code:\n```python\n{starter.rstrip()}\n```"
        entry = fn
    else:
        if kinds - {"stdin"}:
            raise ValueError(f"{where}: no starter code but test types {sorted(kinds)}")
        tests = Tests(kind="stdio", cases=[{"input": c["input"], "output": c["output"]} for c in cases],
                      prelude=LCB_PRELUDE, rule="lcb")
        question += "\n\nRead the input from stdin and write the answer to stdout."
        entry = ""
    return Problem(id=f"lcb/{rec['task_id']}", question=question, tests=tests, entry_point=entry,
                   prompt=starter, source="lcb", difficulty=rec["difficulty"], meta=meta)


def load_lcb() -> list[Problem]:
    out = [lcb_problem(r) for r in read_bundled_json(LCB_FILE)]
    no_tests = [p.id for p in out if not p.tests.cases]
    log.info("lcb: %d problems (%d call-based, %d stdin; public tests only; %d without any: %s)",
             len(out), sum(p.tests.kind == "call" for p in out), sum(p.tests.kind == "stdio" for p in out),
             len(no_tests), ",".join(no_tests))
    return out
