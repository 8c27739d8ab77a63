"""Tests of coderl_lessons.rewards: pass@k against exact binomials, rewards against hand-built
execution results, and the adapters called the way TRL and verl call them."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coderl_lessons.execution import CallTest, CheckTest, ExecutionResult, IOTest, TestOutcome
from coderl_lessons.rewards import (
    SURVEY_STAGE_WEIGHTS,
    binary_reward,
    compute_score,
    extract_code,
    format_reward,
    fraction_reward,
    load_tests,
    make_trl_reward,
    pass_at_k,
    pass_at_k_many,
    soft_overlong_punishment,
    staged_reward,
)

FAST = settings(max_examples=80, deadline=None)


def exact_pass_at_k(n: int, c: int, k: int) -> Fraction:
    """1 - C(n-c, k) / C(n, k) in exact rational arithmetic (math.comb(a, b) is 0 when b > a)."""
    return 1 - Fraction(math.comb(n - c, k), math.comb(n, k))


# ---------------------------------------------------------------- stand-ins for execution results


@dataclass(frozen=True)
class Counts:
    """The smallest duck-typed result the reward functions accept (what train.py passes)."""

    compiled: bool
    loaded: bool
    n_passed: int
    n_tests: int


def result(stage: str, *statuses: str) -> ExecutionResult:
    return ExecutionResult(stage, tuple(TestOutcome(s) for s in statuses))


ALL_PASS = result("ran", "passed", "passed", "passed")
ONE_WRONG = result("ran", "passed", "wrong_answer", "passed")
NO_TESTS = result("ran")
SYNTAX = result("syntax_error", "not_run", "not_run")
LOAD = result("load_error", "not_run", "not_run")
TIMEOUT = result("ran", "passed", "time_limit", "not_run")
LOAD_TIMEOUT = result("time_limit", "not_run", "not_run")


# ---------------------------------------------------------------- pass@k


def test_pass_at_k_equals_exact_binomials_for_all_small_cases():
    for n in range(1, 16):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert pass_at_k(n, c, k) == pytest.approx(float(exact_pass_at_k(n, c, k)), rel=1e-13, abs=1e-15)


@pytest.mark.parametrize(
    "n, c, k",
    [
        (10_000, 1, 1),
        (10_000, 3, 2),
        (10_000, 1, 100),
        (10_000, 37, 10),
        (10_000, 5_000, 100),
        (12_345, 9, 1_000),
        (1_000_000, 1, 1),
    ],
)
def test_pass_at_k_is_accurate_at_large_n(n, c, k):
    # full relative precision even for tiny values (1 - exp(...) loses 1e-13 at n = 10,000, c = 1)
    exact = exact_pass_at_k(n, c, k)
    assert pass_at_k(n, c, k) == pytest.approx(float(exact), rel=1e-14, abs=0)


def test_pass_at_k_simple_values():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)  # pass@1 is the fraction correct
    assert pass_at_k(10, 0, 5) == 0.0
    assert pass_at_k(5, 3, 3) == 1.0  # n - c = 2 < k = 3: every draw of 3 contains a correct one
    assert pass_at_k(1, 1, 1) == 1.0


@FAST
@given(n=st.integers(1, 200), data=st.data())
def test_pass_at_k_is_monotone_in_k_and_c(n, data):
    c = data.draw(st.integers(0, n))
    k = data.draw(st.integers(1, n))
    p = pass_at_k(n, c, k)
    assert 0.0 <= p <= 1.0
    if k < n:
        assert pass_at_k(n, c, k + 1) >= p
    if c < n:
        assert pass_at_k(n, c + 1, k) >= p
    assert p == pytest.approx(float(exact_pass_at_k(n, c, k)), rel=1e-10, abs=1e-15)


@pytest.mark.parametrize(
    "n, c, k, match",
    [
        (5, 2, 6, "k must not exceed"),
        (5, 6, 1, "c .* must not exceed n"),
        (-1, 0, 1, "n must be a non-negative integer"),
        (5, -1, 1, "c must be a non-negative integer"),
        (5, 1, 0, "k must be at least 1"),
        (5.0, 1, 1, "n must be a non-negative integer, got 5.0"),
        (5, 1.5, 1, "c must be"),
        (5, 1, True, "k must be"),
        ("5", 1, 1, "n must be"),
    ],
)
def test_pass_at_k_rejects_bad_input(n, c, k, match):
    with pytest.raises(ValueError, match=match):
        pass_at_k(n, c, k)


def test_pass_at_k_many_matches_scalar_version():
    c = np.array([0, 1, 5, 10])
    assert pass_at_k_many(10, c, 3).tolist() == [pass_at_k(10, int(x), 3) for x in c]
    n = np.array([10, 20, 30, 40], dtype=np.int64)
    assert pass_at_k_many(n, c, 5).tolist() == [pass_at_k(int(a), int(b), 5) for a, b in zip(n, c)]
    with pytest.raises(ValueError, match="same shape"):
        pass_at_k_many([10, 10], [1, 2, 3], 1)
    with pytest.raises(ValueError, match="non-negative integer"):
        pass_at_k_many(10, np.array([1.0, 2.0]), 1)


# ---------------------------------------------------------------- rewards over results


@pytest.mark.parametrize(
    "res, binary, fraction",
    [
        (ALL_PASS, 1.0, 1.0),
        (ONE_WRONG, 0.0, 2 / 3),
        (NO_TESTS, 0.0, 0.0),
        (SYNTAX, 0.0, 0.0),
        (LOAD, 0.0, 0.0),
        (TIMEOUT, 0.0, 1 / 3),
        (LOAD_TIMEOUT, 0.0, 0.0),
        (Counts(True, True, 2, 2), 1.0, 1.0),
        (Counts(True, True, 0, 0), 0.0, 0.0),
    ],
)
def test_binary_and_fraction_rewards(res, binary, fraction):
    assert binary_reward(res) == binary
    assert fraction_reward(res) == pytest.approx(fraction)
    if isinstance(res, ExecutionResult):
        assert binary_reward(res) == float(res.passed)  # agrees with the result's own verdict


@pytest.mark.parametrize(
    "res, compiled, loaded, all_pass",
    [
        (ALL_PASS, 1, 1, 1),
        (ONE_WRONG, 1, 1, 0),
        (NO_TESTS, 1, 1, 0),
        (SYNTAX, 0, 0, 0),
        (LOAD, 1, 0, 0),
        (TIMEOUT, 1, 1, 0),
        (LOAD_TIMEOUT, 1, 0, 0),
        (Counts(True, False, 0, 3), 1, 0, 0),
    ],
)
def test_staged_reward_adds_the_stages(res, compiled, loaded, all_pass):
    assert staged_reward(res) == pytest.approx(0.3 * compiled + 0.3 * loaded + 0.4 * all_pass)
    assert staged_reward(res, (1.0, 10.0, 100.0)) == pytest.approx(compiled + 10 * loaded + 100 * all_pass)


def test_staged_reward_defaults_are_the_survey_weights():
    assert SURVEY_STAGE_WEIGHTS == (0.3, 0.3, 0.4)
    assert staged_reward(ALL_PASS) == pytest.approx(1.0)
    # the shaping the lesson questions: a program that fails every test earns 0.6
    assert staged_reward(result("ran", "wrong_answer", "wrong_answer")) == pytest.approx(0.6)


@pytest.mark.parametrize("weights", [(0.5, 0.5), (0.1, 0.2, 0.3, 0.4), (0.3, float("nan"), 0.4), ("a", 0.3, 0.4)])
def test_staged_reward_rejects_bad_weights(weights):
    with pytest.raises(ValueError, match="three finite numbers"):
        staged_reward(ALL_PASS, weights)


# ---------------------------------------------------------------- format


def test_extract_code_takes_the_last_python_block():
    text = "Draft:\n```python\nx = 1\n```\nFinal:\n```python\ndef f(x):\n    return x + 1\n```\nDone."
    assert extract_code(text) == "def f(x):\n    return x + 1\n"
    assert format_reward(text) == 1.0


@pytest.mark.parametrize(
    "text, code",
    [
        ("```py\nprint(1)\n```", "print(1)\n"),
        ("```Python3\nprint(1)\n```", "print(1)\n"),
        ("```python\r\nprint(1)\r\n```", "print(1)\r\n"),
        ("  ```python\n  print(1)\n  ```", "  print(1)\n"),
        ("```python\ns = '```'\nprint(s)\n```", "s = '```'\nprint(s)\n"),  # ``` inside a line does not close
        ("```python\n```", ""),
        ("no code at all", None),
        ("```\nprint(1)\n```", None),  # untagged block
        ("```javascript\nconsole.log(1)\n```", None),
        ("```python\nprint(1)\n", None),  # never closed
        ("inline ```python print(1)``` only", None),
    ],
)
def test_extract_code_cases(text, code):
    assert extract_code(text) == code
    assert format_reward(text) == (0.0 if code is None else 1.0)


def test_extract_code_rejects_non_text():
    with pytest.raises(TypeError, match="str"):
        extract_code(None)  # type: ignore[arg-type]


# ---------------------------------------------------------------- DAPO soft overlong punishment


def dapo_length_penalty(length: float, l_max: float, l_cache: float) -> float:
    if length <= l_max - l_cache:
        return 0.0
    if length <= l_max:
        return ((l_max - l_cache) - length) / l_cache
    return -1.0


@pytest.mark.parametrize("length", [0, 100, 12_288, 12_289, 14_336, 16_383, 16_384, 16_385, 40_000])
def test_soft_overlong_punishment_matches_formula(length):
    got = soft_overlong_punishment(length, 16_384, 4_096)
    assert got == pytest.approx(dapo_length_penalty(length, 16_384, 4_096))
    assert -1.0 <= got <= 0.0


def test_soft_overlong_punishment_ramp():
    assert soft_overlong_punishment(12_288, 16_384, 4_096) == 0.0  # last free length
    assert soft_overlong_punishment(14_336, 16_384, 4_096) == -0.5  # halfway down the ramp
    assert soft_overlong_punishment(16_384, 16_384, 4_096) == -1.0  # at the limit
    assert soft_overlong_punishment(16_385, 16_384, 4_096) == -1.0
    assert soft_overlong_punishment(5, 10, 10) == -0.5  # the whole budget is the ramp


@pytest.mark.parametrize(
    "args, match",
    [
        ((10, 100, 0), "0 < cache_length"),
        ((10, 100, 101), "cache_length <= max_length"),
        ((-1, 100, 10), "length"),
        ((10, float("inf"), 10), "max_length"),
    ],
)
def test_soft_overlong_punishment_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        soft_overlong_punishment(*args)


# ---------------------------------------------------------------- adapters


class FakeRunner:
    """Decides a program's fate from its text (no code is run); records its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], list[object]]] = []

    def __call__(self, programs, tests):
        self.calls.append((list(programs), list(tests)))
        out = []
        for program, t in zip(programs, tests):
            if "syntax error" in program:
                out.append(result("syntax_error", *["not_run"] * len(t)))
            elif "return x + 1" in program:
                out.append(result("ran", *["passed"] * len(t)))
            else:
                out.append(result("ran", "passed", *["wrong_answer"] * (len(t) - 1)))
        return out


