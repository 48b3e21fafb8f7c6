import random
import re

from seer.data.schemas import Problem, Tests
from seer.llm.policy import Generation
from seer.llm.steps import format_code_step, format_plan_step
from seer.config import ExploreConfig
from seer.search.perturb import PerturbJob, first_sentence, perturb, plan_job
from seer.search.refine import RefineJob, Rewrite, parse_rewrite, refine, splice
from tests.fakes import FakeExecutor, ScriptedPolicy, exec_judge

TESTS = Tests(kind="assert", cases=["assert add(2, 3) == 5", "assert add(0, 0) == 0"])
GOOD = "def add(a, b):\n    return a + b"
BAD1 = "def add(a, b):\n    return a - b"
BAD2 = "def add(a, b):\n    return a * b"
QUESTION = "Write a function add that sums two numbers. It must handle negative numbers too."


def _problem(pid="p", solution=GOOD) -> Problem:
    return Problem(id=pid, question=QUESTION, tests=TESTS, solution=solution)


def prompt_fn(problem, steps):
    return f"Q {problem.id}: {problem.question}\n" + "".join(s + "\n" for s in steps) + "<step>\n"


def code(src: str) -> Generation:
    return Generation(f"<code>\n```python\n{src}\n```\n</code>\n</step>", 5, -0.5)


def plan(text: str) -> Generation:
    return Generation(f"{text}\n</step>", 3, -0.5)


# --- perturbation -----------------------------------------------------------------------------

def test_first_sentence():
    assert first_sentence(QUESTION) == "Write a function add that sums two numbers."
    assert first_sentence("Sum 1.5 and 2.\nYour code should pass: assert f() == 3.5") == "Sum 1.5 and 2."
    assert first_sentence("Write a python function to add\nassert add(1, 2) == 3") == "Write a python function to add"
    assert first_sentence("no terminator at all") == "no terminator at all"


def test_plan_job_cuts_a_prefix_of_plan_steps_and_truncates_the_question():
    steps = [format_plan_step(1, "a"), format_plan_step(2, "b"), format_code_step(GOOD)]
    cuts = set()
    for seed in range(30):
        job = plan_job(_problem(), [{"steps": steps, "q_values": [0.5, 0.75, 1.0], "reward": 1.0}], random.Random(seed))
        k = len(job.prefix)
        cuts.add(k)
        assert job.prefix == steps[:k] and job.prefix_q == [0.5, 0.75, 1.0][:k]
        assert job.truncated.question == "Write a function add that sums two numbers."
        assert job.problem.question == QUESTION and job.truncated.tests is job.problem.tests
    assert cuts == {0, 1, 2}  # never the code step itself


def test_perturbation_keeps_only_failing_completions():
    prefix = [format_plan_step(1, "add the numbers")]
    job = PerturbJob(_problem(), plan_job(_problem(), [{"steps": prefix + [format_code_step(GOOD)],
                                                        "q_values": [1.0, 1.0], "reward": 1.0}],
                                          random.Random(0)).truncated, prefix, [0.8])

    def script(prompt, call, j):
        if call == 0:
            return [code(GOOD), code(BAD1), plan("2. multiply instead"), Generation("junk", 9, -3.0, "length"),
                    code(BAD1), code(BAD2)][j]
        assert "2. multiply instead" in prompt  # only the open rollout continues
        return code(BAD2 + "  # via plan")

    policy = ScriptedPolicy(script)
    executor = FakeExecutor(exec_judge)
    settings = ExploreConfig(max_depth=4)
    paths, stats = perturb([job], policy, executor, prompt_fn, settings, n_samples=6, max_per_problem=6,
                           config_hash="h")
    # the search continues under the truncated question; the paths stand under the original one
    (first_prompts, req0), (second_prompts, req1) = policy.calls
    assert req0.n == 6 and req1.n == 1 and len(second_prompts) == 1
    assert "It must handle negative numbers" not in first_prompts[0]
    assert all(p.question == QUESTION and p.reward == -1.0 and p.source == "perturb" for p in paths)
    finals = [p.steps[-1] for p in paths]
    assert finals == [format_code_step(BAD1), format_code_step(BAD2), format_code_step(BAD2 + "  # via plan")]
    assert format_code_step(GOOD) not in finals  # passing completions are not negatives
    assert paths[0].steps == prefix + [format_code_step(BAD1)] and paths[0].q_values == [0.8, -1.0]
    assert paths[2].steps == prefix + [format_plan_step(2, "multiply instead"), format_code_step(BAD2 + "  # via plan")]
    assert paths[2].q_values == [0.8, None, -1.0]
    # junk has no code; BAD1 fails twice but is kept once
    assert (stats["completions"], stats["code"], stats["failing"], stats["kept"]) == (6, 5, 4, 3)


