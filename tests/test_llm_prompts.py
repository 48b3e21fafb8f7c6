"""Prompt builders and answer -> solution assembly."""
import random

import pytest

from seer.data.schemas import Problem, Tests
from seer.llm.prompts import (DIRECT_STOP, FEWSHOT, STEP_STOP, cot_prompt, direct_prompt, exploration_prompt,
                              format_question, pick_fewshot)
from seer.llm.solutions import answer_code, to_solution
from seer.llm.steps import format_code_step, format_plan_step, parse_step

HE_PROMPT = ('from typing import List\n\n\ndef below_zero(operations: List[int]) -> bool:\n'
             '    """ Return True if the running balance ever falls below zero.\n'
             '    >>> below_zero([1, 2, -4, 5])\n    True\n    """\n')
HUMANEVAL = Problem(id="HumanEval/3", question=HE_PROMPT, prompt=HE_PROMPT, entry_point="below_zero",
                    tests=Tests(kind="assert", cases=["assert candidate([1, 2, -4, 5]) is True"]))
MBPP = Problem(id="mbpp/11", question="Write a python function to remove first and last occurrence of a given "
               "character from the string.\nYour code should pass this test:\n\n"
               'assert remove_Occ("hello","l") == "heo"', entry_point="remove_Occ",
               tests=Tests(kind="assert", cases=['assert remove_Occ("hello","l") == "heo"']))


def run(program: str) -> dict:
    env: dict = {}
    exec(compile(program, "<solution>", "exec"), env)  # our own constants and assembled test programs
    return env


@pytest.mark.parametrize("ex", FEWSHOT, ids=lambda e: e.code.split("(")[0][4:])
def test_fewshot_examples_are_well_formed_and_correct(ex):
    steps = [parse_step(s) for s in ex.steps()]
    assert all(s.valid for s in steps), [s.error for s in steps]
    assert [s.is_terminal for s in steps] == [False] * len(ex.plan) + [True]
    assert [s.body.split(".")[0] for s in steps[:-1]] == [str(i) for i in range(1, len(ex.plan) + 1)]
    env = run(steps[-1].code)
    for t in ex.tests:
        exec(t, env)
    assert any(t in ex.question for t in ex.tests)  # the question shows one of its tests, as MBPP's do


def test_fewshot_has_a_direct_example_and_picks_are_distinct():
    assert any(not ex.plan for ex in FEWSHOT) and any(len(ex.plan) >= 2 for ex in FEWSHOT)
    picks = pick_fewshot(3, random.Random(0))
    assert len(picks) == 3 == len({ex.question for ex in picks})
    assert pick_fewshot(3, random.Random(0)) == picks
    assert len(pick_fewshot(10, random.Random(0))) == len(FEWSHOT)


def test_exploration_prompt_shows_format_examples_problem_and_opens_the_next_step():
    shots = list(FEWSHOT[:3])
    steps = [format_plan_step(1, "Scan the string from both ends.")]
    user, prefix = exploration_prompt(MBPP, shots, steps)
    assert "<step>" in user and "<code>" in user and "Only that final step may contain code" in user
    for ex in shots:
        assert ex.question in user and ex.steps()[-1] in user
    assert user.rstrip().endswith(f"{MBPP.question}\n### Solution")
    assert prefix == steps[0] + "\n<step>\n"
    assert STEP_STOP == ["</step>"]
    # a continuation up to the stop string is one parseable step
    assert parse_step("2. Remove the first occurrence.\n</step>").valid
    _, root_prefix = exploration_prompt(MBPP, [], [])
    assert root_prefix == "<step>\n"


def test_format_question_adds_missing_code_prompt_and_entry_point():
    assert format_question(HUMANEVAL) == HE_PROMPT.strip()  # the prompt is already the question
    p = Problem(id="x", question="Sum two numbers.", prompt="def add(a, b):\n", entry_point="add",
                tests=Tests(kind="assert", cases=[]))
    assert format_question(p) == "Sum two numbers.\n\nComplete this code:\n```python\ndef add(a, b):\n```"
    q = Problem(id="y", question="Count the islands.", tests=Tests(kind="call", cases=[], fn_name="numIslands",
                                                                   class_name="Solution"))
    assert format_question(q).endswith("Write it as a method of class Solution named `numIslands`.")
    m = Problem(id="z", question="Reverse a list.", entry_point="rev", tests=Tests(kind="assert", cases=[]))
    assert format_question(m).endswith("Write it as a function named `rev`.")


def test_direct_answer_becomes_a_humaneval_solution():
    user, prefix = direct_prompt(HUMANEVAL)
    assert HE_PROMPT.strip() in user and prefix.endswith("```python\n")
    # a full function without the prompt's import: the import is added
    full = "def below_zero(operations: List[int]) -> bool:\n    s = 0\n    for x in operations:\n" \
           "        s += x\n        if s < 0:\n            return True\n    return False"
    sol = to_solution(HUMANEVAL, prefix + full + DIRECT_STOP[0])
    assert sol.startswith("from typing import List\n")
    assert run(sol)["below_zero"]([1, 2, -4, 5]) is True
    # only the body (unindented): appended to the prompt
    body = "s = 0\nfor x in operations:\n    s += x\n    if s < 0:\n        return True\nreturn False"
    sol = to_solution(HUMANEVAL, prefix + body + "\n```")
    assert sol.startswith(HE_PROMPT) and run(sol)["below_zero"]([1, -2]) is True
    # an answer cut by max_tokens (no closing fence) still yields its code
    assert answer_code(prefix + "def f():\n    return 1") == "def f():\n    return 1"
    # ... and one cut in the middle of the example calls after a finished function keeps the function
    cut = full + "\n\n\n# Test cases\nprint(below_zero([1, 2, -4, 5]))  # True\nprint(below_zero([1, 2,"
    sol = to_solution(HUMANEVAL, prefix + cut)
    assert "print(below_zero([1, 2,\n" not in sol + "\n" and run(sol)["below_zero"]([1, -2]) is True


def test_mbpp_solution_is_the_code_as_written():
    code = 'def remove_Occ(s, ch):\n    s = s.replace(ch, "", 1)\n    i = s.rfind(ch)\n' \
           '    return s if i < 0 else s[:i] + s[i + 1:]'
    sol = to_solution(MBPP, "Here it is:\n```python\n" + code + "\n```\nDone.")
    assert sol == code and run(sol)["remove_Occ"]("hello", "l") == "heo"
    assert to_solution(MBPP, format_code_step(code)) == code  # a terminal step works too
    assert to_solution(MBPP, "I cannot solve this.") == ""


def test_cot_prompt_asks_for_a_plan_then_code():
    user, prefix = cot_prompt(MBPP)
    assert MBPP.question in user and "step by step" in user and "```python" in user
    assert prefix.startswith("Let's think step by step.")
    answer = prefix + " Replace the first.\n2. Remove the last.\n```python\ndef remove_Occ(s, c):\n    return s\n```"
    assert to_solution(MBPP, answer) == "def remove_Occ(s, c):\n    return s"
