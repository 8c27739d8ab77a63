"""Verification: differential tests (seeded, valid for the canonical solution, stronger than
HumanEval's), the step counter, mutation scores counted by hand, the false-pass report's
bookkeeping, CURE-style test rewards on a hand-made example, and bad input."""

from __future__ import annotations

import math

import pytest

from coderl_lessons.execution import CallTest, run_many, run_tests
from coderl_lessons.humaneval import get_task
from coderl_lessons.mutation import mutate_task
from coderl_lessons.verification import (
    BOUNDED,
    SUITES,
    Close,
    bounded_program,
    cure_test_reward,
    differential_suites,
    differential_tests,
    disagreements,
    false_pass_report,
    find_killing_test,
    kill_table_score,
    literal_calls,
    mutate_inputs,
    mutation_score,
    raises_test,
    reference_outputs,
    score_tests,
    seed_inputs,
    spells_out_visible_tests,
)

#: HumanEval/31 (is_prime) with `n < 2` -> `n <= 2`: wrong for 2, which HumanEval's check never asks.
IS_PRIME = get_task("HumanEval/31")
WEAK_TEST_MUTANT = IS_PRIME.program.replace("if n < 2:", "if n <= 2:")


# --- seeds and input mutation -------------------------------------------------------------------


def test_literal_calls_reads_literals_only_in_source_order():
    code = ("def check(candidate):\n    assert candidate([1, 2], 'a') == 3\n    for x in range(3):\n"
            "        assert candidate(x, 'b')\n    assert candidate(-1.5, \"\") is None\n"
            "    assert candidate([1, 2], 'a') == 3\n    assert candidate(*[1, 2])\n")
    assert literal_calls(code) == [([1, 2], "a"), (-1.5, "")]
    with pytest.raises(ValueError):
        literal_calls("def check(:")


def test_seed_inputs_come_from_examples_and_check_or_annotations():
    task = get_task("HumanEval/0")
    seeds = seed_inputs(task)
    assert seeds[: len(task.visible_tests)] == [t.args for t in task.visible_tests]
    assert len(seeds) == len({repr(s) for s in seeds}) >= 5
    # HumanEval/38's check draws random strings: its one seed comes from `s: str`
    assert seed_inputs(get_task("HumanEval/38")) == [("abc",)]


def test_mutate_inputs_is_seeded_type_preserving_and_bounded():
    seeds = [([1, 2, 3], "abc", 2), ([5, 0], "ba", 7)]
    first = mutate_inputs(seeds, 60, seed=3)
    assert first == mutate_inputs(seeds, 60, seed=3)
    assert first != mutate_inputs(seeds, 60, seed=4)
    assert len(first) == 60 and len({repr(x) for x in first}) == 60
    for xs, s, n in first:
        assert isinstance(xs, list) and all(type(x) is int and x >= 0 for x in xs)
        assert isinstance(s, str) and set(s) <= set("abc")  # the seeds' characters only
        assert type(n) is int and 0 <= n <= 12 and len(xs) <= 8
    assert mutate_inputs([(1.5,)], 10, seed=0) and all(type(x) is float for (x,) in mutate_inputs([(1.5,)], 10))


@pytest.mark.parametrize("bad", [-1, 1.5, True, "0"])
def test_bad_seed_is_a_value_error(bad):
    with pytest.raises(ValueError, match="seed"):
        mutate_inputs([(1,)], 3, seed=bad)


def test_mutate_inputs_rejects_bad_seeds_lists():
    for seeds in ([], "abc", [(1,), (1, 2)], [1, 2]):
        with pytest.raises(ValueError):
            mutate_inputs(seeds, 3)
    with pytest.raises(ValueError):
        mutate_inputs([(1,)], -1)


# --- the oracle and the differential suite --------------------------------------------------------


def test_reference_outputs_come_from_the_sandbox_as_plain_data():
    program = "def f(x, ys):\n    return {'n': x, 't': (x, ys[0])}\n"
    assert reference_outputs(program, "f", [(1, [2]), (3, [])]) == [(True, {"n": 1, "t": (1, 2)}),
                                                                       (False, "error: IndexError")]
    looping = "def f(x):\n    while True:\n        x += 1\n"
    assert reference_outputs(looping, "f", [(0,)], step_limit=1000) == [(False, "step_limit")]


