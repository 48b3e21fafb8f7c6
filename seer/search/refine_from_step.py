"""The authors' refinement (``explore.refine.prompt=from_step``): the shape of their 3-shot prompt and
its checks (`data_collection/correction.py` 13-126 and `model_training/src/magicoder/
preprocess_mcts_data.py` 355-415 at iponika/MCTS-Code-Scoring c842c71), in our own words and with
our own examples.

Raw text: instructions, the answer format "From step <num>, ..." (``<code>`` names the code step),
three worked examples (a wrong code step, an empty path, a wrong plan step), then the problem, the
incorrect path and the reference solution. The model answers with the steps from the wrong one on,
sampled until ``</code>\\n</step>``. A rewrite is DROPPED when it is malformed (a step that is not a
numbered plan step or the final code step, numbers out of sequence, code outside the last step), when
the step it starts from is not in the path, or, for an empty path, when it does not start at step 1.
Rewritten code that does not parse is replaced by the reference solution.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Sequence

from seer.data.schemas import Problem
from seer.llm.prompts import format_question
from seer.llm.steps import CODE_OPEN, STEP_CLOSE, STEP_OPEN, extract_code, format_code_step, parse_step

STOP = ["</code>\n</step>"]

_INSTRUCTIONS = (
    "You are an expert programmer who reviews reasoning. You get a programming problem, a step-by-step "
    "reasoning path that leads to a WRONG program, and a correct reference solution.\n"
    "Find the first step of the path that goes wrong by comparing it with the reference solution, and "
    "rewrite the path from that step on. The path may be empty; then write the whole path, from step 1, "
    "following the reference solution.\n\n"
    "Answer in this format (write <code> as the step number when only the final code is wrong):\n"
    "From step <num>, the path goes wrong. Rewriting the path from step <num>.\n<the rewritten steps>")

_EXAMPLES = (
    ("Write a function `count_words(text)` that returns how many words a string has; words are separated by "
     "any whitespace.",
     "<step>\n1. Words are the pieces between whitespace, so split the text with str.split().\n</step>\n"
     "<step>\n<code>\n```python\ndef count_words(text):\n    return len(text.split(' '))\n```\n</code>\n</step>",
     "def count_words(text):\n    return len(text.split())",
     "From step <code>, the path goes wrong. Rewriting the path from step <code>.\n"
     "<step>\n<code>\n```python\ndef count_words(text):\n    return len(text.split())\n```\n</code>\n</step>"),
    ("Write a function `is_power_of_two(n)` that tells whether an integer is a power of two.",
     "",
     "def is_power_of_two(n):\n    return n > 0 and n & (n - 1) == 0",
     "From step 1, the path goes wrong. Rewriting the path from step 1.\n"
     "<step>\n1. A power of two is positive and has exactly one bit set.\n</step>\n"
     "<step>\n2. Clearing the lowest set bit with n & (n - 1) leaves 0 exactly for such numbers.\n</step>\n"
     "<step>\n<code>\n```python\ndef is_power_of_two(n):\n    return n > 0 and n & (n - 1) == 0\n```\n</code>\n"
     "</step>"),
    ("Write a function `middle(nums)` that returns the median of a non-empty list of numbers.",
     "<step>\n1. Sort a copy of the list.\n</step>\n"
     "<step>\n2. Return the element at index len(nums) // 2.\n</step>\n"
     "<step>\n<code>\n```python\ndef middle(nums):\n    s = sorted(nums)\n    return s[len(s) // 2]\n```\n</code>\n"
     "</step>",
     "def middle(nums):\n    s = sorted(nums)\n    n = len(s)\n"
     "    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2",
     "From step 2, the path goes wrong. Rewriting the path from step 2.\n"
     "<step>\n2. For an odd length the median is the middle element; for an even length it is the mean of "
     "the two middle elements.\n</step>\n"
     "<step>\n<code>\n```python\ndef middle(nums):\n    s = sorted(nums)\n    n = len(s)\n"
     "    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2\n```\n</code>\n</step>"),
)


def _block(question: str, path: str, solution: str) -> str:
    return f"Question:\n{question}\nIncorrect reasoning path:\n{path}\nSolution:\n{solution}\nOutput:\n"


def from_step_prompt(problem: Problem, steps: Sequence[str], reference: str) -> str:
    """The whole prompt text (no chat template); the continuation is the answer."""
    examples = [f"Example {i}:\n{_block(q, p, s)}{out}" for i, (q, p, s, out) in enumerate(_EXAMPLES, 1)]
    head = "Here are three examples:"
    task = "Now it is your turn:\n" + _block(format_question(problem), "\n".join(steps), reference.strip())
    return "\n\n".join([_INSTRUCTIONS, head, *examples, task])


_NUMBER = re.compile(r"^(\d+)\s*[.)]")


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def rewrite_steps(answer: str) -> list[str] | None:
    """The rewritten steps of an answer (the text after the first ``<step>``), or None when they are
    malformed: every block a numbered plan step (consecutive numbers) except the last, which holds
    ``<code>``. The answer may lack the stop string it was cut at."""
    if STEP_OPEN not in answer:
        return None
    body = answer[answer.index(STEP_OPEN):].rstrip()
    if body.endswith(CODE_OPEN.replace("<", "</")):
        body += f"\n{STEP_CLOSE}"
    elif not body.endswith(STEP_CLOSE):
        body += f"\n</code>\n{STEP_CLOSE}" if CODE_OPEN in body else ""
    blocks = [b.strip() for b in body.split(STEP_CLOSE) if b.strip()]
    if not blocks or not all(b.startswith(STEP_OPEN) for b in blocks):
        return None
    steps, prev = [], None
    for i, b in enumerate(blocks):
        inner = b[len(STEP_OPEN):].strip()
        last = i == len(blocks) - 1
        if CODE_OPEN in inner or "```" in inner:
            if CODE_OPEN not in inner or not last:
                return None
        else:
            m = _NUMBER.match(inner)
            if m is None or (prev is not None and int(m.group(1)) != prev + 1) or last:
                return None
            prev = int(m.group(1))
        steps.append(f"{STEP_OPEN}\n{inner}\n{STEP_CLOSE}")
    return steps


def splice_from_step(incorrect: Sequence[str], answer: str, reference: str) -> list[str] | None:
    """The refined path, or None when the rewrite is dropped (see the module docstring)."""
    rewritten = rewrite_steps(answer)
    if rewritten is None:
        return None
    first = parse_step(rewritten[0])
    if first.is_terminal:  # only the code step is rewritten: keep every plan step
        keep = max(len(incorrect) - 1, 0) if incorrect else None
    else:
        n = int(_NUMBER.match(first.body).group(1))  # type: ignore[union-attr]
        if not incorrect:
            keep = 0 if n == 1 else None
        else:
            numbers = [m.group(1) if (m := _NUMBER.match(parse_step(s).body)) else None for s in incorrect[:-1]]
            keep = numbers.index(str(n)) if str(n) in numbers else None
    if keep is None:
        return None
    code = extract_code(parse_step(rewritten[-1]).body) or ""
    final = format_code_step(code if code.strip() and _parses(code) else reference)
    return list(incorrect[:keep]) + rewritten[:-1] + [final]
