"""Exercises 01: the references against independent computations, and the usual wrong answers fail."""

from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction

import pytest

from coderl_lessons.exercise import Case, get_exercise
from coderl_lessons.exercises.ex01_execution import (
    LOAD_STAGES,
    STREAK_SOURCE,
    TEST_STATUSES,
    _random_result,
    classify_failure,
    execution_rewards,
    killable_mutants,
    longest_streak,
    make_result,
    precision_recall,
    verify_tests,
)
from coderl_lessons.exercises.ex01_execution import tests_that_kill as reference_suite  # not a pytest test
from coderl_lessons.execution import CallTest, run_many
from coderl_lessons.grading import check
from coderl_lessons.mutation import mutants


def results(seed: int, n: int = 300):
    rng = random.Random(seed)
    fixed = [make_result(stage, ["not_run"] * 2) for stage in LOAD_STAGES]
    fixed += [make_result("ran", []), make_result("ran", ["passed"] * 3)]
    return fixed + [_random_result(rng) for _ in range(n)]


# ---------------------------------------------------------------------------------------------
# References against independent computations
# ---------------------------------------------------------------------------------------------


def test_execution_rewards_by_hand():
    rng = random.Random(0)
    for result in results(1):
        a, b = sorted(rng.randint(0, 100) for _ in range(2))
        weights = (a / 100, (b - a) / 100, (100 - b) / 100)
        statuses = [t.status for t in result.tests]
        compiled = result.stage in {"load_error", "time_limit", "memory_limit", "crashed", "ran"}
        loaded = result.stage == "ran"
        passed = statuses.count("passed")
        all_passed = loaded and len(statuses) > 0 and passed == len(statuses)
        got = execution_rewards(result, weights)
        assert set(got) == {"staged", "sparse", "fraction"}
        exact = Fraction(a * compiled + (b - a) * loaded + (100 - b) * all_passed, 100)
        assert abs(got["staged"] - float(exact)) < 1e-12
        assert got["sparse"] == (1.0 if all_passed else 0.0)
        assert got["fraction"] == (passed / len(statuses) if statuses else 0.0)
    # the survey README's weights: compiles and loads but fails is 0.6 of a correct program
    assert execution_rewards(make_result("ran", ["wrong_answer"]))["staged"] == pytest.approx(0.6)


def test_classify_failure_by_hand():
    rename = {"error": "runtime_error"}
    for result in results(2):
        statuses = [t.status for t in result.tests]
        failing = [s for s in statuses if s != "passed"]
        if result.stage != "ran":
            want = result.stage
        elif not statuses:
            want = "no_tests"
        elif not failing:
            want = "passed"
        else:
            want = rename.get(failing[0], failing[0])
        assert classify_failure(result) == want
    assert classify_failure(make_result("ran", ["passed", "memory_limit", "error"])) == "memory_limit"


def test_random_results_cover_every_class():
    seen = {classify_failure(r) for r in results(3, 500)}
    assert seen >= {"syntax_error", "load_error", "time_limit", "memory_limit", "crashed", "no_tests",
                    "passed", "runtime_error", "wrong_answer"}


def test_precision_recall_against_a_confusion_matrix():
    rng = random.Random(4)
    for _ in range(300):
        n = rng.randint(0, 30)
        signal = [rng.random() < 0.5 for _ in range(n)]
        correct = [rng.random() < 0.5 for _ in range(n)]
        counts = {(s, c): 0 for s in (True, False) for c in (True, False)}
        for s, c in zip(signal, correct):
            counts[(s, c)] += 1
        tp, fp, fn = counts[(True, True)], counts[(True, False)], counts[(False, True)]
        got = precision_recall(signal, correct)
        for key, num, den in (("precision", tp, tp + fp), ("recall", tp, tp + fn)):
            if den:
                assert math.isclose(got[key], float(Fraction(num, den)), rel_tol=1e-12)
            else:
                assert got[key] is None


# ---------------------------------------------------------------------------------------------
# 01.4: the mutants, the reference's tests and the verifier
# ---------------------------------------------------------------------------------------------


