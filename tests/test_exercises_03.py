"""Exercises 03 (GRPO math): each reference against an independent plain-Python / numpy
computation, and typical wrong answers that must not pass."""

from __future__ import annotations

import math
import random
import statistics

import numpy as np
import pytest
import torch

from coderl_lessons import grpo
from coderl_lessons.exercise import exercises_for_notebook, get_exercise
from coderl_lessons.exercises.ex03_grpo_math import aggregate_loss, clipped_surrogate, group_advantages, k3_kl
from coderl_lessons.grading import check

EPS = 1e-4


# ---------------------------------------------------------------- independent computations


def plain_advantages(rewards: list[float], g: int, scale: str) -> list[float]:
    batch_std = statistics.stdev(rewards) if len(rewards) > 1 else 0.0
    out = []
    for start in range(0, len(rewards), g):
        group = rewards[start:start + g]
        if len(set(group)) == 1:
            out += [0.0] * len(group)
            continue
        mean = statistics.fmean(group)
        divisor = {"group": statistics.stdev(group) + EPS, "batch": batch_std + EPS, "none": 1.0}[scale]
        out += [(r - mean) / divisor for r in group]
    return out


def plain_surrogate(logp, old, adv, mask, eps_low, eps_high) -> list[list[float]]:
    rows = []
    for i, row in enumerate(logp):
        out = []
        for t, value in enumerate(row):
            if not mask[i][t]:
                out.append(0.0)
                continue
            r = math.exp(value - old[i][t])
            clipped = min(max(r, 1 - eps_low), 1 + eps_high)
            out.append(-min(r * adv[i], clipped * adv[i]))
        rows.append(out)
    return rows


def plain_aggregate(x, mask, loss_type, max_len):
    x, mask = np.asarray(x, dtype=np.float64), np.asarray(mask, dtype=bool)
    if loss_type == "grpo":
        means = [x[i][mask[i]].mean() if mask[i].any() else 0.0 for i in range(len(x))]
        return float(np.mean(means))
    if loss_type == "dapo":
        return float(x[mask].sum() / mask.sum()) if mask.any() else 0.0
    return float(x[mask].sum() / (x.shape[0] * (x.shape[1] if max_len is None else max_len)))


# ---------------------------------------------------------------- references are right


def test_advantages_match_plain_python():
    rng = random.Random(0)
    for _ in range(300):
        g, n = rng.randint(1, 8), rng.randint(1, 6)
        if rng.random() < 0.5:
            rewards = [float(rng.random() < rng.random()) for _ in range(g * n)]
        else:
            rewards = [round(rng.uniform(-1, 1), 3) for _ in range(g * n)]
        scale = rng.choice(["group", "batch", "none"])
        got = group_advantages(torch.tensor(rewards, dtype=torch.float64), g, scale).tolist()
        assert np.allclose(got, plain_advantages(rewards, g, scale), rtol=1e-9, atol=1e-12), (rewards, g, scale)


def test_advantages_known_values():
    # TRL's figure for rewards [1, 0] (grpo-facts.md); the population std would give +-1/(1 + 2e-4).
    assert group_advantages(torch.tensor([1.0, 0.0]), 2).tolist() == pytest.approx([0.707007, -0.707007], abs=1e-6)
    assert group_advantages(torch.tensor([0.7] * 7), 7).tolist() == [0.0] * 7
    assert group_advantages(torch.tensor([0.3, 0.9]), 1).tolist() == [0.0, 0.0]
    assert group_advantages(torch.tensor([1.0, 0.0, 0.0, 0.0]), 4, "none").tolist() == [0.75, -0.25, -0.25, -0.25]


def test_surrogate_matches_plain_python_and_policy_loss():
    g = torch.Generator().manual_seed(0)
    for trial in range(100):
        b, t = 1 + trial % 5, 1 + trial % 9
        logp = -torch.rand(b, t, generator=g, dtype=torch.float64) * 4
        old = logp - (torch.rand(b, t, generator=g, dtype=torch.float64) - 0.5)
        adv = torch.randn(b, generator=g, dtype=torch.float64)
        mask = torch.rand(b, t, generator=g) < 0.7
        eps_low, eps_high = (0.2, 0.28) if trial % 2 else (0.1, 0.1)
        got = clipped_surrogate(logp, old, adv, mask, eps_low, eps_high)
        want = plain_surrogate(logp.tolist(), old.tolist(), adv.tolist(), mask.tolist(), eps_low, eps_high)
        assert np.allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
        # Averaging the per-token losses is the package's policy_loss (token-level, beta = 0).
        loss, _ = grpo.policy_loss(logp, old, adv, mask, eps_low, eps_high, loss_type="dapo")
        assert float(loss) == pytest.approx(float(grpo.masked_mean(got, mask)), abs=1e-12)


def test_surrogate_at_the_clip_boundaries():
    logp = torch.zeros(2, 4, dtype=torch.float64)
    ratios = torch.tensor([[0.8, 1.28, 0.5, 2.0]] * 2, dtype=torch.float64)
    got = clipped_surrogate(logp, -ratios.log(), torch.tensor([1.0, -1.0], dtype=torch.float64),
                            torch.ones(2, 4, dtype=torch.bool), 0.2, 0.28)
    assert np.allclose(got.numpy(), [[-0.8, -1.28, -0.5, -1.28], [0.8, 1.28, 0.8, 2.0]])