def test_differential_suite_is_deterministic_and_the_canonical_passes_it():
    tasks = [get_task(i) for i in (0, 2, 12, 31, 55, 87, 107, 129)]
    suites = differential_suites(tasks, 25, seed=0)
    again = differential_suites(tasks, 25, seed=0)
    assert [s.tests for s in suites] == [s.tests for s in again]
    assert differential_tests(tasks[3], 25, seed=1).tests != suites[3].tests
    for task, suite in zip(tasks, suites):
        assert suite.task_id == task.task_id and len(suite) > len(task.visible_tests)
        assert len(suite) <= len(suite.seeds) + 25
    results = run_many([(t.program, s.tests) for t, s in zip(tasks, suites)], timeout=30)
    assert all(r.passed for r in results), [(s.task_id, r) for s, r in zip(suites, results) if not r.passed]
    # floats are compared with HumanEval's tolerance
    assert any(isinstance(t.expected, Close) for t in suites[1].tests)


def test_a_known_weak_test_mutant_passes_humaneval_and_fails_differential_tests():
    assert run_tests(WEAK_TEST_MUTANT, IS_PRIME.full_tests).passed  # HumanEval's check never asks is_prime(2)
    suite = differential_tests(IS_PRIME, 30, seed=0)
    result = run_tests(WEAK_TEST_MUTANT, suite.tests)
    assert not result.passed
    failing = [t.args for t, o in zip(suite.tests, result.tests) if o.status != "passed"]
    assert (2,) in failing


def test_close_compares_floats_with_tolerance_and_shapes_exactly():
    assert Close(0.5) == 0.5 + 1e-9 and Close([1.0, (2, 3.0)]) == [1.0, (2, 3.0000001)]
    assert Close(0.5) != 0.51 and Close([1.0]) != (1.0,) and Close({"a": 1.0}) != {"b": 1.0}
    assert Close(float("nan")) == float("nan") and Close(2.0) == 2


def test_raises_test_states_an_exception_as_a_test():
    divide = "def divide(a, b):\n    return a / b\n"
    safe = "def divide(a, b):\n    return 'error' if b == 0 else a / b\n"
    test = raises_test("divide", (10, 0), "ZeroDivisionError")
    assert run_tests(divide, [test]).passed
    assert not run_tests(safe, [test]).passed
    assert not run_tests(divide, [raises_test("divide", (10, 0), "ValueError")]).passed
    for bad in ("Exception", "NotAnError", "print", 3):
        with pytest.raises(ValueError):
            raises_test("divide", (10, 0), bad)


# --- the step counter ----------------------------------------------------------------------------


def test_bounded_program_counts_steps_deterministically():
    program = ("def f(n):\n    total = 0\n    for i in range(n):\n        total += sum(j for j in range(i))\n"
               "    return total\n\ndef spin(x):\n    while True:\n        try:\n            x += 1\n"
               "        except Exception:\n            pass\n")
    bounded = bounded_program(program, "f", per_call=5000)
    ok, too_many = run_tests(bounded, [CallTest(BOUNDED, (10,), 120),
                                      CallTest(BOUNDED, (200,), 0)], cache=False).tests
    assert ok.status == "passed"
    assert too_many.status == "error" and too_many.error_type == "StepLimitExceeded"
    spin = bounded_program(program, "spin", per_call=10_000)
    outcome = run_tests(spin, [CallTest(BOUNDED, (0,), 0)], cache=False).tests[0]
    assert outcome.error_type == "StepLimitExceeded", "except Exception must not swallow the limit"
    with pytest.raises(ValueError):
        bounded_program(program, "not a name")


# --- mutation score ------------------------------------------------------------------------------


def test_kill_table_score_against_a_hand_count():
    kills = [[True, False], [False, False], [False, True], [False, False], []]
    # killed: 0, 2; survivors: 1, 3, 4; mutant 3 is declared equivalent
    assert kill_table_score(kills) == (2 / 5, [1, 3, 4])
    assert kill_table_score(kills, [3]) == (2 / 4, [1, 4])
    assert kill_table_score([]) == (0.0, [])
    assert kill_table_score([[False]], [0]) == (0.0, [])
    for bad in ([[1, 0]], "TF", [[True], "T"]):
        with pytest.raises(ValueError):
            kill_table_score(bad)
    with pytest.raises(ValueError):
        kill_table_score([[True]], [1])


