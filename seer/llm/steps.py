"""The step format of docs/method.md section 1 and its parser.

A step is ``<step>\\nN. text\\n</step>``; the final step wraps code:
``<step>\\n<code>\\n```python\\n...\\n```\\n</code>\\n</step>``. A step holding ``<code>`` is
terminal; code inside a non-final step is not allowed.
"""
from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

STEP_OPEN = "<step>"
STEP_CLOSE = "</step>"
CODE_OPEN = "<code>"
CODE_CLOSE = "</code>"

# A fenced block: the opening fence may follow other text on its line (any language tag, e.g.
# python3); the closing fence must start a line, so a ``` inside a code string does not end the block.
_FENCE = re.compile(r"```[\w+.-]*[ \t]*\n(.*?)^[ \t]*```", re.DOTALL | re.MULTILINE)
_OPEN_FENCE = re.compile(r"```[\w+.-]*[ \t]*\n")
_TRAILING_FENCE = re.compile(r"(?:^|\n)[ \t]*```[ \t]*\s*$")


@dataclass
class ParsedStep:
    text: str  # the normalised step, ``<step>\n...\n</step>``
    body: str  # text between the tags, stripped
    is_terminal: bool
    code: str | None  # extracted code for a terminal step
    error: str | None  # why the step is malformed, None when valid

    @property
    def valid(self) -> bool:
        return self.error is None


def format_step(body: str) -> str:
    return f"{STEP_OPEN}\n{body.strip()}\n{STEP_CLOSE}"


def format_plan_step(n: int, text: str) -> str:
    """A numbered reasoning step: ``<step>\nN. text\n</step>``."""
    return format_step(f"{n}. {text.strip()}")


def format_code_step(code: str) -> str:
    return format_step(f"{CODE_OPEN}\n```python\n{code.strip()}\n```\n{CODE_CLOSE}")


def extract_code(text: str) -> str | None:
    """The code of a text: its last closed fenced block, else the body of ``<code>`` (an unclosed
    opening fence inside it dropped), else what follows an unclosed fence (an answer cut short by
    max_tokens), else None."""
    blocks = _FENCE.findall(text)
    if blocks:
        # a block indented as a whole (inside a markdown list) is still valid code once dedented
        return textwrap.dedent(blocks[-1]).strip("\n")
    m = re.search(re.escape(CODE_OPEN) + r"(.*?)(?:" + re.escape(CODE_CLOSE) + r"|$)", text, re.DOTALL)
    if m:
        inner = m.group(1)
        fence = _OPEN_FENCE.search(inner)
        if fence and not inner[: fence.start()].strip():
            inner = inner[fence.end():]
        inner = _TRAILING_FENCE.sub("", inner)  # a closing fence whose opening one is missing
        if inner.strip():
            return textwrap.dedent(inner).strip("\n")
        return None
    fences = list(_OPEN_FENCE.finditer(text))
    if fences and text[fences[-1].end():].strip():
        return textwrap.dedent(text[fences[-1].end():]).strip("\n")
    return None


def parse_step(raw: str) -> ParsedStep:
    """Parse one generated step (the model's continuation after ``<step>``, or a full step).

    Accepts text with or without the leading ``<step>``; requires the closing ``</step>``.
    """
    s = raw.strip()
    s = s.removeprefix(STEP_OPEN)
    if STEP_CLOSE not in s:
        return ParsedStep(format_step(s), s.strip(), False, None, "no closing </step>")
    body = s.split(STEP_CLOSE, 1)[0].strip()
    text = format_step(body)
    if not body:
        return ParsedStep(text, body, False, None, "empty step")
    if STEP_OPEN in body:
        return ParsedStep(text, body, False, None, "nested <step>")
    has_code_tag = CODE_OPEN in body
    has_fence = "```" in body
    if not has_code_tag:
        if has_fence:
            return ParsedStep(text, body, False, None, "code in a non-final step")
        if CODE_CLOSE in body:
            return ParsedStep(text, body, False, None, "</code> without <code>")
        return ParsedStep(text, body, False, None, None)
    code = extract_code(body)
    if code is None or not code.strip():
        return ParsedStep(text, body, True, None, "terminal step without code")
    try:
        ast.parse(code)
    except SyntaxError as e:
        return ParsedStep(text, body, True, code, f"code does not parse: {e.msg} (line {e.lineno})")
    except (ValueError, RecursionError, MemoryError) as e:  # null bytes, absurd nesting
        return ParsedStep(text, body, True, code, f"code does not parse: {type(e).__name__}: {e}")
    return ParsedStep(text, body, True, code, None)
