"""Exercises of notebook 02_rewards_and_pass_at_k: pass@k, zero-signal groups, dynamic sampling,
and DAPO's soft overlong punishment.

The references are the package's tested functions (`coderl_lessons.rewards`) or thin functions
defined here from the formulas of lesson 02:

* 02.1 `pass_at_k(n, c, k)`: the unbiased estimator of Chen et al. (2021) in its stable product form.
* 02.2 `zero_signal_fraction(p, G)`: the chance that a group of G samples of a problem solved with
  probability p gets identical binary rewards, p^G + (1-p)^G; such a group has zero GRPO advantage.
* 02.3 `groups_per_kept_group(p, G)`: DAPO's dynamic sampling keeps only groups with mixed rewards;
  the number of groups drawn until one is kept is geometric, with mean 1 / (1 - p^G - (1-p)^G).
* 02.4 `soft_overlong_punishment(length, max_length, cache_length)`: DAPO's length penalty.
"""

from __future__ import annotations

import random

from coderl_lessons import grpo, rewards
from coderl_lessons.exercise import Case, Exercise, register

__all__ = ["pass_at_k", "zero_signal_fraction", "groups_per_kept_group", "soft_overlong_punishment"]

pass_at_k = rewards.pass_at_k
soft_overlong_punishment = rewards.soft_overlong_punishment
zero_signal_fraction = grpo.zero_signal_fraction
groups_per_kept_group = grpo.groups_per_kept_group


# --------------------------------------------------------------------------------------------
# Hidden cases
# --------------------------------------------------------------------------------------------


