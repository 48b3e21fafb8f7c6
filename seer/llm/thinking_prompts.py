"""Prompts and output parsers of SRA-MCTS (docs/method.md section 6) and its CoT/ToT baselines.

The wording is ours; the structure follows the SRA-MCTS authors' code (DIRECT-BIT/SRA-MCTS):
- proposal: one next reasoning step in natural language, guided by the reflection on the steps so
  far and told which siblings were already proposed; code in a step is removed (their rule);
- evaluation: progressive 0-10 self-evaluation over four criteria checked in order; the first
  criterion that fails fixes the score band, all met gives 10 (`CRITERIA`, `parse_evaluation`);
- reflection: a short direction for the next step, or ``<end>`` when the steps solve the problem;
- thinking -> code: implement the question following the thinking;
- cleaning (their ``clean.ipynb``): fenced ```python blocks are cut out of the thinking and a
  thinking of fewer than 20 space-separated words is dropped;
- the SFT turn: our CoT prompt of the question -> thinking + code (see `sft_turn`).

Every builder returns ``(user message, assistant prefix)`` like `seer.llm.prompts`; turn them into
a prompt with ``policy.chat_prompt(user, assistant_prefix=prefix)``.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from seer.data.schemas import Problem
from seer.llm.prompts import cot_prompt

END = "<end>"
PROPOSAL_PREFIX = "Next step:"
# a step is one line (the authors keep the first line after "Next step:"); these stops end the
# sample soon after it without cutting a step that starts on a fresh line
PROPOSAL_STOP = ["\n\n", "\nStep ", "\nNext step"]
CODE_PREFIX = "```python\n"
CODE_STOP = ["\n```"]
DEFAULT_SCORE = 5.0  # an evaluation without a readable score (the authors' default)


@dataclass(frozen=True)
class Criterion:
    name: str
    question: str
    band: tuple[int, int]  # the score range when this is the first criterion that fails


CRITERIA: tuple[Criterion, ...] = (
    Criterion("Step correctness", "Is the newest step correct on its own and relevant to the problem?", (0, 2)),
    Criterion("Coherence", "Does the newest step follow from the earlier steps without contradicting them, "
                           "and are the earlier steps free of errors?", (3, 4)),
    Criterion("Completeness", "Do the steps together cover everything the problem needs, so nothing is "
                              "left to add?", (5, 7)),
    Criterion("Solution correctness", "Would code that follows these steps solve the problem correctly, "
                                      "including its edge cases and limits?", (8, 9)),
)
ALL_MET = 10.0


def format_steps(steps: Sequence[str]) -> str:
    """Steps as the prompts show them: ``Step 1: ...`` lines, or ``None``."""
    return "\n".join(f"Step {i}: {s}" for i, s in enumerate(steps, 1)) if steps else "None"


def number_steps(steps: Sequence[str]) -> str:
    """The thinking text of a path: ``1. ...`` lines (the numbered-plan format of CoT answers)."""
    return "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))


# --- proposal ----------------------------------------------------------------------------------
_PROPOSAL = """\
Your task is to write the next step of a plan that solves a programming problem. You get the problem, \
the steps written so far (not a full solution yet) and an analysis of them.
- Write exactly one step: short, clear, and about one small part of the solution.
- Follow the analysis unless it is wrong; continue the existing steps without repeating them.
- If there are no steps yet, write the first step.
- Describe the step in natural language only. Do not write code.