TESTS = [{"fn": "f", "args": [x], "expected": x + 1} for x in (1, 2, 3)]
TEST_OBJECTS = tuple(CallTest("f", (x,), x + 1) for x in (1, 2, 3))
GOOD = "Here you go:\n```python\ndef f(x):\n    return x + 1\n```"
HALF = "```python\ndef f(x):\n    return 2\n```"
BROKEN = "```python\nsyntax error(\n```"
NO_BLOCK = "def f(x): return x + 1"


def test_load_tests_formats():
    assert load_tests(TESTS) == TEST_OBJECTS
    assert load_tests(json.dumps(TESTS)) == TEST_OBJECTS
    assert load_tests(list(TEST_OBJECTS)) == TEST_OBJECTS
    mixed = [{"stdin": "1 2\n", "expected": "3"}, {"code": "def check(c): pass", "entry_point": "f"}]
    assert load_tests(json.dumps(mixed)) == (IOTest("1 2\n", "3"), CheckTest("def check(c): pass", "f"))
    # APPS / TACO input_output dicts
    assert load_tests({"inputs": [[1], [2], [3]], "outputs": [2, 3, 4], "fn_name": "f"}) == TEST_OBJECTS
    assert load_tests('{"inputs": ["1\\n"], "outputs": ["2\\n"]}') == (IOTest("1\n", "2\n"),)