def _hidden_pass_at_k(rng: random.Random) -> list[Case]:
    cases = [
        Case((10_000, 0, 1), label="c = 0: never correct"),
        Case((10_000, 10_000, 50), label="c = n: always correct"),
        Case((10_000, 9_990, 20), label="n - c < k at n = 10,000"),
        Case((10_000, 1, 1), label="one correct sample in 10,000, k = 1"),
        Case((10_000, 3, 5_000), label="n = 10,000, k = 5,000"),
        Case((1, 1, 1), label="n = 1, correct"),
        Case((1, 0, 1), label="n = 1, wrong"),
        Case((200, 37, 200), label="k = n"),
    ]
    for _ in range(8):  # small n, any k
        n = rng.randint(2, 300)
        cases.append(Case((n, rng.randint(0, n), rng.randint(1, n))))
    for _ in range(6):  # large n, few correct, moderate k: where the naive estimate is visibly off
        n = rng.randint(1_000, 10_000)
        cases.append(Case((n, rng.randint(1, n // 20), rng.randint(2, 200))))
    return cases


def _hidden_zero_signal(rng: random.Random) -> list[Case]:
    cases = [
        Case((0.0, 8), label="p = 0: every group all wrong"),
        Case((1.0, 8), label="p = 1: every group all correct"),
        Case((round(rng.uniform(0.01, 0.99), 3), 1), label="G = 1: a group of one"),
        Case((0.5, 64), label="p = 0.5, G = 64"),
    ]
    for _ in range(10):
        cases.append(Case((round(rng.uniform(0.01, 0.99), 3), rng.randint(2, 64))))
    return cases


def _hidden_groups_per_kept(rng: random.Random) -> list[Case]:
    cases = [
        Case((0.0, 8), label="p = 0: no group is ever kept"),
        Case((1.0, 16), label="p = 1: no group is ever kept"),
        Case((0.5, 1), label="G = 1: no group is ever kept"),
        Case((0.01, 2), label="p = 0.01, G = 2: about 50 groups per kept one"),
    ]
    for _ in range(10):
        cases.append(Case((round(rng.uniform(0.01, 0.99), 3), rng.randint(2, 64))))
    return cases


def _hidden_overlong(rng: random.Random) -> list[Case]:
    cases = [
        Case((16_384, 20_480, 4_096), label="exactly at L_max - L_cache"),
        Case((20_480, 20_480, 4_096), label="exactly at L_max"),
        Case((20_481, 20_480, 4_096), label="one token beyond L_max"),
        Case((0, 1_000, 1_000), label="L_cache = L_max, empty answer"),
        Case((500, 1_000, 1_000), label="L_cache = L_max, half way"),
    ]
    for _ in range(10):
        max_length = rng.randint(100, 40_000)
        cache_length = rng.randint(1, max_length)
        free = max_length - cache_length
        length = rng.choice([rng.randint(0, free), rng.randint(free, max_length),
                             rng.randint(free, max_length), rng.randint(max_length, 2 * max_length)])
        cases.append(Case((length, max_length, cache_length)))
    return cases


# --------------------------------------------------------------------------------------------
# The exercises
# --------------------------------------------------------------------------------------------

register(Exercise(
    id="02.1",
    title="unbiased pass@k, numerically stable",
    notebook="02_rewards_and_pass_at_k",
    entry_point="pass_at_k",
    signature="pass_at_k(n: int, c: int, k: int) -> float",
    reference=pass_at_k,
    visible=(
        Case((10, 3, 1), hint="pass@1 is the fraction of correct samples, c / n = 0.3."),
        Case((10, 3, 5),
             hint="Draw k of the n samples without replacement: pass@k = 1 - C(n-c, k) / C(n, k) = "
                  "1 - 21/252 = 0.9167. The naive plug-in 1 - (1 - c/n)^k = 0.832 is biased low."),
        Case((5, 3, 3), label="pass_at_k(5, 3, 3) (n - c < k)",
             hint="Only 2 wrong samples: every draw of 3 contains a correct one, so pass@k = 1.0 "
                  "(C(n-c, k) = 0)."),
        Case((10_000, 10, 500), label="pass_at_k(10000, 10, 500) (n = 10,000)",
             hint="C(10000, 500) has 861 digits: float(math.comb(...)) and factorials overflow. "
                  "Use the product form 1 - prod over i from n-c+1 to n of (1 - k/i). "
                  "The naive 1 - (1 - c/n)^k gives 0.3936 here, not 0.4014."),
    ),
    hidden=_hidden_pass_at_k,
    points=2,
    rtol=1e-6,
    atol=1e-10,
    time_limit=2.0,
))

register(Exercise(
    id="02.2",
    title="the share of groups with zero GRPO signal",
    notebook="02_rewards_and_pass_at_k",
    entry_point="zero_signal_fraction",
    signature="zero_signal_fraction(p: float, G: int) -> float",
    reference=zero_signal_fraction,
    visible=(
        Case((0.5, 8), hint="Two ways to be all-equal: all correct (p^G) and all wrong ((1-p)^G). "
                            "2 * 0.5^8 = 0.0078125, not 0.5^8."),
        Case((0.1, 4), hint="For a hard problem the likely case is all wrong: 0.9^4 = 0.6561, plus 0.1^4."),
        Case((0.3, 1), label="zero_signal_fraction(0.3, 1) (a group of one)",
             hint="A group of one is always all-equal: 1.0."),
        Case((0.0, 16), label="zero_signal_fraction(0.0, 16) (never solved)",
             hint="p = 0: every group is all wrong, 1.0. Mind 0.0 ** G and 1.0 ** G."),
    ),
    hidden=_hidden_zero_signal,
    points=1,
    rtol=1e-9,
    atol=1e-15,
))

register(Exercise(
    id="02.3",
    title="groups dynamic sampling draws per kept group",
    notebook="02_rewards_and_pass_at_k",
    entry_point="groups_per_kept_group",
    signature="groups_per_kept_group(p: float, G: int) -> float",
    reference=groups_per_kept_group,
    visible=(
        Case((0.5, 8), hint="A group is kept with probability q = 1 - p^G - (1-p)^G; the draws until the "
                            "first kept group are geometric, with mean 1/q = 1.0079 here (not q)."),
        Case((0.05, 8), hint="q = 1 - 0.05^8 - 0.95^8 = 0.3366, so 1/q = 2.971 groups per kept group."),
        Case((0.3, 1), label="groups_per_kept_group(0.3, 1) (a group of one)",
             hint="A group of one is never kept (q = 0): return math.inf instead of dividing by zero. "
                  "Decide it from G and p, not from the float q."),
        Case((1e-17, 8), label="groups_per_kept_group(1e-17, 8) (a tiny pass rate)",
             hint="q is about G*p = 8e-17 here, so 1/q = 1.25e16; but 1 - 1e-17 is 1.0 in floating point, "
                  "so 1 - p**G - (1-p)**G gives 0. Compute 1 - (1-p)**G as -math.expm1(G * math.log1p(-p))."),
        Case((1.0, 8), label="groups_per_kept_group(1.0, 8) (always solved)",
             hint="p = 1: every group is all correct and none is kept: math.inf."),
    ),
    hidden=_hidden_groups_per_kept,
    points=1,
    rtol=1e-6,
))

register(Exercise(
    id="02.4",
    title="DAPO's soft overlong punishment",
    notebook="02_rewards_and_pass_at_k",
    entry_point="soft_overlong_punishment",
    signature="soft_overlong_punishment(length: int, max_length: int, cache_length: int) -> float",
    reference=soft_overlong_punishment,
    visible=(
        Case((16_000, 20_480, 4_096), hint="Up to L_max - L_cache = 16384 tokens there is no penalty: 0.0."),
        Case((18_432, 20_480, 4_096),
             hint="In the cache the penalty falls linearly, ((L_max - L_cache) - L) / L_cache = -2048/4096 = -0.5."),
        Case((25_000, 20_480, 4_096),
             hint="Beyond L_max the penalty is -1: the ramp must not keep falling (it would give -2.1 here)."),
    ),
    hidden=_hidden_overlong,
    points=1,
))