def test_aggregate_matches_numpy_and_package():
    g = torch.Generator().manual_seed(1)
    rng = random.Random(1)
    for trial in range(200):
        b, t = rng.randint(1, 6), rng.randint(1, 12)
        x = torch.randn(b, t, generator=g, dtype=torch.float64)
        mask = torch.rand(b, t, generator=g) < rng.random()
        loss_type = ("grpo", "dapo", "dr_grpo")[trial % 3]
        max_len = None if rng.random() < 0.5 else t + rng.randint(0, 5)
        want = plain_aggregate(x.numpy(), mask.numpy(), loss_type, max_len)
        assert aggregate_loss(x, mask, loss_type, max_len) == pytest.approx(want, abs=1e-12)
        package = grpo._aggregate(x, mask, loss_type, t if max_len is None else max_len)
        assert float(package) == pytest.approx(want, abs=1e-12)
    with pytest.raises(ValueError, match="loss_type"):
        aggregate_loss(torch.ones(1, 1), torch.ones(1, 1, dtype=torch.bool), "mean")


def test_k3_matches_formula():
    rng = random.Random(2)
    for _ in range(500):
        logp, ref = -rng.uniform(0, 6), -rng.uniform(0, 6)
        d = ref - logp
        got = float(k3_kl(torch.tensor([logp], dtype=torch.float64), torch.tensor([ref], dtype=torch.float64)))
        assert got == pytest.approx(math.exp(d) - d - 1, rel=1e-9, abs=1e-12) and got >= 0


def test_notebook_has_the_four_exercises():
    ids = [e.id for e in exercises_for_notebook("03_grpo_plus_math")]
    assert ids == ["03.1", "03.2", "03.3", "03.4"]
    assert all(get_exercise(i).points == 2 for i in ids)


# ---------------------------------------------------------------- wrong answers do not pass


def _not_full_marks(exercise_id, candidate):
    result = check(exercise_id, candidate)
    assert result.points < result.max_points, repr(result)
    return result


def test_population_std_fails_with_hint():
    def population(rewards, group_size, scale):
        grouped = rewards.view(-1, group_size)
        centred = grouped - grouped.mean(dim=1, keepdim=True)
        if scale == "none":
            return centred.reshape(-1)
        std = grouped.std(dim=1, unbiased=False, keepdim=True) if scale == "group" else rewards.std(unbiased=False)
        return (centred / (std + EPS)).reshape(-1)

    result = _not_full_marks("03.1", population)
    first = result.lines[0]
    assert not first.passed and "n - 1" in first.hint


@pytest.mark.filterwarnings("ignore:std\\(\\)")  # the naive answer takes the std of a group of one
def test_advantages_without_equality_check_fail_the_float_trap():
    def naive(rewards, group_size, scale):
        grouped = rewards.view(-1, group_size)
        centred = grouped - grouped.mean(dim=1, keepdim=True)
        if scale == "none":
            return centred.reshape(-1)
        std = grouped.std(dim=1, keepdim=True) if scale == "group" else rewards.std()
        return (centred / (torch.nan_to_num(std) + EPS)).reshape(-1)

    result = _not_full_marks("03.1", naive)
    failing = [line.name for line in result.lines if line.visible and not line.passed]
    assert failing == ["seven rewards of 0.7 (an all-equal group)"]


def test_max_instead_of_min_fails():
    def with_max(logp, old_logp, advantages, mask, eps_low, eps_high):
        ratio = torch.exp(logp - old_logp)
        adv = advantages.unsqueeze(1)
        loss = -torch.maximum(ratio * adv, ratio.clamp(1 - eps_low, 1 + eps_high) * adv)
        return torch.where(mask, loss, torch.zeros_like(loss))

    _not_full_marks("03.2", with_max)


def test_forgetting_the_mask_or_symmetric_clip_fails():
    def unmasked(logp, old_logp, advantages, mask, eps_low, eps_high):
        ratio = torch.exp(logp - old_logp)
        adv = advantages.unsqueeze(1)
        return -torch.minimum(ratio * adv, ratio.clamp(1 - eps_low, 1 + eps_high) * adv)

    def symmetric(logp, old_logp, advantages, mask, eps_low, eps_high):
        return clipped_surrogate(logp, old_logp, advantages, mask, eps_low, eps_low)

    result = _not_full_marks("03.2", unmasked)
    assert any("mask" in line.hint for line in result.lines if line.visible and not line.passed)
    _not_full_marks("03.2", symmetric)


def test_dividing_by_t_instead_of_active_tokens_fails():
    def by_t(per_token, mask, loss_type, max_completion_length):
        x = torch.where(mask, per_token, torch.zeros_like(per_token))
        if loss_type == "grpo":
            return float(x.mean(dim=1).mean())
        if loss_type == "dapo":
            return float(x.sum() / x.numel())
        return float(x.sum() / (x.shape[0] * (max_completion_length or x.shape[1])))

    def forgets_mask(per_token, mask, loss_type, max_completion_length):
        return aggregate_loss(per_token, torch.ones_like(mask), loss_type, max_completion_length)

    _not_full_marks("03.3", by_t)
    _not_full_marks("03.3", forgets_mask)


def test_reversed_k3_fails():
    _not_full_marks("03.4", lambda logp, ref_logp: k3_kl(ref_logp, logp))


def test_hard_coded_visible_answers_do_not_get_full_marks():
    exercise = get_exercise("03.4")
    visible = [(case.args[0].tolist(), exercise.reference(*case.args)) for case in exercise.visible]

    def lookup(logp, ref_logp):
        for key, value in visible:
            if logp.tolist() == key:
                return value
        return torch.zeros_like(logp)

    result = _not_full_marks("03.4", lookup)
    assert all(line.passed for line in result.lines if line.visible)


def test_blank_answers_are_not_attempted():
    def blank(*args, **kwargs):
        raise NotImplementedError()

    for exercise_id in ("03.1", "03.2", "03.3", "03.4"):
        result = check(exercise_id, blank)
        assert result.status == "not attempted" and result.points == 0
