"""The original MBPP (bundled mbpp/mbpp.jsonl.gz, 974 tasks) as Problems.

Splits follow the upstream README (bundled/mbpp/README.md): 1-10 few-shot prompts, 11-510 test,
511-600 validation, 601-974 train. Tests are the three ``test_list`` asserts; ``test_setup_code``
builds objects from classes the solution defines, so it runs *after* the code (Tests.setup).
The 11 ``challenge_test_list`` sets are not used.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

from seer.data.codeutil import find_entry_point
from seer.data.files import read_bundled_jsonl
from seer.data.schemas import Problem, Tests

log = logging.getLogger(__name__)

MBPP_FILE = "mbpp/mbpp.jsonl.gz"
MBPP_SPLITS: dict[str, range] = {
    "prompt": range(1, 11),
    "test": range(11, 511),
    "validation": range(511, 601),
    "train": range(601, 975),
}


def mbpp_question(text: str, example_test: str) -> str:
    """The task text plus one test, as the MBPP paper's prompt shows it: names the entry point."""
    return f"{text.strip()}\nYour code should pass this test:\n\n{example_test.strip()}"


def load_mbpp(splits: Iterable[str], source: str = "mbpp") -> list[Problem]:
    """MBPP tasks of the given splits, in task_id order."""
    splits = list(splits)
    unknown = [s for s in splits if s not in MBPP_SPLITS]
    if unknown:
        raise ValueError(f"unknown MBPP split(s) {unknown}; valid: {sorted(MBPP_SPLITS)}")
    split_of = {tid: s for s in splits for tid in MBPP_SPLITS[s]}
    out = []
    for rec in read_bundled_jsonl(MBPP_FILE):
        split = split_of.get(rec["task_id"])
        if split is None:
            continue
        code = rec["code"].replace("\r\n", "\n")
        tests = list(rec["test_list"])
        entry = find_entry_point(code, tests)
        out.append(Problem(
            id=f"Mbpp/{rec['task_id']}",
            question=mbpp_question(rec["text"], tests[0]),
            # fn_name: the tests' `sum` is the program's in Mbpp/126 (the checker's otherwise)
            tests=Tests(kind="assert", cases=tests, setup=rec["test_setup_code"].replace("\r\n", "\n"),
                        fn_name=entry),
            entry_point=entry,
            solution=code,
            source=source,
            meta={"task_id": rec["task_id"], "split": split},
        ))
    log.info("mbpp: %d problems from splits %s", len(out), ",".join(splits))
    return out
