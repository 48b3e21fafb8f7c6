"""Prompt builders: SEER exploration (few-shot, step format), direct answers, and CoT.

Every builder returns `(user message, assistant prefix)`; a policy turns them into one prompt with
`policy.chat_prompt(user, assistant_prefix=prefix)` and the model continues the prefix. Pass the
matching stop strings (`STEP_STOP`, `DIRECT_STOP`, `COT_STOP`) and turn the assistant text
(prefix + continuation) into a program with `seer.llm.solutions.to_solution`.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from collections.abc import Sequence

from seer.data.schemas import Problem
from seer.llm.steps import STEP_CLOSE, STEP_OPEN, format_code_step, format_plan_step

STEP_STOP = [STEP_CLOSE]  # one exploration expansion = one step
DIRECT_STOP = ["\n```"]  # the direct prefix opens the code fence; the answer ends where it closes
COT_STOP: list[str] = []  # plan then code: run to EOS (or max_tokens)


@dataclass(frozen=True)
class FewShotExample:
    """A worked problem in the step format (MBPP prompt split, tasks 1-10: never a benchmark task)."""

    question: str
    plan: tuple[str, ...]  # reasoning steps without numbers; empty = a direct answer
    code: str
    tests: tuple[str, ...]  # asserts the code passes (checked by the tests of this module)

    def steps(self) -> list[str]:
        return [format_plan_step(i, s) for i, s in enumerate(self.plan, 1)] + [format_code_step(self.code)]


FEWSHOT: tuple[FewShotExample, ...] = (
    FewShotExample(
        question="Write a function to find the similar elements from the given two tuple lists.\n"
                 "Your code should pass this test:\n\n"
                 "assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)",
        plan=("The elements two tuples have in common are the intersection of their sets.",
              ("The expected answer is a tuple in increasing order, so sort the intersection before "
               "turning it into a tuple.")),
        code="def similar_elements(test_tup1, test_tup2):\n"
             "    return tuple(sorted(set(test_tup1) & set(test_tup2)))",
        tests=("assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)",
               "assert similar_elements((1, 2, 3, 4),(5, 4, 3, 7)) == (3, 4)",
               "assert similar_elements((11, 12, 14, 13),(17, 15, 14, 13)) == (13, 14)"),
    ),
    FewShotExample(
        question="Write a function to find squares of individual elements in a list using lambda function.\n"
                 "Your code should pass this test:\n\n"
                 "assert square_nums([10,20,30])==([100,400,900])",
        plan=(),
        code="def square_nums(nums):\n    return list(map(lambda x: x ** 2, nums))",
        tests=("assert square_nums([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])==[1, 4, 9, 16, 25, 36, 49, 64, 81, 100]",
               "assert square_nums([10,20,30])==([100,400,900])",
               "assert square_nums([12,15])==([144,225])"),
    ),
    FewShotExample(
        question="Write a python function to find the minimum number of rotations (greater than 0) required "
                 "to get the same string.\nYour code should pass this test:\n\n"
                 'assert find_Rotations("ab") == 2',
        plan=(("Rotating a string s of length n by i positions gives s[i:] + s[:i], and rotating by n "
               "always gives s back, so the answer is between 1 and n."),
              "Try i = 1, 2, ..., n in order and return the first i whose rotation equals s."),
        code="def find_Rotations(s):\n"
             "    n = len(s)\n"
             "    for i in range(1, n + 1):\n"
             "        if s[i:] + s[:i] == s:\n"
             "            return i\n"
             "    return n",
        tests=('assert find_Rotations("aaaa") == 1', 'assert find_Rotations("ab") == 2',
               'assert find_Rotations("abc") == 3'),
    ),
    FewShotExample(
        question="Write a function to find the number of ways to fill it with 2 x 1 dominoes for the given "
                 "3 x n board.\nYour code should pass this test:\n\nassert count_ways(2) == 3",
        plan=(("Let A[i] count the tilings of a full 3 x i board and B[i] the tilings of a 3 x i board "
               "whose last column misses one corner cell. A board of odd area cannot be tiled: A[0] = 1, "
               "A[1] = 0, B[0] = 0, B[1] = 1."),
              ("A full board ends with three stacked horizontal dominoes (leaving 3 x (i-2)) or with a "
               "vertical domino in the top or bottom two rows (leaving a board missing a corner), so "
               "A[i] = A[i-2] + 2 * B[i-1]."),
              ("A board missing a corner ends with a vertical domino (leaving a full 3 x (i-1) board) or "
               "with two horizontal dominoes (leaving 3 x (i-2) missing a corner), so "
               "B[i] = A[i-1] + B[i-2]."),
              "Fill both tables for i = 2..n and return A[n]."),
        code="def count_ways(n):\n"
             "    A = [0] * (n + 2)\n"
             "    B = [0] * (n + 2)\n"
             "    A[0], A[1], B[0], B[1] = 1, 0, 0, 1\n"
             "    for i in range(2, n + 1):\n"
             "        A[i] = A[i - 2] + 2 * B[i - 1]\n"
             "        B[i] = A[i - 1] + B[i - 2]\n"
             "    return A[n]",
        tests=("assert count_ways(2) == 3", "assert count_ways(8) == 153", "assert count_ways(12) == 2131"),
    ),
)

STEP_FORMAT_INSTRUCTIONS = f"""\
Solve the programming problem step by step. Write each reasoning step in its own block:

{STEP_OPEN}
N. one step of the reasoning
{STEP_CLOSE}

One block holds exactly one numbered step; the next step opens a new block. Finish with one step
that holds the complete, self-contained Python solution:

{format_code_step("...")}

Only that final step may contain code. When the problem is easy, the first step can already be the
code step."""


def value_prefix(steps: Sequence[str], terminal: bool) -> str:
    """The assistant text whose last token carries a state's value.

    Training joins a path's steps with newlines and puts a step's value target on the token holding
    the newline after it, the final (code) step's, followed by EOS, on its last token
    (`seer.train.data`); a state is read the same way, so a non-terminal state ends with that newline.
    """
    text = "\n".join(steps)
    return text if terminal else text + "\n"


def format_question(problem: Problem) -> str:
    """The problem as the model sees it: its question, its code prompt when the question lacks it,
    and the name the tests call when the text never mentions it."""
    text = problem.question.strip()
    if problem.prompt.strip() and problem.prompt.strip() not in text:
        text += f"\n\nComplete this code:\n```python\n{problem.prompt.rstrip()}\n```"
    name = problem.entry_point or problem.tests.fn_name
    if name and name not in text:
        owner = f"a method of class {problem.tests.class_name}" if problem.tests.class_name else "a function"
        text += f"\n\nWrite it as {owner} named `{name}`."
    return text


def pick_fewshot(k: int, rng: random.Random) -> list[FewShotExample]:
    """k distinct examples in random order (the paper draws 3 per exploration prompt)."""
    return rng.sample(list(FEWSHOT), min(k, len(FEWSHOT)))


def exploration_prompt(problem: Problem, fewshot: Sequence[FewShotExample],
                       steps_so_far: Sequence[str]) -> tuple[str, str]:
    """SEER's exploration prompt: instructions, worked examples, the problem; the assistant prefix
    holds the steps so far and opens the next step, so the continuation is that step's body up to
    `</step>` (sample with `stop=STEP_STOP`, parse with `steps.parse_step`)."""
    parts = [STEP_FORMAT_INSTRUCTIONS]
    for ex in fewshot:
        parts.append(f"### Problem\n{ex.question}\n### Solution\n" + "\n".join(ex.steps()))
    parts.append(f"### Problem\n{format_question(problem)}\n### Solution")
    prefix = "".join(s.strip() + "\n" for s in steps_so_far) + STEP_OPEN + "\n"
    return "\n\n".join(parts), prefix


_DIRECT_INSTRUCTION = ("Please provide a self-contained Python script that solves the following problem "
                       "in a markdown code block:")
_DIRECT_PREFIX = ("Below is a Python script with a self-contained function that solves the problem and "
                  "passes corresponding tests:\n```python\n")


def direct_prompt(problem: Problem) -> tuple[str, str]:
    """A code-only answer, worded as EvalPlus prompts instruction-tuned models (the setting model
    reports use); the prefix opens the code block, so the continuation is code (`stop=DIRECT_STOP`)."""
    return f"{_DIRECT_INSTRUCTION}\n```\n{format_question(problem)}\n```", _DIRECT_PREFIX


def cot_prompt(problem: Problem) -> tuple[str, str]:
    """Plan-then-code ("Let's think step by step"): a numbered plan, then the full program."""
    user = (f"{format_question(problem)}\n\nFirst think step by step: write a short numbered plan. "
            "Then write the complete, self-contained Python solution in one ```python code block.")
    return user, "Let's think step by step.\n1."
