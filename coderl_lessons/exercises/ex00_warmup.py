"""Exercises of notebook 00_warmup: the two numbers every GRPO step starts from."""

from __future__ import annotations

import math
import random

from coderl_lessons.exercise import Case, Exercise, register


def group_mean_std(rewards: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1 in the denominator) of one group's rewards.

    GRPO normalises each sample's reward by its group's mean and std; TRL and verl use the
    Bessel-corrected (sample) std. A group of one has no spread: its std is defined as 0.0.
    """
    n = len(rewards)
    mean = sum(rewards) / n
    if n == 1:
        return mean, 0.0
    return mean, math.sqrt(sum((r - mean) ** 2 for r in rewards) / (n - 1))


def fraction_passed(statuses: list[str]) -> float:
    """The fraction of test outcomes that are "passed" (0.0 when there were no tests: no evidence
    of correctness is not correctness)."""
    if not statuses:
        return 0.0
    return sum(status == "passed" for status in statuses) / len(statuses)


def _hidden_groups(rng: random.Random) -> list[Case]:
    cases = [Case(([1.0],), label="a group of one"), Case(([0.0] * 8,), label="all-equal group (all wrong)"),
             Case(([1.0] * 4,), label="all-equal group (all right)")]
    for _ in range(12):
        size = rng.randint(2, 16)
        if rng.random() < 0.5:
            rewards = [float(rng.random() < 0.5) for _ in range(size)]
        else:
            rewards = [round(rng.uniform(-1, 1), 3) for _ in range(size)]
        cases.append(Case((rewards,)))
    return cases


def _hidden_statuses(rng: random.Random) -> list[Case]:
    kinds = ["passed", "wrong_answer", "error", "time_limit", "memory_limit"]
    cases = [Case(([],), label="no tests at all"), Case((["passed"] * 5,), label="all passed"),
             Case((["error"] * 3,), label="none passed")]
    for _ in range(12):
        cases.append(Case(([rng.choice(kinds) for _ in range(rng.randint(1, 20))],)))
    return cases


register(Exercise(
    id="00.1",
    title="mean and sample std of a group of rewards",
    notebook="00_warmup",
    entry_point="group_mean_std",
    signature="group_mean_std(rewards: list[float]) -> tuple[float, float]",
    reference=group_mean_std,
    visible=(
        Case(([1.0, 0.0],), hint="Use n - 1 in the denominator: the std of [1, 0] is 0.7071, not 0.5."),
        Case(([1.0, 1.0, 0.0, 0.0],), hint="mean 0.5; squared deviations sum to 1.0; divide by n - 1 = 3."),
        Case(([0.5],), label="group_mean_std([0.5]) (a group of one)",
             hint="A group of one has no spread: return 0.0 for its std instead of dividing by zero."),
    ),
    hidden=_hidden_groups,
    points=2,
))

register(Exercise(
    id="00.2",
    title="fraction of tests passed",
    notebook="00_warmup",
    entry_point="fraction_passed",
    signature="fraction_passed(statuses: list[str]) -> float",
    reference=fraction_passed,
    visible=(
        Case((["passed", "wrong_answer", "passed", "error"],), hint="Count the entries equal to 'passed'."),
        Case(([],), label="fraction_passed([]) (no tests)",
             hint="No tests means no evidence: return 0.0 rather than dividing by zero."),
    ),
    hidden=_hidden_statuses,
    points=1,
))
