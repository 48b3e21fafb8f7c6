"""A model's answer -> an EvalPlus `solution` (a full program that defines what the tests call)."""
from __future__ import annotations

import ast
import textwrap

from seer.data.codeutil import defined_names
from seer.data.schemas import Problem
from seer.llm.steps import extract_code


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return False
    return True


def parsable_head(code: str) -> str:
    """``code``, or its longest run of leading lines that parses when the whole does not: an answer
    cut by the token budget keeps the functions it finished (EvalPlus sanitises the same way)."""
    if _parses(code):
        return code
    lines = code.splitlines()
    for end in range(len(lines) - 1, 0, -1):
        head = "\n".join(lines[:end])
        if head.strip() and _parses(head):
            return head
    return code


def answer_code(text: str) -> str | None:
    """The code of an answer (`steps.extract_code`), else the whole text when it is valid Python."""
    code = extract_code(text)
    if code is not None:
        return parsable_head(code)
    return text.strip("\n") if text.strip() and _parses(text) else None


def _import_lines(prompt: str) -> list[str]:
    return [ln for ln in prompt.splitlines() if ln.startswith(("import ", "from "))]


def to_solution(problem: Problem, answer: str) -> str:
    """The full program to test for `answer` (the assistant text: prefix + continuation).

    For a completion-style prompt (HumanEval: the prompt defines `entry_point` and ends in its
    docstring) an answer that only holds the function body is appended to the prompt; an answer
    that defines the function itself gets the prompt's imports (`List`, `math`, ...) in front.
    """
    code = answer_code(answer) or ""
    entry = problem.entry_point
    if not (problem.prompt and entry and entry in defined_names(problem.prompt)):
        return code
    if entry in defined_names(code):
        missing = [ln for ln in _import_lines(problem.prompt) if ln not in code]
        return "\n".join(missing + [code]) if missing else code
    body = code if code[:1] in (" ", "\t") else textwrap.indent(code, "    ")
    completed = problem.prompt.rstrip("\n") + "\n" + body
    return completed if _parses(completed) else code
