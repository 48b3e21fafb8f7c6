"""The plan-first exploration prompt (``explore.prompt=plan_first``): the shape of the authors' round-1
prompt (`data_collection/mcts_math/agents/utils.py` 31-57 and `few_shots/prompt_code.json` at
iponika/MCTS-Code-Scoring c842c71), in our own words and with our own worked examples.

Raw text, no chat template: instructions that ask for a high-level plan before the code, ``k`` worked
examples drawn afresh from seven at EVERY call (each a plan of 3-4 numbered steps, then the code
step), then the question, ``Answer:`` and the steps so far with the next step opened.
"""
from __future__ import annotations

import random
from collections.abc import Sequence

from seer.data.schemas import Problem
from seer.llm.prompts import FewShotExample, format_question
from seer.llm.steps import STEP_OPEN

PLAN_FIRST_INSTRUCTIONS = (
    "You are a skilled programmer who solves coding problems carefully. Before writing any code, lay "
    "out a plan of high-level steps; write the code only once the plan is complete.\n"
    "Pick an algorithm that fits the problem (for example brute force, sorting, two pointers, a hash "
    "map, a stack or queue, recursion, BFS/DFS or dynamic programming) and make the solution correct "
    "for every valid input, including the edge cases the problem allows.\n"
    "The final answer is a callable function (or class) only: no tests, no example calls, no main "
    "block.")

PLAN_FIRST_SUFFIX = (f"Your turn. Write each step of the plan between {STEP_OPEN} and </step>, and put the final "
                     "code between <code> and </code> in the last step.")

