"""Exercises of notebook 05_complexity_progression: credit assignment as the horizon grows.

05.1 `returns_and_advantages(rewards, mask, gamma)`: discounted returns-to-go of a batch of
     episodes (per-turn rewards, a padding mask) and turn-level advantages against a per-turn
     baseline (the mean return of the episodes that reached that turn).
05.2 `zero_signal_vs_horizon(q, G, horizons)`: the chance that a GRPO group of G episodes gets
     identical outcome rewards, when an episode of horizon h succeeds with probability q^h.
05.3 `gradient_snr(grads, batch_size)`: the signal-to-noise ratio of a gradient estimate that
     averages `batch_size` per-sample gradients, estimated from N samples.

The references are the package's functions in :mod:`coderl_lessons.multiturn` (thin wrappers),
tested against independent computations in tests/test_exercises_05.py.
"""

from __future__ import annotations

import math
import random

import torch
from torch import Tensor

from coderl_lessons import multiturn
from coderl_lessons.exercise import Case, Exercise, register

NOTEBOOK = "05_complexity_progression"

__all__ = ["returns_and_advantages", "zero_signal_vs_horizon", "gradient_snr"]


# --------------------------------------------------------------------------------------------
# Reference implementations
# --------------------------------------------------------------------------------------------


def returns_and_advantages(rewards: Tensor, mask: Tensor, gamma: float) -> tuple[Tensor, Tensor]:
    """(returns, advantages), both (B, T) like ``rewards``.

    returns[b, t] = sum_{j >= t} gamma^(j - t) rewards[b, j] over the turns episode b took
    (mask 1; each row of the mask is a prefix of ones); advantages[b, t] = returns[b, t] minus
    the mean of returns[:, t] over the episodes with mask[:, t] = 1 (the whole batch is one
    group). Both are exactly 0 on padding, whatever the padding holds (even nan).
    """
    returns = multiturn.discounted_returns(rewards, mask, gamma)
    return returns, multiturn.turn_advantages(rewards, mask, gamma)


def zero_signal_vs_horizon(q: float, G: int, horizons: list[int]) -> list[float]:
    """[P(h) for h in horizons], P(h) = p^G + (1 - p)^G with p = q^h; 1.0 when G = 1."""
    return [multiturn.zero_signal_probability(q, h, G) for h in horizons]


def gradient_snr(grads: Tensor, batch_size: int) -> float:
    """||g_bar||^2 / (v / batch_size), g_bar the mean row of ``grads`` (N, D) and v the trace of
    the rows' sample covariance (sum of squared deviations / (N - 1)). v = 0: inf if g_bar != 0,
    else 0.0."""
    return multiturn.snr_from_gradients(grads, batch_size, unbiased=False)


# --------------------------------------------------------------------------------------------
# Hidden cases
# --------------------------------------------------------------------------------------------


def _batch(rng: random.Random, b: int, t: int, lengths: list[int] | None = None, garbage: str = "nan",
           integers: bool = False) -> tuple[Tensor, Tensor]:
    lengths = lengths if lengths is not None else [rng.randint(0, t) for _ in range(b)]
    rewards, mask = [], []
    for n in lengths:
        row = [float(rng.randint(-2, 3)) if integers else round(rng.uniform(-1.5, 1.5), 3) for _ in range(n)]
        pad = {"nan": math.nan, "big": 1e6, "zero": 0.0}[garbage]
        rewards.append(row + [pad] * (t - n))
        mask.append([1.0] * n + [0.0] * (t - n))
    return torch.tensor(rewards, dtype=torch.float32), torch.tensor(mask, dtype=torch.float32)