def test_mutation_score_of_hand_written_mutants():
    original = "def sign(x):\n    if x > 0:\n        return 1\n    if x < 0:\n        return -1\n    return 0\n"
    mutants = [
        original.replace("x > 0", "x >= 0"),        # wrong only at 0
        original.replace("return -1", "return 1"),  # wrong for negatives
        original.replace("return 0", "return 0 * x"),  # equivalent
        original.replace("x < 0", "x < -1"),        # wrong only at -1
        original.replace("while", "while") + "def spin():\n    pass\n",  # equivalent too
        "def sign(x):\n    while True:\n        pass\n",  # never returns
    ]
    tests = [CallTest("sign", (5,), 1), CallTest("sign", (-5,), -1)]
    score = mutation_score(mutants, tests, equivalent=[2, 4], entry_point="sign", steps=10_000)
    # killed: 1 (negatives) and 5 (step limit); survivors 0 and 3 among the 4 non-equivalent
    assert score.killed_by == (False, True, False, False, False, True)
    assert (score.killed, score.total, score.survivors) == (2, 6, (0, 3))
    assert math.isclose(score.score, 2 / 4)
    stronger = tests + [CallTest("sign", (0,), 0), CallTest("sign", (-1,), -1)]
    assert mutation_score(mutants, stronger, equivalent=[2, 4], entry_point="sign", steps=10_000).score == 1.0
    with pytest.raises(ValueError):
        mutation_score(mutants, [])
    with pytest.raises(ValueError):
        mutation_score([1, 2], tests)


# --- the false-pass report -----------------------------------------------------------------------


def test_false_pass_report_bookkeeping_and_determinism():
    tasks = [get_task(i) for i in (1, 13, 31, 35, 47, 53)]
    report = false_pass_report(0, mutants_per_task=4, inputs_per_task=15, tasks=tasks)
    again = false_pass_report(0, mutants_per_task=4, inputs_per_task=15, tasks=tasks)
    assert [(m.description, m.passed) for m in report.records] == [(m.description, m.passed) for m in again.records]
    assert report.tasks == 6 and report.mutants == len(report.records) == sum(r.mutants for r in report.rows)
    assert [m.description for m in report.records[:4]] == [m.description for m in mutate_task(tasks[0], 0, 4)]
    for row in report.rows:
        assert row.false_pass_humaneval <= row.pass_humaneval <= row.mutants
        assert row.false_pass_visible <= row.pass_visible
        assert row.survive_all == sum(1 for m in report.records if m.task_id == row.task_id and not m.wrong)
    # HumanEval/47's docstring has a wrong example: only the valid one is kept as a visible test
    assert report.rows[4].visible_tests == len(get_task(47).visible_tests) - 1
    for suite in SUITES:
        assert 0.0 <= report.false_pass_rate(suite) <= 1.0 and 0.0 <= report.mutation_score(suite) <= 1.0
    assert report.false_passes("differential") == 0 or report.accepted("differential") > 0
    assert report.mutation_score("differential") >= report.mutation_score("humaneval") >= 0
    for m in report.examples("humaneval"):
        assert m.passed["humaneval"] and not m.passed["differential"] and m.first_failure is not None
    assert "false-pass rate" in report.summary()
    with pytest.raises(ValueError):
        report.false_pass_rate("hidden")
    for kwargs in ({"mutants_per_task": 0}, {"inputs_per_task": -1}, {"tasks": ["HumanEval/0"]}, {"tasks": []}):
        with pytest.raises(ValueError):
            false_pass_report(0, **kwargs)


# --- CURE-style test reward ----------------------------------------------------------------------


def test_cure_reward_on_a_hand_example():
    # two correct programs, two wrong ones; four generated tests
    table = {"rejects one wrong": ([True, True], [True, False]),
             "rejects both wrong": ([True, True], [False, False]),
             "rejects nothing": ([True, True], [True, True]),
             "rejects the correct ones": ([False, False], [True, True])}
    counts = {name: cure_test_reward(c, w, normalise=False) for name, (c, w) in table.items()}
    assert counts == {"rejects one wrong": 1.0, "rejects both wrong": 2.0, "rejects nothing": 0.0,
                      "rejects the correct ones": -2.0}
    normalised = {name: cure_test_reward(c, w) for name, (c, w) in table.items()}
    assert normalised == {"rejects one wrong": 0.5, "rejects both wrong": 1.0, "rejects nothing": 0.0,
                          "rejects the correct ones": -1.0}
    assert cure_test_reward([True, False, True, True], [False] * 3) == -0.25  # invalid: rejections don't count
    assert cure_test_reward([True], []) == 0.0
    with pytest.raises(ValueError):
        cure_test_reward([], [True])
    with pytest.raises(ValueError):
        cure_test_reward([1], [True])