@pytest.mark.parametrize(
    "tests, match",
    [
        ([{"fn": "f", "args": [1]}], "not a test"),
        ([{"fn": "f", "args": [1], "expected": 2, "extra": 0}], "not a test"),
        (["print(1)"], "not a test"),
        ({"inputs": [1]}, "needs 'inputs' and 'outputs'"),
        ({"inputs": [1, 2], "outputs": [1]}, "2 inputs but 1 outputs"),
        (42, "list of tests"),
    ],
)
def test_load_tests_rejects_bad_input(tests, match):
    with pytest.raises(ValueError, match=match):
        load_tests(tests)


def test_trl_reward_called_as_trl_calls_it():
    runner = FakeRunner()
    reward_func = make_trl_reward(runner=runner)
    prompts = ["p1", "p1", "p2", "p2"]
    completions = [GOOD, HALF, BROKEN, NO_BLOCK]
    # GRPOTrainer._calculate_rewards: reward_func(prompts=..., completions=..., completion_ids=..., **reward_kwargs),
    # reward_kwargs = the other dataset columns, one entry per completion, plus trainer_state
    rewards = reward_func(
        prompts=prompts,
        completions=completions,
        completion_ids=[[1, 2], [3], [4, 5, 6], [7]],
        tests=[TESTS, TESTS, json.dumps(TESTS), json.dumps(TESTS)],
        task_id=["a", "a", "b", "b"],
        trainer_state=object(),
    )
    assert rewards == [1.0, 0.0, 0.0, 0.0]
    # one batched runner call, holding only the programs that have a python block, JSON tests parsed
    assert len(runner.calls) == 1
    programs, tests = runner.calls[0]
    assert programs == [extract_code(GOOD), extract_code(HALF), extract_code(BROKEN)]
    assert tests == [TEST_OBJECTS] * 3
    assert reward_func.__name__ == "execution_binary_reward"


