"""The step format parser (docs/method.md section 1): property tests and the malformed cases."""
import ast

from hypothesis import given, settings
from hypothesis import strategies as st

from seer.llm.steps import (CODE_CLOSE, CODE_OPEN, STEP_CLOSE, STEP_OPEN, extract_code, format_code_step,
                            format_plan_step, format_step, parse_step)

TAGS = (STEP_OPEN, STEP_CLOSE, CODE_OPEN, CODE_CLOSE, "```")


def _tag_free(s: str) -> bool:
    return not any(t in s for t in TAGS)


bodies = st.text(min_size=1, max_size=200).filter(lambda s: _tag_free(s) and s.strip() != "")
names = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True).filter(lambda s: s not in {"def", "if", "in", "is",
                                                                                                "or", "as", "for"})


@settings(max_examples=200)
@given(bodies)
def test_format_then_parse_round_trips_a_plan_step(body):
    for raw in (format_step(body), format_step(body)[len(STEP_OPEN):]):  # with and without the opening tag
        p = parse_step(raw)
        assert p.valid, p.error
        assert p.body == body.strip()
        assert not p.is_terminal and p.code is None
        assert p.text == format_step(body)
        assert parse_step(p.text).body == p.body  # the normalised text parses to itself


@settings(max_examples=200)
@given(st.text(max_size=300).filter(lambda s: STEP_CLOSE not in s))
def test_text_without_closing_tag_is_invalid(text):
    p = parse_step(text)
    assert not p.valid
    assert p.error == "no closing </step>"


@given(bodies, st.sampled_from(["python", "py", "", "python3"]), names)
def test_fenced_code_in_a_non_final_step_is_rejected(text, lang, name):
    p = parse_step(format_step(f"{text}\n```{lang}\ndef {name}():\n    return 1\n```"))
    assert not p.valid
    assert p.error == "code in a non-final step"
    assert not p.is_terminal


@given(names, st.integers(-1000, 1000))
def test_code_step_round_trips_valid_code(name, k):
    code = f"def {name}(x):\n    return x + ({k})"
    p = parse_step(format_code_step(code))
    assert p.valid and p.is_terminal
    assert p.code == code
    assert extract_code(format_code_step(code)) == code


@given(st.sampled_from(["def f(:\n    pass", "return = 1", "if x\n  y", "x = (1,", "def g():\nreturn 1"]),
       bodies)
def test_terminal_step_with_unparsable_code_is_rejected_with_a_reason(bad, plan_text):
    # a terminal step may carry prose before its code; the reason names the syntax error
    p = parse_step(format_step(f"{plan_text}\n{CODE_OPEN}\n```python\n{bad}\n```\n{CODE_CLOSE}"))
    assert p.is_terminal and not p.valid
    assert p.error.startswith("code does not parse")
    assert p.code == bad
    try:
        ast.parse(bad)
        raise AssertionError("the sample is supposed not to parse")
    except SyntaxError:
        pass


def test_terminal_step_without_code_and_empty_and_nested_steps():
    assert parse_step(format_step(f"{CODE_OPEN}\n{CODE_CLOSE}")).error == "terminal step without code"
    assert parse_step(f"{STEP_OPEN}\n  \n{STEP_CLOSE}").error == "empty step"
    assert parse_step(f"{STEP_OPEN}\n1. a\n{STEP_OPEN}\n2. b\n{STEP_CLOSE}").error == "nested <step>"
    assert parse_step(format_step(f"1. a {CODE_CLOSE}")).error == "</code> without <code>"
    assert parse_step(format_step(f"{CODE_OPEN}\n```python\nx = '\0'\n```\n{CODE_CLOSE}")).error.startswith(
        "code does not parse")


def test_text_after_the_closing_tag_is_ignored():
    p = parse_step("1. Sort the list.\n</step>\n<step>\n2. more")
    assert p.valid and p.body == "1. Sort the list."


def test_format_plan_step_numbers_the_step():
    assert format_plan_step(3, " Sort it. ") == "<step>\n3. Sort it.\n</step>"


def test_extract_code_variants():
    # last closed block wins; language tags vary
    assert extract_code("```py\na = 1\n```\ntext\n```python3\nb = 2\n```") == "b = 2"
    # a fence inside a string does not end the block: the closing fence must start a line
    assert extract_code("```python\ns = '```'\nt = 1\n```") == "s = '```'\nt = 1"
    # an indented block (inside a markdown list) is dedented
    assert extract_code("1. code:\n    ```python\n    def f():\n        return 1\n    ```") == "def f():\n    return 1"
    # <code> without fences, and <code> with an unclosed fence
    assert extract_code(f"{CODE_OPEN}\nx = 1\n{CODE_CLOSE}") == "x = 1"
    assert extract_code(f"{CODE_OPEN}\n```python\nx = 1\n{CODE_CLOSE}") == "x = 1"
    assert extract_code(f"{CODE_OPEN}\n\nx = 1\n```\n{CODE_CLOSE}") == "x = 1"  # only the closing fence
    # an answer cut short by max_tokens: what follows the open fence
    assert extract_code("Here:\n```python\ndef f():\n    return") == "def f():\n    return"
    assert extract_code("no code here") is None
    assert extract_code("```python\n") is None
