"""Exercises 02: the references against independent computations, and the usual wrong answers fail."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import pytest

from coderl_lessons.exercise import get_exercise
from coderl_lessons.exercises.ex02_rewards import (
    groups_per_kept_group,
    pass_at_k,
    soft_overlong_punishment,
    zero_signal_fraction,
)
from coderl_lessons.grading import check


def exact_pass_at_k(n: int, c: int, k: int) -> Fraction:
    """1 - C(n-c, k) / C(n, k) with exact integers (math.comb is 0 when k > n - c)."""
    return 1 - Fraction(math.comb(n - c, k), math.comb(n, k))


# ---------------------------------------------------------------------------------------------
# References against independent computations
# ---------------------------------------------------------------------------------------------


def test_pass_at_k_matches_exact_binomials():
    rng = random.Random(0)
    cases = [(10_000, 0, 1), (10_000, 10_000, 50), (10_000, 9_990, 20), (10_000, 1, 1), (10_000, 3, 5_000),
             (10_000, 10, 500), (1, 1, 1), (1, 0, 1), (5, 3, 3), (10, 3, 5)]
    cases += [(n, rng.randint(0, n), rng.randint(1, n)) for n in (rng.randint(1, 400) for _ in range(150))]
    cases += [(n, rng.randint(0, n), rng.randint(1, n)) for n in (rng.randint(1_000, 10_000) for _ in range(15))]
    for n, c, k in cases:
        exact = exact_pass_at_k(n, c, k)
        got = pass_at_k(n, c, k)
        assert math.isclose(got, float(exact), rel_tol=1e-10, abs_tol=1e-300), (n, c, k, got, float(exact))


def test_pass_at_k_is_the_mean_over_all_k_subsets():
    # The definition Chen et al. (2021) average: the share of k-subsets of the n samples with a correct one.
    from itertools import combinations

    samples = [1, 0, 0, 1, 0, 0, 0]
    n, c = len(samples), sum(samples)
    for k in range(1, n + 1):
        subsets = list(combinations(samples, k))
        share = Fraction(sum(any(s) for s in subsets), len(subsets))
        assert math.isclose(pass_at_k(n, c, k), float(share), rel_tol=1e-12)


def test_zero_signal_fraction_matches_exact_fractions_and_simulation():
    rng = random.Random(1)
    for _ in range(300):
        p = Fraction(rng.randint(0, 1000), 1000)
        g = rng.randint(1, 80)
        exact = p**g + (1 - p) ** g
        assert math.isclose(zero_signal_fraction(float(p), g), float(exact), rel_tol=1e-12, abs_tol=1e-300)
    assert zero_signal_fraction(0.0, 8) == zero_signal_fraction(1.0, 8) == zero_signal_fraction(0.37, 1) == 1.0
    # Simulation: share of all-equal groups among 200,000 groups of 8 at p = 0.2.
    gen = np.random.default_rng(0)
    groups = gen.random((200_000, 8)) < 0.2
    share = float(np.mean(groups.all(axis=1) | (~groups).all(axis=1)))
    assert abs(share - zero_signal_fraction(0.2, 8)) < 4 * math.sqrt(0.17 * 0.83 / 200_000)


def test_groups_per_kept_group_matches_exact_fractions_and_simulation():
    rng = random.Random(2)
    for _ in range(300):
        p = Fraction(rng.randint(1, 999), 1000)
        g = rng.randint(2, 80)
        exact = 1 / (1 - p**g - (1 - p) ** g)
        assert math.isclose(groups_per_kept_group(float(p), g), float(exact), rel_tol=1e-10)
    for p, g in [(0.0, 8), (1.0, 8), (0.5, 1), (0.3, 1), (0, 4), (1, 4)]:
        assert groups_per_kept_group(p, g) == math.inf
    # Tiny p: no cancellation (1 - (1-p)^G ~ G p).
    assert math.isclose(groups_per_kept_group(1e-12, 8), 1 / 8e-12, rel_tol=1e-6)
    # Simulation: a stream of groups of 8 at p = 0.1; groups drawn per kept group.
    gen = np.random.default_rng(0)
    groups = gen.random((200_000, 8)) < 0.1
    kept = ~(groups.all(axis=1) | (~groups).all(axis=1))
    assert math.isclose(len(kept) / kept.sum(), groups_per_kept_group(0.1, 8), rel_tol=0.01)


def test_soft_overlong_punishment_is_the_piecewise_linear_ramp():
    rng = random.Random(3)
    for _ in range(500):
        max_length = rng.randint(1, 50_000)
        cache = rng.randint(1, max_length)
        length = rng.randint(0, 2 * max_length)
        want = -1.0 if length > max_length else float(np.interp(length, [0, max_length - cache, max_length], [0, 0, -1]))
        assert math.isclose(soft_overlong_punishment(length, max_length, cache), want, abs_tol=1e-12)


def test_references_pass_their_own_checks():
    for exercise_id in ("02.1", "02.2", "02.3", "02.4"):
        exercise = get_exercise(exercise_id)
        assert exercise.notebook == "02_rewards_and_pass_at_k"
        assert check(exercise_id, exercise.reference).status == "passed"


# ---------------------------------------------------------------------------------------------
# A learner's right answers pass; the usual wrong ones do not
# ---------------------------------------------------------------------------------------------


def product_form(n, c, k):
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1 - k / i
    return 1 - prod


def exact_int_division(n, c, k):
    return 1 - math.comb(n - c, k) / math.comb(n, k)  # int / int: correctly rounded, never overflows here


@pytest.mark.parametrize("candidate", [product_form, exact_int_division])
def test_right_pass_at_k_answers_get_full_marks(candidate):
    result = check("02.1", candidate)
    assert result.status == "passed", repr(result)


def test_naive_plug_in_estimator_fails_with_a_hint():
    result = check("02.1", lambda n, c, k: 1 - (1 - c / n) ** k)
    assert result.points < result.max_points and result.status == "partial"
    failing = [line for line in result.lines if line.visible and not line.passed]
    assert failing and "naive" in failing[0].hint and "0.9167" in failing[0].hint
    hidden = [line for line in result.lines if not line.visible]
    assert sum(not line.passed for line in hidden) >= 5, "hidden cases must catch the plug-in estimator too"


def test_float_binomials_overflow_and_are_reported():
    result = check("02.1", lambda n, c, k: 1 - float(math.comb(n - c, k)) / float(math.comb(n, k)))
    assert result.points < result.max_points
    big = next(line for line in result.lines if line.name.startswith("pass_at_k(10000"))
    assert not big.passed and "OverflowError" in big.message and "overflow" in big.hint
    factorials = check("02.1", lambda n, c, k: 1 - (math.factorial(n - c) / (math.factorial(k) * math.factorial(n - c - k)))
                       / (math.factorial(n) / (math.factorial(k) * math.factorial(n - k))) if n - c >= k else 1.0)
    assert factorials.points < factorials.max_points


def test_forgetting_the_edge_case_of_the_log_form_fails():
    # The plain product is right even for n - c < k (the factor i = k is 0), but the log-sum form, which
    # keeps precision, must test n - c < k first: log1p(-k/i) at i = k is log(0).
    def no_edge_case(n, c, k):
        return -math.expm1(math.fsum(math.log1p(-k / i) for i in range(n - c + 1, n + 1)))

    result = check("02.1", no_edge_case)
    assert result.status == "partial" and result.points < result.max_points
    assert any("math domain error" in line.message for line in result.lines)
    assert product_form(5, 3, 3) == 1.0


def test_wrong_zero_signal_answers_fail():
    only_correct = check("02.2", lambda p, g: p**g)
    assert only_correct.status in {"partial", "failed"} and only_correct.points < 1
    kept_share = check("02.2", lambda p, g: 1 - p**g - (1 - p) ** g)
    assert kept_share.points < 0.5
    assert check("02.2", lambda p, g: p**g + (1 - p) ** g).status == "passed"


def test_wrong_dynamic_sampling_answers_fail():
    probability = check("02.3", lambda p, g: 1 - p**g - (1 - p) ** g)
    assert probability.points < 0.5
    no_inf = check("02.3", lambda p, g: 1 / (1 - p**g - (1 - p) ** g))  # ZeroDivisionError on the edge cases
    assert no_inf.status == "partial" and no_inf.points < 1
    assert any("ZeroDivisionError" in line.message for line in no_inf.lines)

    def naive(p, g):  # right, except where 1 - p rounds to 1.0 and the float q cancels to 0
        q = 1 - p**g - (1 - p) ** g
        return math.inf if g == 1 or q <= 0 else 1 / q

    cancelled = check("02.3", naive)
    assert cancelled.status == "partial" and cancelled.points < 1
    assert naive(1e-17, 8) == math.inf and 1e16 < groups_per_kept_group(1e-17, 8) < 2e16

    def stable(p, g):
        if g == 1 or p in (0, 1):
            return math.inf
        return 1 / (-math.expm1(g * math.log1p(-p)) - p**g)

    assert check("02.3", stable).status == "passed"


def test_wrong_overlong_answers_fail():
    no_floor = check("02.4", lambda L, lmax, cache: min(0.0, ((lmax - cache) - L) / cache))
    assert no_floor.status == "partial"
    wrong_sign = check("02.4", lambda L, lmax, cache: max(-1.0, min(0.0, ((lmax - cache) - L) / cache)) * -1)
    assert wrong_sign.points < 1
    right = check("02.4", lambda L, lmax, cache: max(-1.0, min(0.0, ((lmax - cache) - L) / cache)))
    assert right.status == "passed"


def test_hidden_cases_cover_the_edge_cases():
    cases = get_exercise("02.1").hidden_cases(123)
    args = [case.args for case in cases]
    assert any(c == 0 for _, c, _ in args) and any(c == n for n, c, _ in args)
    assert any(n - c < k for n, c, k in args) and max(n for n, _, _ in args) == 10_000
    z = [case.args for case in get_exercise("02.2").hidden_cases(123)]
    assert (0.0, 8) in z and (1.0, 8) in z and any(g == 1 for _, g in z)
    d = [case.args for case in get_exercise("02.3").hidden_cases(123)]
    assert any(g == 1 for _, g in d) and any(p in (0.0, 1.0) for p, _ in d)


def test_numbers_quoted_in_the_visible_hints_are_computed():
    big = next(case for case in get_exercise("02.1").visible if case.args == (10_000, 10, 500))
    assert f"has {len(str(math.comb(10_000, 500)))} digits" in big.hint
    assert f"not {float(exact_pass_at_k(10_000, 10, 500)):.4f}" in big.hint
    assert f"gives {1 - (1 - 10 / 10_000) ** 500:.4f} here" in big.hint
    tiny = next(case for case in get_exercise("02.3").visible if case.args == (1e-17, 8))
    assert f"G*p = {8 * 1e-17:g}" in tiny.hint and f"1/q = {groups_per_kept_group(1e-17, 8):.3g}".replace("e+", "e") in tiny.hint
    assert 1 - 1e-17 == 1.0 and 1 - 1e-17**8 - (1 - 1e-17) ** 8 == 0  # what the hint says of the naive q