def test_perturbation_caps_negatives_per_problem_and_batches_problems():
    jobs = [PerturbJob(_problem(pid), _problem(pid), [], []) for pid in ("a", "b")]
    policy = ScriptedPolicy(lambda prompt, call, j: code(f"def add(a, b):\n    return {j}"))
    paths, stats = perturb(jobs, policy, FakeExecutor(exec_judge), prompt_fn, ExploreConfig(), n_samples=5,
                           max_per_problem=2)
    assert len(policy.calls) == 1 and len(policy.calls[0][0]) == 2  # one call for both problems
    assert [p.problem_id for p in paths] == ["a", "a", "b", "b"]
    assert stats["problems_with_negatives"] == 2


# --- refinement -------------------------------------------------------------------------------

INCORRECT = [format_plan_step(1, "read the numbers"), format_plan_step(2, "subtract them"),
             format_plan_step(3, "return the result"), format_code_step(BAD1)]


def test_parse_rewrite_reads_the_step_number_and_the_steps():
    text = (" 2\n<step>\n7. add them instead\n</step>\n<step>\nbad ```x``` code\n</step>\n"
            f"{format_code_step(GOOD)}\ntrailing words")
    rw = parse_rewrite(text)
    assert rw.wrong_step == 2 and rw.plan == ["add them instead"] and rw.code_step == format_code_step(GOOD)
    assert parse_rewrite("no number here").wrong_step is None
    broken = parse_rewrite(" 1\n<step>\n<code>\n```python\ndef add(a, b) return\n```\n</code>\n</step>")
    assert broken.code_step is None


def test_splice_keeps_the_prefix_before_the_wrong_step_and_renumbers():
    rw = Rewrite(2, ["add them", "return the sum"], format_code_step(GOOD))
    steps, fell_back = splice(INCORRECT, rw, reference=GOOD)
    assert steps == [INCORRECT[0], format_plan_step(2, "add them"), format_plan_step(3, "return the sum"),
                     format_code_step(GOOD)]
    assert not fell_back
    # a wrong step past the plan keeps every plan step and replaces only the code
    steps, _ = splice(INCORRECT, Rewrite(9, [], format_code_step(GOOD)), GOOD)
    assert steps == INCORRECT[:3] + [format_code_step(GOOD)]
    # unreadable step number: rewrite from the start; unparsable code: the reference stands in
    steps, fell_back = splice(INCORRECT, Rewrite(None, ["sum"], None), "def add(a, b):\n    return b + a")
    assert steps == [format_plan_step(1, "sum"), format_code_step("def add(a, b):\n    return b + a")] and fell_back
    # no valid path at all
    assert splice([], Rewrite(3, [], None), GOOD) == ([format_code_step(GOOD)], True)


def test_refine_end_to_end_with_fallbacks_and_targets():
    answers = {
        "ok": f" 2\n<step>\n2. add them\n</step>\n{format_code_step(GOOD)}",
        "unparsable": " 1\n<step>\n<code>\n```python\ndef add(\n```\n</code>\n</step>",
        "wrong": f" 3\n{format_code_step(BAD2)}",
    }

    def script(prompt, call, j):
        return Generation(answers[re.search(r"\(id (\w+)\)", prompt).group(1)], 20, -1.0)

    def prob(pid, solution=GOOD):
        p = _problem(pid, solution)
        p.question += f" (id {pid})"
        return p

    jobs = [RefineJob(prob("ok"), INCORRECT), RefineJob(prob("unparsable"), INCORRECT),
            RefineJob(prob("wrong"), INCORRECT), RefineJob(prob("noref", solution=""), INCORRECT)]
    policy = ScriptedPolicy(script)
    paths, stats = refine(jobs, policy, FakeExecutor(exec_judge), temperature=0.7, max_tokens=256, config_hash="h")
    assert len(policy.calls) == 1 and len(policy.calls[0][0]) == 3  # the problem without reference is skipped
    prompt = policy.calls[0][0][0]
    assert "subtract them" in prompt and GOOD in prompt and prompt.endswith("Wrong step:")
    by_id = {p.problem_id: p for p in paths}
    assert set(by_id) == {"ok", "unparsable", "wrong"}
    assert by_id["ok"].steps == [INCORRECT[0], format_plan_step(2, "add them"), format_code_step(GOOD)]
    assert by_id["ok"].q_values == [None, None, 1.0] and by_id["ok"].reward == 1.0
    assert by_id["unparsable"].steps == [format_code_step(GOOD)]
    # "wrong" keeps steps 1-2, its rewritten code fails the tests: the reference code replaces it
    assert by_id["wrong"].steps == INCORRECT[:2] + [format_code_step(GOOD)]
    assert all(p.source == "refine" and p.config_hash == "h" for p in paths)
    assert stats == {"problems": 4, "no_reference": 1, "refined": 3, "wrong_step_unread": 0,
                     "fallback_unparsable": 1, "fallback_failed_tests": 1}


def test_refine_without_verification_trusts_parsable_code():
    policy = ScriptedPolicy(lambda p, k, j: Generation(f" 1\n{format_code_step(BAD2)}", 5, -1.0))
    paths, stats = refine([RefineJob(_problem(), [])], policy, None, 0.7, 64)
    assert paths[0].steps == [format_code_step(BAD2)] and stats["fallback_failed_tests"] == 0