def test_trl_reward_with_other_reward_and_column():
    reward_func = make_trl_reward(tests_column="verification_info", reward=fraction_reward, runner=FakeRunner())
    rewards = reward_func(["p"] * 3, [GOOD, HALF, NO_BLOCK], None, verification_info=[TESTS] * 3)
    assert rewards == pytest.approx([1.0, 1 / 3, 0.0])
    assert reward_func.__name__ == "execution_fraction_reward"


def test_trl_reward_conversational_completions():
    runner = FakeRunner()
    reward_func = make_trl_reward(runner=runner, reward=staged_reward)
    completions = [
        [{"role": "assistant", "content": GOOD}],
        [
            {"role": "assistant", "content": GOOD},
            {"role": "user", "content": "again"},
            {"role": "assistant", "content": BROKEN},
        ],
    ]
    rewards = reward_func(prompts=[[{"role": "user", "content": "p"}]] * 2, completions=completions, tests=[TESTS] * 2)
    assert rewards == pytest.approx([1.0, 0.0])  # the second is scored on its last assistant message


def test_trl_reward_does_not_call_runner_without_code():
    runner = FakeRunner()
    assert make_trl_reward(runner=runner)(prompts=["p"], completions=[NO_BLOCK], tests=[TESTS]) == [0.0]
    assert runner.calls == []


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(completions=[GOOD], answer=[TESTS]), r"column 'tests' not passed.*\['answer'\]"),
        (dict(completions=[GOOD, GOOD], tests=[TESTS]), "2 completions but 1 rows"),
        (dict(completions=[[{"role": "user", "content": GOOD}]], tests=[TESTS]), "assistant message"),
        (dict(completions=[42], tests=[TESTS]), "must be a str"),
    ],
)
def test_trl_reward_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_trl_reward(runner=FakeRunner())(prompts=["p"] * len(kwargs["completions"]), **kwargs)