def test_longest_streak_matches_its_source_and_a_groupby():
    namespace: dict = {}
    exec(STREAK_SOURCE, namespace)
    for n in range(6):
        for statuses in itertools.product(["passed", "error", "wrong_answer"], repeat=n):
            by_groups = max((len(list(g)) for k, g in itertools.groupby(statuses) if k == "passed"), default=0)
            assert longest_streak(list(statuses)) == namespace["longest_streak"](list(statuses)) == by_groups


def test_equivalent_mutants_are_left_out_and_the_rest_kept():
    every = {m.description for m in mutants(STREAK_SOURCE, seed=0)}
    kept = {m.description for m in killable_mutants()}
    assert every - kept == {"line 8: `>` -> `>=`"}  # best = current when they are equal: no change


def test_reference_tests_kill_each_mutant_in_the_sandbox():
    """Run the reference's tests with the course runner, outside this process: every test passes on
    the original and at least one fails on the mutant."""
    jobs, owners = [], []
    for mutant in killable_mutants():
        suite = reference_suite(mutant.source)
        assert suite, mutant.description
        calls = [CallTest("longest_streak", tuple(args), expected) for args, expected in suite]
        jobs += [(STREAK_SOURCE, calls), (mutant.source, calls)]
        owners.append(mutant.description)
    verdicts = run_many(jobs, timeout=5.0)
    for i, description in enumerate(owners):
        original, mutant = verdicts[2 * i], verdicts[2 * i + 1]
        assert original.passed, description
        assert not mutant.passed, description


def test_verify_rejects_malformed_wrong_and_weak_suites():
    case = next(c for c in get_exercise("01.4").visible if "dropped `current = 0`" in c.label)
    assert verify_tests(case, [[[["passed", "error", "passed"]], 1]]) is None
    assert "fails on the correct function" in verify_tests(case, [[[["passed", "error", "passed"]], 2]])
    assert "catches" in verify_tests(case, [[[["passed"]], 1], [[[]], 0]])
    assert verify_tests(case, []) is not None
    assert verify_tests(case, "[[['passed']], 1]") is not None
    assert verify_tests(case, [[["passed"], 1]]) is not None  # args must be a tuple holding the list
    assert verify_tests(case, [[[["passed"]], True]]) is not None  # a bool is not an int
    assert verify_tests(case, [[[["passed"]], 1]] * 51) is not None


# ---------------------------------------------------------------------------------------------
# The check: full marks for right answers, not for the usual wrong ones
# ---------------------------------------------------------------------------------------------


def test_references_pass_their_checks():
    for exercise_id in ("01.1", "01.2", "01.3", "01.4"):
        exercise = get_exercise(exercise_id)
        assert exercise.notebook == "01_execution_feedback"
        assert check(exercise_id, exercise.reference).status == "passed"


def _not_full(exercise_id, candidate):
    result = check(exercise_id, candidate)
    assert result.points < result.max_points, result
    return result


def test_wrong_rewards_do_not_get_full_marks():
    def load_error_not_compiled(result, weights):
        good = execution_rewards(result, weights)
        if result.stage != "ran":
            good["staged"] = 0.0
        return good

    def vacuous_pass(result, weights):
        good = execution_rewards(result, weights)
        if result.stage == "ran" and not result.tests:
            good["sparse"] = 1.0
            good["staged"] = sum(weights)
        return good

    def survey_weights_always(result, weights):
        return execution_rewards(result)

    def fraction_crashes(result, weights):
        good = execution_rewards(result, weights)
        good["fraction"] = result.n_passed / result.n_tests
        return good

    for candidate in (load_error_not_compiled, vacuous_pass, survey_weights_always, fraction_crashes):
        _not_full("01.1", candidate)