def test_score_tests_runs_every_pair_in_the_sandbox():
    correct = ["def f(x):\n    return abs(x)\n", "def f(x):\n    return x if x >= 0 else -x\n"]
    wrong = ["def f(x):\n    return x\n", "def f(x):\n    return -x\n"]
    tests = [CallTest("f", (3,), 3), CallTest("f", (-3,), 3), CallTest("f", (-3,), -3), CallTest("f", (0,), 0)]
    rewards = [r.reward for r in score_tests(tests, correct, wrong, entry_point="f")]
    assert rewards == [0.5, 0.5, -1.0, 0.0]
    with pytest.raises(ValueError):
        score_tests(tests, [], wrong)


# --- killing a mutant, disagreements, hard-coded examples ----------------------------------------


def test_find_killing_test_and_disagreements():
    original = "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n"
    mutant = "def clamp(x, lo, hi):\n    return max(lo, x)\n"
    args, expected = find_killing_test(original, mutant, "clamp", [[5, 0, 10], [-3, 0, 10]])
    assert max(args[1], min(args[0], args[2])) == expected != max(args[1], args[0])
    equivalent = "def clamp(x, lo, hi):\n    return max(min(hi, x), lo)\n"
    assert find_killing_test(original, equivalent, "clamp", [[5, 0, 10], [-3, 0, 10]], n_inputs=50) is None
    swapped = "def clamp(x, lo, hi):\n    return min(max(x, lo), hi)\n"  # differs only when lo > hi
    args, _ = find_killing_test(original, swapped, "clamp", [[5, 0, 10], [-3, 0, 10]])
    assert args[1] > args[2]
    inputs = [[5, 0, 10], [11, 0, 10], ["a", 0, 10], [-1, 0, 10]]
    assert disagreements(original, mutant, "clamp", inputs) == [1]  # "a" is outside the domain
    raising = "def clamp(x, lo, hi):\n    assert x <= hi\n    return max(lo, x)\n"
    assert disagreements(original, raising, "clamp", inputs) == [1]
    with pytest.raises(ValueError):
        disagreements(original, mutant, "clamp", "abc")


def test_spells_out_visible_tests():
    visible = [[[3], 7], [[4], 9]]
    table = "def f(x):\n    if x == 3:\n        return 7\n    return {4: 9}.get(x, 0)\n"
    honest = "def f(x):\n    if x == 3:\n        return 7\n    return 2 * x + 1\n"
    in_docstring = "def f(x):\n    \"\"\"f(3) == 7, f(4) == 9\"\"\"\n    return 2 * x + 1\n"
    assert spells_out_visible_tests(table, "f", visible)
    assert not spells_out_visible_tests(honest, "f", visible)  # spells out one example, not all
    assert not spells_out_visible_tests(in_docstring, "f", visible)
    assert not spells_out_visible_tests(table, "f", [])
    assert spells_out_visible_tests("def g(xs):\n    return -1 if xs == [1, 2] else 0\n", "g", [[[[1, 2]], -1]])
    assert not spells_out_visible_tests("def g(x):\n    return 1 if x == 1 else 0\n", "g", [[[True], 1]])
    with pytest.raises(ValueError):
        spells_out_visible_tests(table, "g", visible)
    with pytest.raises(ValueError):
        spells_out_visible_tests(table, "f", [[3, 7]])


def test_a_misspelled_function_name_is_refused_not_answered():
    original, mutant = "def f(x):\n    return x + 1\n", "def f(x):\n    return x + 2\n"
    calls = [lambda: disagreements(original, mutant, "g", [[1]]),
             lambda: find_killing_test(original, mutant, "g", [[1]]),
             lambda: reference_outputs(original, "g", [(1,)]),
             lambda: mutation_score([mutant], [CallTest("f", (1,), 2)], entry_point="g")]
    for call in calls:  # before: [], None, [(False, 'error: ...')], a score of 1.0
        with pytest.raises(ValueError, match="top-level function 'g'"):
            call()
    # bound in other ways, or under an `if`, the name counts
    assert reference_outputs("f = lambda x: x * 3\n", "f", [(2,)]) == [(True, 6)]
    assert reference_outputs("if True:\n    def f(x):\n        return -x\n", "f", [(2,)]) == [(True, -2)]


def test_close_refuses_a_tolerance_that_would_fail_every_comparison():
    for bad in (dict(rel_tol=-1), dict(abs_tol="1e-6"), dict(abs_tol=math.inf)):
        with pytest.raises(ValueError, match="must be a finite number >= 0"):
            Close(1.0, **bad)
    assert Close(1.0) == 1.0000001 and Close(1.0) != 1.1