def _hidden_returns(rng: random.Random) -> list[Case]:
    cases = []
    r, m = _batch(rng, 3, 4, [4, 2, 3])
    cases.append(Case((r, m, 0.0), label="gamma = 0: each turn's own reward"))
    r, m = _batch(rng, 3, 4, [4, 2, 3])
    cases.append(Case((r, m, 1.0), label="gamma = 1: undiscounted sums"))
    r, m = _batch(rng, 3, 5, [0, 0, 0])
    cases.append(Case((r, m, 0.9), label="every mask empty (all padding)"))
    r, m = _batch(rng, 4, 5, [5, 0, 3, 1], garbage="big")
    cases.append(Case((r, m, 0.95), label="an empty episode among others, padding holds 1e6"))
    r, m = _batch(rng, 1, 6, [6])
    cases.append(Case((r, m, round(rng.uniform(0.3, 0.99), 3)), label="one episode: every advantage is 0"))
    r, m = _batch(rng, 5, 1, [1, 1, 0, 1, 1])
    cases.append(Case((r, m, 0.5), label="one turn per episode"))
    for _ in range(6):
        b, t = rng.randint(2, 7), rng.randint(2, 9)
        r, m = _batch(rng, b, t, garbage=rng.choice(["nan", "big", "zero"]), integers=rng.random() < 0.3)
        cases.append(Case((r, m, rng.choice([0.0, 1.0, round(rng.uniform(0.05, 0.99), 3)]))))
    return cases


def _hidden_zero_signal(rng: random.Random) -> list[Case]:
    q = round(rng.uniform(0.2, 0.95), 3)
    cases = [
        Case((q, 8, [0]), label="h = 0: nothing to get wrong, every episode succeeds"),
        Case((q, 8, [1]), label="h = 1: the single-step case p^G + (1-p)^G with p = q"),
        Case((q, 1, [0, 1, 5]), label="G = 1: a group of one never has signal"),
        Case((1.0, 16, [1, 10, 50]), label="q = 1: every episode succeeds"),
        Case((0.0, 8, [0, 1, 3]), label="q = 0: p = 0 from h = 1 on (0^0 = 1)"),
        Case((q, 4, []), label="no horizons: an empty list"),
        Case((0.9, 8, [1, 5, 50]), label="q = 0.9, G = 8, the survey README's episode lengths"),
    ]
    for _ in range(6):
        horizons = sorted(rng.sample(range(0, 60), rng.randint(1, 6)))
        cases.append(Case((round(rng.uniform(0.01, 0.999), 3), rng.randint(2, 64), horizons)))
    return cases


def _hidden_snr(rng: random.Random) -> list[Case]:
    gen = torch.Generator().manual_seed(rng.randrange(2**31))
    cases = [
        Case((torch.zeros(6, 3, dtype=torch.float64), 4), label="every gradient 0 (all groups without signal): 0.0"),
        Case((torch.tensor([[1.0, -2.0]] * 5, dtype=torch.float64), 2), label="identical non-zero gradients: inf"),
        Case((torch.tensor([[1.0], [3.0]], dtype=torch.float64), 1), label="N = 2, D = 1, batch 1"),
    ]
    for _ in range(8):
        n, d = rng.randint(2, 40), rng.randint(1, 12)
        mean = torch.randn(d, generator=gen, dtype=torch.float64) * rng.choice([0.0, 0.1, 1.0, 3.0])
        grads = mean + torch.randn(n, d, generator=gen, dtype=torch.float64) * rng.choice([0.1, 1.0, 5.0])
        cases.append(Case((grads.round(decimals=4), rng.choice([1, 2, 4, 8, 32]))))
    return cases


# --------------------------------------------------------------------------------------------
# The exercises
# --------------------------------------------------------------------------------------------

_R = torch.tensor([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
_M = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
_R_PAD = torch.tensor([[0.0, 0.0, 1.0], [0.5, math.nan, math.nan]])
_M_PAD = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])

