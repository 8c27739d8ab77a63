"""Exercises 05 (credit assignment and horizon): each reference against an independent plain-Python
or numpy computation, and the usual wrong answers must not pass."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import torch

from coderl_lessons.exercise import exercises_for_notebook, get_exercise
from coderl_lessons.exercises.ex05_complexity import gradient_snr, returns_and_advantages, zero_signal_vs_horizon
from coderl_lessons.grading import check

# ---------------------------------------------------------------- independent computations


def plain_returns(rewards: list[list[float]], lengths: list[int], gamma: float) -> list[list[float]]:
    out = []
    for row, n in zip(rewards, lengths):
        returns = []
        for t in range(len(row)):
            returns.append(sum(gamma ** (j - t) * row[j] for j in range(t, n)) if t < n else 0.0)
        out.append(returns)
    return out


def plain_advantages(returns: list[list[float]], lengths: list[int]) -> list[list[float]]:
    width = len(returns[0]) if returns else 0
    out = [[0.0] * width for _ in returns]
    for t in range(width):
        active = [b for b, n in enumerate(lengths) if t < n]
        if not active:
            continue
        baseline = sum(returns[b][t] for b in active) / len(active)
        for b in active:
            out[b][t] = returns[b][t] - baseline
    return out


def random_batch(rng: random.Random):
    b, t = rng.randint(1, 7), rng.randint(1, 8)
    lengths = [rng.randint(0, t) for _ in range(b)]
    rewards = [[rng.uniform(-2, 2) if i < n else math.nan for i in range(t)] for n in lengths]
    mask = [[1.0 if i < n else 0.0 for i in range(t)] for n in lengths]
    return rewards, mask, lengths


# ---------------------------------------------------------------- references vs independent computations


def test_returns_and_advantages_match_plain_python():
    rng = random.Random(0)
    for _ in range(300):
        rewards, mask, lengths = random_batch(rng)
        gamma = rng.choice([0.0, 1.0, rng.random()])
        got_r, got_a = returns_and_advantages(torch.tensor(rewards, dtype=torch.float64), torch.tensor(mask), gamma)
        want_r = plain_returns(rewards, lengths, gamma)
        want_a = plain_advantages(want_r, lengths)
        assert np.allclose(got_r.numpy(), np.array(want_r), atol=1e-9), (rewards, lengths, gamma)
        assert np.allclose(got_a.numpy(), np.array(want_a), atol=1e-9), (rewards, lengths, gamma)
        assert not torch.isnan(got_r).any() and not torch.isnan(got_a).any()


def test_returns_satisfy_the_bellman_recursion_and_advantages_average_to_zero():
    rng = random.Random(1)
    for _ in range(100):
        rewards, mask, lengths = random_batch(rng)
        gamma = rng.random()
        r, a = returns_and_advantages(torch.tensor(rewards, dtype=torch.float64), torch.tensor(mask), gamma)
        for b, n in enumerate(lengths):
            for t in range(n - 1):
                assert math.isclose(r[b, t].item(), rewards[b][t] + gamma * r[b, t + 1].item(), abs_tol=1e-9)
        for t in range(len(mask[0])):
            active = [b for b, n in enumerate(lengths) if t < n]
            assert abs(sum(a[b, t].item() for b in active)) < 1e-9


def test_zero_signal_matches_exact_fractions_and_simulation():
    rng = random.Random(2)
    for _ in range(300):
        q = Fraction(rng.randint(0, 1000), 1000)
        g = rng.randint(1, 40)
        horizons = [rng.randint(0, 30) for _ in range(rng.randint(0, 5))]
        want = [float((q**h) ** g + (1 - q**h) ** g) for h in horizons]
        got = zero_signal_vs_horizon(float(q), g, horizons)
        assert len(got) == len(want)
        assert all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-300) for x, y in zip(got, want)), (q, g, horizons)
    # Simulation: an episode is h independent steps each right with probability q.
    gen = np.random.default_rng(0)
    q, g, h, n = 0.8, 8, 4, 100_000
    steps = gen.random((n, g, h)) < q
    success = steps.all(axis=2)
    share = float(np.mean(success.all(axis=1) | (~success).all(axis=1)))
    want = zero_signal_vs_horizon(q, g, [h])[0]
    assert abs(share - want) < 4 * math.sqrt(want * (1 - want) / n)


def test_gradient_snr_matches_numpy_and_its_definition():
    rng = np.random.default_rng(3)
    for _ in range(200):
        n, d, b = int(rng.integers(2, 50)), int(rng.integers(1, 10)), int(rng.integers(1, 64))
        grads = rng.normal(rng.normal(size=d), rng.uniform(0.1, 3), size=(n, d))
        mean = grads.mean(axis=0)
        v = np.trace(np.atleast_2d(np.cov(grads, rowvar=False, ddof=1)))
        want = float(mean @ mean) / (v / b)
        assert math.isclose(gradient_snr(torch.tensor(grads), b), want, rel_tol=1e-9)
    assert gradient_snr(torch.zeros(5, 2, dtype=torch.float64), 3) == 0.0
    assert gradient_snr(torch.tensor([[2.0, 1.0]] * 3, dtype=torch.float64), 3) == math.inf


def test_gradient_snr_estimates_the_true_ratio():
    # Gaussian gradients with known mean and covariance: the estimate is close to ||mu||^2 / (tr(Sigma) / b).
    rng = np.random.default_rng(4)
    mu, sigma, b = np.array([0.5, -0.2, 0.1]), np.array([1.0, 2.0, 0.5]), 16
    true = float(mu @ mu) / (float((sigma**2).sum()) / b)
    grads = mu + rng.normal(size=(200_000, 3)) * sigma
    assert math.isclose(gradient_snr(torch.tensor(grads), b), true, rel_tol=0.06)  # about 1.5% sd here


# ---------------------------------------------------------------- the exercises and wrong answers


def test_references_get_full_marks_and_exercises_are_in_the_notebook():
    assert [e.id for e in exercises_for_notebook("05_complexity_progression")] == ["05.1", "05.2", "05.3"]
    for exercise_id, reference in (("05.1", returns_and_advantages), ("05.2", zero_signal_vs_horizon),
                                   ("05.3", gradient_snr)):
        result = check(exercise_id, reference)
        assert result.status == "passed" and result.points == get_exercise(exercise_id).points


def test_blank_answers_are_not_attempted():
    def blank(*args):
        raise NotImplementedError()

    for exercise_id in ("05.1", "05.2", "05.3"):
        result = check(exercise_id, blank)
        assert result.status == "not attempted" and result.points == 0


def test_wrong_returns_and_advantages_fail():
    def multiplies_by_mask(rewards, mask, gamma):  # nan padding leaks: nan * 0 = nan
        r = rewards * mask
        out = torch.zeros_like(r)
        running = torch.zeros(r.shape[0], dtype=r.dtype)
        for t in range(r.shape[1] - 1, -1, -1):
            running = r[:, t] + gamma * running
            out[:, t] = running * mask[:, t]
        return out, out - out.mean(dim=0)

    def baseline_over_everyone(rewards, mask, gamma):  # counts episodes that never reached the turn
        returns, _ = returns_and_advantages(rewards, mask, gamma)
        return returns, (returns - returns.mean(dim=0)) * mask

    def discounts_from_the_start(rewards, mask, gamma):  # gamma^j instead of gamma^(j - t)
        r = torch.where(mask.bool(), rewards, torch.zeros_like(rewards))
        weights = gamma ** torch.arange(r.shape[1], dtype=r.dtype)
        returns = torch.flip(torch.cumsum(torch.flip(r * weights, [1]), 1), [1]) * mask
        _, adv = returns_and_advantages(rewards, mask, gamma)
        return returns, adv

    for wrong in (multiplies_by_mask, baseline_over_everyone, discounts_from_the_start):
        result = check("05.1", wrong)
        assert result.points < result.max_points, wrong.__name__
        assert not all(line.passed for line in result.lines if line.visible), wrong.__name__


def test_wrong_zero_signal_answers_fail():
    def ignores_horizon(q, G, horizons):
        return [q**G + (1 - q) ** G for _ in horizons]

    def only_all_wrong(q, G, horizons):
        return [(1 - q**h) ** G for h in horizons]

    visible = {(0.9, 8, (1, 5, 50)): [0.4304672200000001, 0.01557177295459523, 0.9595059007699246],
               (0.5, 2, (0, 1, 2)): [1.0, 0.5, 0.625], (0.7, 1, (1, 3)): [1.0, 1.0]}

    def hard_coded(q, G, horizons):
        return visible.get((q, G, tuple(horizons)), [0.5] * len(horizons))

    for wrong in (ignores_horizon, only_all_wrong, hard_coded):
        result = check("05.2", wrong)
        assert result.points < result.max_points, wrong.__name__
    assert all(line.passed for line in check("05.2", hard_coded).lines if line.visible)


def test_wrong_snr_answers_fail():
    def population_variance(grads, batch_size):
        mean = grads.mean(dim=0)
        v = ((grads - mean) ** 2).sum().item() / grads.shape[0]
        return (mean @ mean).item() / (v / batch_size) if v else 0.0

    def forgets_batch(grads, batch_size):
        return gradient_snr(grads, 1)

    def nan_for_no_signal(grads, batch_size):
        mean = grads.mean(dim=0)
        v = ((grads - mean) ** 2).sum().item() / (grads.shape[0] - 1)
        return (mean @ mean).item() / (v / batch_size) if v else math.nan

    for wrong in (population_variance, forgets_batch, nan_for_no_signal):
        result = check("05.3", wrong)
        assert result.points < result.max_points, wrong.__name__