PLAN_FEWSHOT: tuple[FewShotExample, ...] = (
    FewShotExample(
        question="Write a function `run_lengths(s)` that returns the runs of equal consecutive characters of a "
                 "string as (character, length) pairs.",
        plan=("Walk through the string once, remembering the character of the current run and its length.",
              "When the next character differs, close the current run.\n- Append (character, length)\n"
              "- Start a new run of length 1",
              "After the loop, close the last run unless the string was empty."),
        code="def run_lengths(s):\n"
             "    runs = []\n"
             "    for ch in s:\n"
             "        if runs and runs[-1][0] == ch:\n"
             "            runs[-1] = (ch, runs[-1][1] + 1)\n"
             "        else:\n"
             "            runs.append((ch, 1))\n"
             "    return runs",
        tests=("assert run_lengths('aaabcc') == [('a', 3), ('b', 1), ('c', 2)]", "assert run_lengths('') == []"),
    ),
    FewShotExample(
        question="Write a function `second_largest(nums)` that returns the second largest distinct value of a "
                 "list of numbers, or None when there are fewer than two distinct values.",
        plan=("Duplicates do not count, so reduce the list to its distinct values with a set.",
              "If fewer than two distinct values remain, the answer is None.",
              "Otherwise sort the distinct values in decreasing order and take the second one."),
        code="def second_largest(nums):\n"
             "    distinct = sorted(set(nums), reverse=True)\n"
             "    return distinct[1] if len(distinct) >= 2 else None",
        tests=("assert second_largest([4, 1, 4, 3]) == 3", "assert second_largest([7, 7]) is None"),
    ),
    FewShotExample(
        question="Write a function `balanced(text)` that tells whether the brackets (), [] and {} in a string "
                 "are balanced; other characters are ignored.",
        plan=("A closing bracket must match the most recent unmatched opening bracket, so keep the open "
              "brackets on a stack.",
              "Scan the text.\n- Push every opening bracket\n- For a closing bracket, fail if the stack is "
              "empty or its top is not the matching opening bracket, else pop",
              "At the end the text is balanced exactly when the stack is empty."),
        code="def balanced(text):\n"
             "    pairs = {')': '(', ']': '[', '}': '{'}\n"
             "    stack = []\n"
             "    for ch in text:\n"
             "        if ch in '([{':\n"
             "            stack.append(ch)\n"
             "        elif ch in pairs:\n"
             "            if not stack or stack.pop() != pairs[ch]:\n"
             "                return False\n"
             "    return not stack",
        tests=("assert balanced('a(b[c]{d})')", "assert not balanced('(]')", "assert not balanced('((')"),
    ),
    FewShotExample(
        question="Write a function `merge_intervals(intervals)` that merges overlapping closed intervals "
                 "given as [start, end] lists and returns them sorted by start.",
        plan=("Sort the intervals by their start so overlapping ones become neighbours.",
              "Go through them in order, keeping the merged list.\n- If an interval starts after the end of the "
              "last merged one, append a copy of it\n- Otherwise extend the last merged interval's end",
              "Touching intervals such as [1, 2] and [2, 3] overlap because the ends are closed.",
              "Return the merged list."),
        code="def merge_intervals(intervals):\n"
             "    merged = []\n"
             "    for start, end in sorted(intervals):\n"
             "        if merged and start <= merged[-1][1]:\n"
             "            merged[-1][1] = max(merged[-1][1], end)\n"
             "        else:\n"
             "            merged.append([start, end])\n"
             "    return merged",
        tests=("assert merge_intervals([[5, 6], [1, 3], [2, 4]]) == [[1, 4], [5, 6]]",
               "assert merge_intervals([[1, 2], [2, 3]]) == [[1, 3]]", "assert merge_intervals([]) == []"),
    ),
    FewShotExample(
        question="Write a function `rotate_clockwise(matrix)` that returns a new matrix equal to a rectangular "
                 "matrix (a list of rows) rotated by 90 degrees clockwise.",
        plan=("Rotating clockwise turns the columns, read from the bottom row up, into the rows.",
              "Reverse the order of the rows, then transpose with zip(*rows).",
              "zip yields tuples, so turn each new row into a list before returning."),
        code="def rotate_clockwise(matrix):\n"
             "    return [list(row) for row in zip(*matrix[::-1])]",
        tests=("assert rotate_clockwise([[1, 2], [3, 4]]) == [[3, 1], [4, 2]]",
               "assert rotate_clockwise([[1, 2, 3]]) == [[1], [2], [3]]"),
    ),
    FewShotExample(
        question="Write a function `common_prefix(words)` that returns the longest prefix shared by every string "
                 "of a list ('' for an empty list).",
        plan=("An empty list has no common prefix, so return '' at once.",
              "The prefix can be no longer than the shortest word; compare position by position.",
              "Stop at the first position where the words disagree and return the characters before it."),
        code="def common_prefix(words):\n"
             "    if not words:\n"
             "        return ''\n"
             "    prefix = []\n"
             "    for chars in zip(*words):\n"
             "        if len(set(chars)) != 1:\n"
             "            break\n"
             "        prefix.append(chars[0])\n"
             "    return ''.join(prefix)",
        tests=("assert common_prefix(['flower', 'flow', 'flight']) == 'fl'", "assert common_prefix(['a', 'b']) == ''",
               "assert common_prefix([]) == ''"),
    ),
    FewShotExample(
        question="Write a function `min_coins(coins, amount)` that returns the fewest coins (each value usable "
                 "any number of times) summing to an amount, or -1 when no combination does.",
        plan=("Greedy choice fails for some coin systems, so use dynamic programming over the amounts 0..amount.",
              "Let best[a] be the fewest coins for amount a: best[0] = 0 and every other entry starts as "
              "infinity.",
              "For each amount a from 1 up, best[a] = 1 + min(best[a - c]) over the coins c <= a.",
              "Return best[amount], or -1 if it is still infinity."),
        code="def min_coins(coins, amount):\n"
             "    best = [0] + [float('inf')] * amount\n"
             "    for a in range(1, amount + 1):\n"
             "        for c in coins:\n"
             "            if c <= a and best[a - c] + 1 < best[a]:\n"
             "                best[a] = best[a - c] + 1\n"
             "    return best[amount] if best[amount] != float('inf') else -1",
        tests=("assert min_coins([1, 3, 4], 6) == 2", "assert min_coins([2], 3) == -1",
               "assert min_coins([5], 0) == 0"),
    ),
)


def _example(ex: FewShotExample) -> str:
    return f"Question: {ex.question}\nAnswer:\n" + "\n".join(ex.steps())


def plan_first_prompt(problem: Problem, steps_so_far: Sequence[str], k: int, rng: random.Random) -> str:
    """The whole prompt text (no chat template); it ends with the next step opened, so the
    continuation is that step's body up to ``</step>``. ``rng`` draws the ``k`` examples."""
    shots = rng.sample(list(PLAN_FEWSHOT), min(k, len(PLAN_FEWSHOT)))
    head = (f"The following are {len(shots)} worked examples." if len(shots) != 1
            else "The following is a worked example.")
    examples = [f"Example {i}:\n{_example(ex)}" for i, ex in enumerate(shots, 1)]
    answer = "".join(s.strip() + "\n" for s in steps_so_far) + STEP_OPEN + "\n"
    tail = f"{PLAN_FIRST_SUFFIX}\n\nQuestion: {format_question(problem)}\nAnswer:\n{answer}"
    return "\n\n".join([PLAN_FIRST_INSTRUCTIONS, head, *examples, tail])