def test_runner_returning_wrong_count_is_an_error():
    with pytest.raises(ValueError, match="1 results for 2 programs"):
        reward_func = make_trl_reward(runner=lambda programs, tests: [ALL_PASS])
        reward_func(prompts=["p", "p"], completions=[GOOD, HALF], tests=[TESTS] * 2)


def test_verl_compute_score_called_as_verl_calls_it():
    runner = FakeRunner()
    # verl's NaiveRewardManager: compute_score(data_source=..., solution_str=..., ground_truth=..., extra_info=...)
    score = compute_score(
        data_source="coderl/tasks",
        solution_str=GOOD,
        ground_truth=json.dumps(TESTS),
        extra_info={"index": 3},
        runner=runner,
    )
    assert score == 1.0 and isinstance(score, float)
    assert runner.calls == [([extract_code(GOOD)], [TEST_OBJECTS])]
    # positional form of verl's default compute_score(data_source, solution_str, ground_truth, extra_info)
    assert compute_score("coderl/tasks", HALF, TESTS, None, runner=runner) == 0.0
    assert compute_score("coderl/tasks", HALF, TESTS, runner=runner, reward=fraction_reward) == pytest.approx(1 / 3)
    assert compute_score("coderl/tasks", NO_BLOCK, TESTS, runner=runner) == 0.0
    assert len(runner.calls) == 3


def test_importing_rewards_does_not_import_the_sandbox():
    code = "import sys, coderl_lessons.rewards; print('coderl_lessons.execution' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_adapters_with_the_real_sandbox():
    """End to end: the default runner (coderl_lessons.execution.run_many) runs the programs."""
    reward_func = make_trl_reward(reward=staged_reward)
    completions = [GOOD, HALF, BROKEN, NO_BLOCK]
    rewards = reward_func(prompts=["p"] * 4, completions=completions, tests=[json.dumps(TESTS)] * 4)
    assert rewards == pytest.approx([1.0, 0.6, 0.0, 0.0])
    assert compute_score("coderl", GOOD, json.dumps(TESTS), {}) == 1.0
    assert compute_score("coderl", HALF, TESTS, None, reward=fraction_reward) == pytest.approx(1 / 3)


def test_rewards_refuse_what_is_not_an_execution_result():
    for reward in (binary_reward, fraction_reward, staged_reward):
        with pytest.raises(TypeError, match="ExecutionResult") as caught:
            reward({"task_id": "HumanEval/0", "passed": True})  # check_correctness's dict
        assert "run_many" in str(caught.value)
        with pytest.raises(TypeError, match="got NoneType"):
            reward(None)


def test_adapters_refuse_bad_tests_and_rewards_up_front():
    with pytest.raises(TypeError, match="reward must be a function"):
        make_trl_reward(reward="binary")  # used to fail only at the first scoring call
    with pytest.raises(ValueError, match="must be JSON"):
        load_tests("not json")
    with pytest.raises(ValueError, match="each input must be a list of arguments"):
        load_tests({"inputs": ["12"], "outputs": [3], "fn_name": "f"})  # used to become args ('1', '2')


def test_pass_at_k_many_refuses_none():
    with pytest.raises(TypeError, match="n must be an int or a list of ints"):
        pass_at_k_many(None, [1, 2], 1)