register(Exercise(
    id="05.1",
    title="discounted returns and turn-level advantages",
    notebook=NOTEBOOK,
    entry_point="returns_and_advantages",
    signature="returns_and_advantages(rewards: Tensor (B, T), mask: Tensor (B, T), gamma: float) -> (returns, advantages)",
    reference=returns_and_advantages,
    visible=(
        Case((_R, _M, 1.0), label="two full episodes, gamma = 1",
             hint="With gamma = 1 the return of a turn is the sum of the rewards from that turn to the end: "
                  "[[1, 1, 1], [1, 1, 0]]. The advantage subtracts each turn's mean return over the episodes: "
                  "turn 2 has returns 1 and 0, mean 0.5, so advantages +0.5 and -0.5."),
        Case((_R, _M, 0.5), label="the same episodes, gamma = 0.5",
             hint="Work backwards: G_t = r_t + gamma * G_(t+1). Episode 0: G_2 = 1, G_1 = 0.5, G_0 = 0.25."),
        Case((_R_PAD, _M_PAD, 0.9), label="a one-turn episode, padding holds nan",
             hint="Padding (mask 0) must give exactly 0 in both outputs and must never be read: nan * 0 is nan, "
                  "so select with torch.where(mask.bool(), rewards, 0) instead of multiplying. The baseline of a "
                  "turn averages only the episodes that reached it; turn 1 has one such episode, so its advantage is 0."),
    ),
    hidden=_hidden_returns,
    points=2,
    atol=1e-5,
))

register(Exercise(
    id="05.2",
    title="groups without signal, as a function of horizon",
    notebook=NOTEBOOK,
    entry_point="zero_signal_vs_horizon",
    signature="zero_signal_vs_horizon(q: float, G: int, horizons: list[int]) -> list[float]",
    reference=zero_signal_vs_horizon,
    visible=(
        Case((0.9, 8, [1, 5, 50]), label="q = 0.9, G = 8, horizons 1, 5, 50",
             hint="p_h = q^h: 0.9, 0.59, 0.0052. Then P = p^G + (1-p)^G: 0.43 (mostly all-correct groups), 0.016, "
                  "0.960 (almost every group all wrong)."),
        Case((0.5, 2, [0, 1, 2]), label="q = 0.5, G = 2, horizons 0, 1, 2",
             hint="h = 0: p = q^0 = 1, so every group is all-correct: P = 1. h = 2: p = 0.25, "
                  "P = 0.25^2 + 0.75^2 = 0.625."),
        Case((0.7, 1, [1, 3]), label="G = 1",
             hint="A group of one episode always has identical rewards (its own): P = 1 for every horizon."),
    ),
    hidden=_hidden_zero_signal,
    points=1,
    rtol=1e-9,
    atol=1e-12,
))

register(Exercise(
    id="05.3",
    title="signal-to-noise ratio of a gradient estimate",
    notebook=NOTEBOOK,
    entry_point="gradient_snr",
    signature="gradient_snr(grads: Tensor (N, D), batch_size: int) -> float",
    reference=gradient_snr,
    visible=(
        Case((torch.tensor([[1.0, 0.0], [3.0, 0.0], [2.0, 3.0]], dtype=torch.float64), 1),
             label="three 2-D gradients, batch 1",
             hint="g_bar = (2, 1), ||g_bar||^2 = 5. Deviations (-1, -1), (1, -1), (0, 2): squared lengths 2 + 2 + 4 = 8, "
                  "divided by N - 1 = 2: v = 4. SNR = 5 / (4 / 1) = 1.25."),
        Case((torch.tensor([[1.0, 0.0], [3.0, 0.0], [2.0, 3.0]], dtype=torch.float64), 8),
             label="the same gradients, batch 8",
             hint="Averaging b independent samples divides the noise by b: SNR = 5 / (4 / 8) = 10."),
        Case((torch.zeros(4, 3, dtype=torch.float64), 2), label="all-zero gradients",
             hint="Every group without signal: no signal and no noise. The convention is 0.0 (and inf when the "
                  "gradients are identical but not zero)."),
    ),
    hidden=_hidden_snr,
    points=2,
    rtol=1e-6,
    atol=1e-9,
))