Answer in the form
Next step: <the step>"""


def proposal_prompt(question: str, steps: Sequence[str], reflection: str = "",
                    siblings: Sequence[str] = ()) -> tuple[str, str]:
    """The prompt of one sibling: the siblings already proposed are listed so the model avoids them."""
    parts = [_PROPOSAL, f"Problem:\n{question.strip()}", f"Existing steps:\n{format_steps(steps)}",
             f"Analysis: {reflection.strip() or 'None'}"]
    if siblings:
        parts.append("These next steps were already proposed; write a different one:\n"
                     + "\n".join(f"- {s}" for s in siblings))
    return "\n\n".join(parts), PROPOSAL_PREFIX


_FENCED_PYTHON = re.compile(r"```python[\s\S]*?(?:```|$)")
_ANY_FENCE = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_LABEL = re.compile(r"^\s*(?:next\s+step|step\s*\d+)\s*[:.]\s*", re.IGNORECASE)
_NUMBER = re.compile(r"^\s*\d+[.)]\s+")


def parse_proposal(text: str) -> str | None:
    """The step a proposal holds, or None when it holds none (empty, or too short to be a step).

    Code blocks are removed, then a ``Next step:`` / ``Step N:`` label and list numbering; the step
    is the first non-empty line that remains.
    """
    text = _ANY_FENCE.sub("", text)
    for line in text.splitlines():
        line = _NUMBER.sub("", _LABEL.sub("", line)).strip()
        if line:
            return line if len(line) >= 2 else None
    return None


def _norm(s: str) -> str:
    return " ".join(s.lower().split()).rstrip(".")


def is_duplicate(step: str, siblings: Sequence[str], path: Sequence[str]) -> bool:
    """A sibling said the same, or the path already holds this text (the authors' ``p in y`` rule)."""
    n = _norm(step)
    return any(_norm(s) == n for s in siblings) or n in _norm(" ".join(path))


# --- evaluation --------------------------------------------------------------------------------
def _criteria_text() -> str:
    lines = [f"{i}. {c.name}: {c.question} If this is the first criterion that fails, the score is "
             f"{c.band[0]}-{c.band[1]}." for i, c in enumerate(CRITERIA, 1)]
    return "\n".join(lines)


_EVALUATION = """\
You evaluate a partial plan for a programming problem. Check the criteria below in order and answer \
each with yes or no. Stop at the first "no": that criterion fixes the score band. If every criterion \
is met, the score is {all_met}. Judge only the given steps; do not write further steps or code.

{criteria}

Answer in the form
1. {first}: yes/no
...
Score: <integer from 0 to 10>"""


def evaluation_prompt(question: str, steps: Sequence[str]) -> tuple[str, str]:
    user = "\n\n".join([
        _EVALUATION.format(all_met=int(ALL_MET), criteria=_criteria_text(), first=CRITERIA[0].name),
        f"Problem:\n{question.strip()}", f"Steps:\n{format_steps(steps)}"])
    return user, f"1. {CRITERIA[0].name}:"


_VERDICT = re.compile(r"^\s*(\d)\s*[.)]\s*[^:\n]*:\s*\**\s*(yes|no)\b", re.IGNORECASE | re.MULTILINE)
_SCORE = re.compile(r"score\s*[:：]\s*\**\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


def parse_evaluation(text: str) -> float:
    """The 0-10 score of an evaluation answer (prefix + continuation).

    The first criterion answered "no" fixes the band: a stated score is clamped into it (its middle
    when none is stated). All four answered "yes" gives 10. Without verdicts the stated score counts
    (clamped to 0-10), and without either the score is `DEFAULT_SCORE`.
    """
    verdicts: dict[int, bool] = {}
    for m in _VERDICT.finditer(text):
        k = int(m.group(1))
        if 1 <= k <= len(CRITERIA) and k not in verdicts:
            verdicts[k] = m.group(2).lower() == "yes"
    m = _SCORE.search(text)
    stated = float(m.group(1)) if m else None
    failed = [k for k in range(1, len(CRITERIA) + 1) if verdicts.get(k) is False]
    if failed:
        lo, hi = CRITERIA[failed[0] - 1].band
        return float(min(max(stated, lo), hi)) if stated is not None else (lo + hi) / 2
    if all(verdicts.get(k) for k in range(1, len(CRITERIA) + 1)):
        return ALL_MET
    return float(min(max(stated, 0.0), ALL_MET)) if stated is not None else DEFAULT_SCORE


# --- reflection --------------------------------------------------------------------------------
_REFLECTION = f"""\
You are an expert reviewing a partly solved programming problem. First decide whether the given \
steps already solve the problem completely.
- If they do, answer only {END}
- If not, briefly assess the steps and suggest the direction of the next step (of the first step \
when there are none), in the form "Analysis: ...". Do not solve the whole problem."""


def reflection_prompt(question: str, steps: Sequence[str]) -> tuple[str, str]:
    return "\n\n".join([_REFLECTION, f"Problem:\n{question.strip()}", f"Existing steps:\n{format_steps(steps)}"]), ""


def parse_reflection(text: str) -> str:
    """`END`, or the analysis text ("" when the answer holds none)."""
    if END in text:
        return END
    m = re.search(r"analysis\s*:\s*", text, re.IGNORECASE)
    return (text[m.end():] if m else text).strip()


# --- thinking -> code and cleaning -------------------------------------------------------------
_IMPLEMENT = """\
You are a code implementer. Write complete, self-contained Python code for the problem below, \
following its step-by-step analysis strictly and adding no ideas of your own."""


def code_prompt(question: str, thinking: str) -> tuple[str, str]:
    """Question + thinking -> code; the prefix opens the code block (stop with `CODE_STOP`)."""
    return f"{_IMPLEMENT}\n\n### Question:\n{question.strip()}\n\n### Solution:\n{thinking.strip()}\n", CODE_PREFIX


def strip_code(thinking: str) -> str:
    """The authors' cleaning rule: cut every ```python block (an unclosed one to the end)."""
    return _FENCED_PYTHON.sub("", thinking).strip()


def enough_words(thinking: str, min_words: int) -> bool:
    """The authors' length filter: at least `min_words` space-separated words."""
    return len(thinking.split(" ")) >= min_words


# --- the SFT turn --------------------------------------------------------------------------------
def sft_question(question: str) -> str:
    """The question as SFT data shows it: cut before its examples (the authors' merge step)."""
    return question.split("**Example")[0].strip()


def sft_turn(problem: Problem, thinking: str, code: str) -> tuple[str, str]:
    """(user message, assistant response) of one SFT example.

    The user message is the CoT prompt of the question (`seer.llm.prompts.cot_prompt`), so the
    trained model is evaluated with ``infer.method=cot`` on exactly the prompt it learnt; the response
    continues that prompt's "Let's think step by step." with the numbered thinking and the code.
    """
    user, prefix = cot_prompt(dataclasses.replace(problem, question=sft_question(problem.question)))
    head = prefix.removesuffix("1.")  # the numbered thinking brings its own "1."
    return user, f"{head}{thinking.strip()}\n```python\n{code.strip()}\n```"
