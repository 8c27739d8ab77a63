"""The check cell's verdicts: right, wrong, blank, hard-coded, crashing, slow, lying answers."""

from __future__ import annotations

import math
import random
import statistics
import time

import numpy as np
import pytest
import torch

from coderl_lessons.exercise import compare_plain, get_exercise
from coderl_lessons.exercises.ex00_warmup import fraction_passed, group_mean_std
from coderl_lessons.grading import check, judge
from coderl_lessons.probe import NotPlainError, run_cases, to_plain


def test_references_match_independent_computations():
    rng = random.Random(1)
    for _ in range(200):
        rewards = [rng.uniform(-2, 2) for _ in range(rng.randint(2, 30))]
        mean, std = group_mean_std(rewards)
        assert math.isclose(mean, statistics.fmean(rewards), abs_tol=1e-12)
        assert math.isclose(std, float(np.std(rewards, ddof=1)), rel_tol=1e-9)
    assert group_mean_std([3.0]) == (3.0, 0.0)
    assert fraction_passed([]) == 0.0
    assert fraction_passed(["passed", "error", "passed", "passed"]) == 0.75


def test_correct_answer_gets_full_marks():
    result = check("00.1", group_mean_std)
    assert result.status == "passed" and result.points == result.max_points == 2
    assert all(line.passed for line in result.lines)
    assert any(not line.visible for line in result.lines), "hidden checks must run too"


def test_blank_answer_is_not_attempted_not_a_traceback():
    def fraction_passed(statuses):
        raise NotImplementedError()

    result = check("00.2", fraction_passed)
    assert result.status == "not attempted" and result.points == 0
    assert "not attempted" in repr(result) and "Traceback" not in repr(result)


def test_population_std_is_partial_with_hint():
    result = check("00.1", lambda r: (statistics.fmean(r), statistics.pstdev(r)))
    assert result.status == "partial" and 0 < result.points < 2
    failing = [line for line in result.lines if line.visible and not line.passed]
    assert failing and "n - 1" in failing[0].hint
    assert "0.7071" in failing[0].expected and "0.5" in failing[0].got


def test_hard_coded_visible_answers_do_not_get_full_marks():
    visible = {("passed", "wrong_answer", "passed", "error"): 0.5, (): 0.0}
    result = check("00.2", lambda s: visible.get(tuple(s), 1.0))
    assert all(line.passed for line in result.lines if line.visible)
    assert result.points < result.max_points


def test_crash_wrong_type_and_lying_object_are_reported():
    def crash(statuses):
        return 1 / 0

    assert check("00.2", crash).status == "error"
    assert "ZeroDivisionError" in repr(check("00.2", crash))

    class Liar(float):
        def __eq__(self, other):
            return True

    lying = check("00.2", lambda s: Liar(0.0))
    assert lying.points == 0 and "wrong type" in {line.status for line in lying.lines}
    assert check("00.2", lambda s: "0.5").points == 0


def test_hang_is_stopped_quickly_and_once():
    def hang(statuses):
        while True:
            try:
                pass
            except BaseException:  # a candidate that swallows the first alarm is interrupted again
                pass

    start = time.monotonic()
    outcomes = run_cases(hang, [((["passed"],), {})] * 5, 0.3, 256)
    assert time.monotonic() - start < 3, "the later cases must not each wait out the limit"
    assert [o["status"] for o in outcomes] == ["time limit"] * 5
    exercise = get_exercise("00.2")
    assert judge(exercise, list(exercise.visible), 2, outcomes[:2]).status == "time limit"


def test_memory_bomb_is_a_memory_limit():
    result = check("00.2", lambda s: [0] * (10**10))
    assert result.status == "memory limit"


def test_unknown_exercise_lists_known_ones():
    with pytest.raises(ValueError, match="00.1, 00.2"):
        check("99.9", group_mean_std)


def test_judge_handles_missing_and_malformed_outcomes():
    exercise = get_exercise("00.2")
    cases = list(exercise.visible)
    result = judge(exercise, cases, len(cases), ["garbage"])
    assert result.points == 0 and result.status in {"error", "failed"}


def test_to_plain_by_exact_type():
    assert to_plain((1, 2.5, "a", None, True)) == [1, 2.5, "a", None, True]
    record = to_plain(torch.tensor([[1.0, 2.0]]))
    assert record["__tensor__"]["shape"] == [1, 2] and record["__tensor__"]["dtype"] == "float32"
    assert to_plain(np.float64(0.25)) == 0.25
    with pytest.raises(NotPlainError):
        to_plain(object())

    class SneakyInt(int):
        pass

    with pytest.raises(NotPlainError):
        to_plain(SneakyInt(3))


@pytest.mark.parametrize("got, expected, ok", [
    (0.5, 0.5 + 1e-9, True), (0.5, 0.6, False), (float("nan"), float("nan"), True), (1, 1.0, True),
    (True, 1, False), ([1, 2], [1, 2, 3], False),
    ({"__tensor__": {"dtype": "float32", "shape": [2], "data": [1.0, 2.0]}},
     {"__tensor__": {"dtype": "float64", "shape": [2], "data": [1.0, 2.0]}}, True),
    ({"__tensor__": {"dtype": "int64", "shape": [2], "data": [1, 2]}},
     {"__tensor__": {"dtype": "float32", "shape": [2], "data": [1.0, 2.0]}}, False),
    ({"__tensor__": {"dtype": "float32", "shape": [1, 2], "data": [[1.0, 2.0]]}},
     {"__tensor__": {"dtype": "float32", "shape": [2], "data": [1.0, 2.0]}}, False),
])
def test_compare_plain(got, expected, ok):
    assert (compare_plain(got, expected) is None) == ok


def test_every_exercise_is_well_formed():
    from coderl_lessons.exercise import all_exercises

    for exercise in all_exercises().values():
        assert exercise.points > 0 and exercise.visible
        assert len(exercise.hidden_cases(0)) >= 5, f"{exercise.id}: too few hidden cases"
        plain = [repr([(c.args, c.kwargs) for c in exercise.hidden_cases(seed)]) for seed in (1, 2)]
        assert plain[0] != plain[1], f"{exercise.id}: hidden cases are not random"
        # The reference passes its own check: visible expectations and hidden ones are consistent.
        assert check(exercise.id, exercise.reference).status == "passed", exercise.id


def test_html_report_escapes_and_summarises():
    html = check("00.1", lambda r: (0.0, 0.0))._repr_html_()
    assert "<table>" in html and "hidden randomised checks" in html and "&#10008;" in html


def test_calls_reference_follows_wrappers_not_honest_code():
    import functools

    from coderl_lessons.exercises import ex00_warmup
    from coderl_lessons.probe import calls_reference

    module, name = group_mean_std.__module__, group_mean_std.__qualname__
    namespace = {"ref": group_mean_std, "course": ex00_warmup}
    exec("def direct(r):\n    return ref(r)\n"
         "def through_module(r):\n    return course.group_mean_std(r)\n"
         "def helper(r):\n    return ref(r)\n"
         "def through_helper(r):\n    return (lambda: helper(r))()\n"
         "def honest(r):\n    n = len(r)\n    return sum(r) / n, 0.0\n", namespace)
    for caught in ("direct", "through_module", "through_helper"):
        assert calls_reference(namespace[caught], module, name), caught
    assert calls_reference(functools.partial(group_mean_std), module, name)
    assert not calls_reference(namespace["honest"], module, name)
    assert not calls_reference(fraction_passed, module, name)  # another exercise's reference