def test_wrong_classifications_do_not_get_full_marks():
    def last_failure(result):
        if result.stage != "ran" or not result.tests:
            return classify_failure(result)
        failing = [t.status for t in result.tests if t.status != "passed"]
        return {"error": "runtime_error"}.get(failing[-1], failing[-1]) if failing else "passed"

    def status_word(result):
        answer = classify_failure(result)
        return "error" if answer == "runtime_error" else answer

    def empty_is_passed(result):
        return "passed" if result.stage == "ran" and not result.tests else classify_failure(result)

    for candidate in (last_failure, status_word, empty_is_passed):
        _not_full("01.2", candidate)


def test_wrong_precision_recall_does_not_get_full_marks():
    def zero_not_none(signal, correct):
        got = precision_recall(signal, correct)
        return {k: 0.0 if v is None else v for k, v in got.items()}

    def swapped(signal, correct):
        got = precision_recall(signal, correct)
        return {"precision": got["recall"], "recall": got["precision"]}

    for candidate in (zero_not_none, swapped):
        _not_full("01.3", candidate)


def test_test_suites_weak_wrong_and_strong():
    def obvious_cases(mutant_source):
        return [(([],), 0), ((["passed"],), 1), ((["passed", "passed"],), 2)]

    def only_error_as_failure(mutant_source):
        return [(([],), 0), ((["passed"],), 1), ((["error"],), 0), ((["passed", "error", "passed"],), 1),
                ((["error", "passed", "passed"],), 2), ((["passed", "passed", "error", "passed"],), 2)]

    def mutant_outputs(mutant_source):  # asks the mutant what to expect: tests that cannot fail on it
        namespace: dict = {}
        exec(mutant_source, namespace)
        return [(([],), namespace["longest_streak"]([]))]

    def strong(mutant_source):
        return only_error_as_failure(mutant_source) + [((["wrong_answer", "time_limit"],), 0)]

    result = _not_full("01.4", obvious_cases)
    assert any("current = 0" in line.name and not line.passed for line in result.lines)
    result = _not_full("01.4", only_error_as_failure)
    assert any("`==` -> `>=`" in line.name and not line.passed for line in result.lines)
    # many suites are right: a failing line says why, and shows no reference suite as "expected"
    failing = [line for line in result.lines if line.visible and not line.passed]
    assert all(line.message and not line.expected for line in failing)
    assert "expected:" not in repr(result) and "catches" in repr(result)
    assert check("01.4", mutant_outputs).points == 0
    assert check("01.4", strong).status == "passed"


@pytest.mark.parametrize("exercise_id", ["01.1", "01.2", "01.3", "01.4"])
def test_blank_stub_is_not_attempted(exercise_id):
    def stub(*args):
        raise NotImplementedError()

    assert check(exercise_id, stub).status == "not attempted"


def test_hidden_cases_are_random_and_cover_edges():
    for exercise_id in ("01.1", "01.2", "01.3", "01.4"):
        exercise = get_exercise(exercise_id)
        assert exercise.hidden_cases(1) != exercise.hidden_cases(2)
    labels = {c.label for c in get_exercise("01.3").hidden_cases(0)}
    assert {"no programs at all", "the signal never says yes", "no program is correct"} <= labels
    assert all(isinstance(c, Case) and len(c.args[0]) > 0 for c in get_exercise("01.4").hidden_cases(0))
    assert set(TEST_STATUSES) >= {t.status for c in get_exercise("01.2").hidden_cases(5) for t in c.args[0].tests}


def test_status_order_quoted_in_01_4_decides_which_failures_catch_a_comparison_mutant():
    # 01.4's text quotes this alphabetical order: failure statuses sort on both sides of "passed".
    assert sorted(TEST_STATUSES) == ["error", "memory_limit", "not_run", "passed", "time_limit", "wrong_answer"]
    by_description = {m.description: m for m in killable_mutants()}

    def suite(failure):  # plain data, as the check receives it
        return [[[[failure]], 0], [[["passed", failure, "passed"]], 1]]

    for operator, catches, misses in ((">=", "wrong_answer", "error"), ("<=", "error", "wrong_answer")):
        case = Case((by_description[f"line 6: `==` -> `{operator}`"].source,))
        assert verify_tests(case, suite(catches)) is None, operator
        assert "none of them catches it" in verify_tests(case, suite(misses)), operator
