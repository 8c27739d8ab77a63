"""Exercises of notebook 03_grpo_plus_math: the four tensor functions of one GRPO / GRPO+ step.

03.1 group advantages (GRPO's std-normalised, batch-normalised, Dr. GRPO's unscaled)
03.2 the clipped surrogate per token, with DAPO's asymmetric clip and a padding mask
03.3 the loss aggregation modes ("grpo", "dapo", "dr_grpo", as TRL names them)
03.4 the k3 estimate of the KL divergence per token

Each reference is the package's function in :mod:`coderl_lessons.grpo` or a thin wrapper of it,
tested against independent computations in tests/test_exercises_03.py. Hidden cases are random
tensors drawn from a ``torch.Generator`` seeded from the ``random.Random`` the grader passes in,
plus the edge cases: all-equal groups, a group of one, a row with no active tokens, ratios
exactly at the clip boundary.

A note on the hidden lists: the first hidden case of every exercise has a one-element tensor
as its first argument, so that two lists of cases compare (``==``) without asking torch for the
truth value of a many-element tensor.
"""

from __future__ import annotations

import math
import random

import torch
from torch import Tensor

from coderl_lessons import grpo
from coderl_lessons.exercise import Case, Exercise, register

NOTEBOOK = "03_grpo_plus_math"
AGGREGATIONS = ("grpo", "dapo", "dr_grpo")


# --------------------------------------------------------------------------------------------
# Reference implementations (thin wrappers of coderl_lessons.grpo)
# --------------------------------------------------------------------------------------------


def group_advantages(rewards: Tensor, group_size: int, scale: str = "group") -> Tensor:
    """(R - group mean) / (std + 1e-4), std of the group ("group") or batch ("batch"), or no
    division ("none"); an all-equal group (a group of one included) gets exactly 0."""
    return grpo.group_advantages(rewards, group_size, scale=scale, eps=1e-4)


def clipped_surrogate(logp: Tensor, old_logp: Tensor, advantages: Tensor, mask: Tensor,
                      eps_low: float = 0.2, eps_high: float = 0.2) -> Tensor:
    """Per-token -min(r A, clip(r, 1 - eps_low, 1 + eps_high) A), r = exp(logp - old_logp);
    exactly 0 where ``mask`` is False. Shape (B, T); ``advantages`` is (B,).

    The same arithmetic as :func:`coderl_lessons.grpo.policy_loss` before it averages the tokens
    (beta = 0): tests/test_exercises_03.py checks that averaging this reproduces policy_loss.
    """
    active = mask.bool()
    log_ratio = torch.where(active, logp - old_logp, torch.zeros_like(logp))
    ratio = torch.exp(log_ratio)
    adv = advantages.to(logp.dtype).unsqueeze(1)
    per_token = -torch.minimum(ratio * adv, torch.clamp(ratio, 1.0 - eps_low, 1.0 + eps_high) * adv)
    return torch.where(active, per_token, torch.zeros_like(per_token))


def aggregate_loss(per_token: Tensor, mask: Tensor, loss_type: str, max_completion_length: int | None = None) -> float:
    """Average a (B, T) per-token loss into one number, as TRL's ``loss_type``:

    * "grpo": mean of each row's active tokens (an empty row gives 0), then mean over the B rows;
    * "dapo": sum of all active tokens / number of active tokens (0 if there are none);
    * "dr_grpo": sum of all active tokens / (B * max_completion_length), T if that is None.
    """
    if loss_type not in AGGREGATIONS:
        raise ValueError(f"loss_type must be one of {AGGREGATIONS}, got {loss_type!r}")
    active = mask.bool()
    if loss_type == "grpo":
        return float(grpo.masked_mean(per_token, active, dim=1).mean())
    if loss_type == "dapo":
        return float(grpo.masked_mean(per_token, active))
    batch, length = per_token.shape
    budget = length if max_completion_length is None else max_completion_length
    return float(torch.where(active, per_token, torch.zeros_like(per_token)).sum() / (batch * budget))


def k3_kl(logp: Tensor, ref_logp: Tensor) -> Tensor:
    """exp(d) - d - 1 with d = ref_logp - logp, per token (DeepSeekMath eq. 4)."""
    return grpo.k3_kl(logp, ref_logp)


# --------------------------------------------------------------------------------------------
# Hidden cases
# --------------------------------------------------------------------------------------------


def _gen(rng: random.Random) -> torch.Generator:
    return torch.Generator().manual_seed(rng.randrange(2**31))


def _binary(g: torch.Generator, n: int, p: float) -> Tensor:
    return (torch.rand(n, generator=g) < p).float()


def _hidden_advantages(rng: random.Random) -> list[Case]:
    g = _gen(rng)
    scales = ("group", "batch", "none")
    cases = [
        Case((torch.rand(1, generator=g), 1, rng.choice(scales)), label="a group of one (one reward)"),
        Case((torch.rand(5, generator=g).round(decimals=2), 1, "group"), label="five groups of one"),
        Case((torch.tensor([1.0] * 4 + [0.0] * 4), 4, "group"), label="two all-equal groups"),
        Case((torch.tensor([0.9, 0.9, 0.9, 1.0, 0.0, 1.0]), 3, "group"), label="an all-equal group of 0.9s"),
        Case((torch.tensor([0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0]), 4, "batch"),
             label="an all-equal group, batch scale"),
        Case((torch.full((6,), 0.5), 3, "batch"), label="every reward equal, batch scale"),
        Case((torch.tensor([1.0, 0.0]), 2, "none"), label="Dr. GRPO on [1, 0]"),
    ]
    for _ in range(12):
        size = rng.randint(1, 8)
        groups = rng.randint(1, 6)
        if rng.random() < 0.6:
            rewards = _binary(g, size * groups, rng.uniform(0.1, 0.9))
        else:
            rewards = (torch.rand(size * groups, generator=g) * 2 - 1).round(decimals=3)
        cases.append(Case((rewards, size, rng.choice(scales))))
    return cases


def _surrogate_case(g: torch.Generator, rng: random.Random, batch: int, length: int, label: str = "") -> Case:
    logp = -torch.rand(batch, length, generator=g) * 4
    old_logp = logp - (torch.rand(batch, length, generator=g) - 0.5)  # ratios in [0.61, 1.65]
    advantages = torch.randn(batch, generator=g)
    mask = torch.rand(batch, length, generator=g) < 0.8
    eps_low = rng.choice([0.1, 0.2, 0.2, 0.3])
    eps_high = rng.choice([eps_low, 0.28, 0.4])
    return Case((logp, old_logp, advantages, mask, eps_low, eps_high), label=label)


def _hidden_surrogate(rng: random.Random) -> list[Case]:
    g = _gen(rng)
    cases = [_surrogate_case(g, rng, 1, 1, label="a single token")]
    # Ratios exactly at both clip boundaries, for both signs of the advantage.
    logp = -torch.rand(2, 4, generator=g) * 3
    ratios = torch.tensor([[0.8, 1.28, 1.0, 2.0], [0.8, 1.28, 0.5, 1.1]])
    cases.append(Case((logp, logp - ratios.log(), torch.tensor([1.0, -1.0]), torch.ones(2, 4, dtype=torch.bool), 0.2, 0.28),
                      label="ratios at the clip boundaries 0.8 and 1.28"))
    # A row with no active tokens (its padding holds values that must not leak into the loss).
    case = _surrogate_case(g, rng, 3, 5)
    mask = case.args[3].clone()
    mask[1] = False
    cases.append(Case(case.args[:3] + (mask,) + case.args[4:], label="a row with no active tokens"))
    case = _surrogate_case(g, rng, 2, 3)
    cases.append(Case(case.args[:3] + (torch.zeros(2, 3, dtype=torch.bool),) + case.args[4:], label="an all-padding batch"))
    cases.append(Case(case.args[:2] + (torch.zeros(2),) + case.args[3:], label="zero advantages"))
    for _ in range(10):
        cases.append(_surrogate_case(g, rng, rng.randint(1, 6), rng.randint(1, 12)))
    return cases


def _aggregate_case(g: torch.Generator, rng: random.Random, batch: int, length: int, loss_type: str,
                    empty_row: bool = False, label: str = "") -> Case:
    per_token = torch.randn(batch, length, generator=g)
    lengths = torch.randint(1, length + 1, (batch,), generator=g)
    mask = torch.arange(length).unsqueeze(0) < lengths.unsqueeze(1)  # right padding, as in a batch
    if empty_row:
        mask[rng.randrange(batch)] = False
    budget = None if rng.random() < 0.5 else length + rng.randint(0, 8)
    return Case((per_token, mask, loss_type, budget), label=label)


def _hidden_aggregate(rng: random.Random) -> list[Case]:
    g = _gen(rng)
    cases = [Case((torch.randn(1, 1, generator=g), torch.ones(1, 1, dtype=torch.bool), rng.choice(AGGREGATIONS), None),
                  label="a single token")]
    for loss_type in AGGREGATIONS:
        cases.append(_aggregate_case(g, rng, rng.randint(2, 5), rng.randint(2, 9), loss_type, empty_row=True,
                                     label=f"a row with no active tokens ({loss_type})"))
        cases.append(Case((torch.randn(2, 3, generator=g), torch.zeros(2, 3, dtype=torch.bool), loss_type, None),
                          label=f"no active tokens at all ({loss_type})"))
    for _ in range(10):
        cases.append(_aggregate_case(g, rng, rng.randint(1, 6), rng.randint(1, 16), rng.choice(AGGREGATIONS)))
    return cases


def _hidden_k3(rng: random.Random) -> list[Case]:
    g = _gen(rng)
    cases = [Case((-torch.rand(1, generator=g) * 3, -torch.rand(1, generator=g) * 3), label="a single token")]
    same = -torch.rand(3, 4, generator=g) * 5
    cases.append(Case((same, same.clone()), label="identical policies"))
    for _ in range(10):
        shape = (rng.randint(1, 6), rng.randint(1, 10)) if rng.random() < 0.7 else (rng.randint(1, 20),)
        logp = -torch.rand(shape, generator=g) * 6
        spread = rng.choice([0.01, 0.5, 2.0])
        ref_logp = logp + torch.randn(shape, generator=g) * spread
        cases.append(Case((logp, ref_logp)))
    return cases


# --------------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------------


def _t(values) -> Tensor:
    return torch.tensor(values, dtype=torch.float32)


def _ratios_case(ratios: list[float], advantage: float, eps_low: float, eps_high: float, **kw) -> Case:
    logp = _t([[-1.0] * len(ratios)])
    old_logp = logp - _t([ratios]).log()
    return Case((logp, old_logp, _t([advantage]), torch.ones(1, len(ratios), dtype=torch.bool), eps_low, eps_high), **kw)


_PER_TOKEN = _t([[1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 9.0, 9.0]])
_MASK = torch.tensor([[True, True, True, True], [True, True, False, False]])

register(Exercise(
    id="03.1",
    title="group advantages with three scalings",
    notebook=NOTEBOOK,
    entry_point="group_advantages",
    signature="group_advantages(rewards: Tensor, group_size: int, scale: str) -> Tensor",
    reference=group_advantages,
    visible=(
        Case((_t([1.0, 0.0]), 2, "group"), label="group_advantages([1, 0], 2, 'group')",
             hint="Use the sample std (n - 1, torch's default .std()): std([1, 0]) = 0.7071, so A = +-0.5/(0.7071 + 1e-4) "
                  "= +-0.707007. The population std (0.5) gives +-0.9998."),
        Case((_t([1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0]), 4, "group"), label="two groups of 4, 'group'",
             hint="Each group of group_size consecutive rewards has its own mean and std: view the flat tensor as "
                  "(n_groups, group_size)."),
        Case((_t([1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0]), 4, "group"), label="an all-right group, then a mixed one",
             hint="A group whose rewards are all equal carries no signal: its advantages are exactly 0."),
        Case((_t([0.7] * 7), 7, "group"), label="seven rewards of 0.7 (an all-equal group)",
             hint="In float32 the mean of seven 0.7s differs from 0.7 by 6e-8, and dividing by (std + 1e-4) blows that "
                  "up to 6e-4. Test the group for equality (all rewards == the first) and return exact zeros."),
        Case((_t([1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0]), 4, "batch"), label="two groups of 4, 'batch'",
             hint="'batch': still subtract each group's own mean, but divide by the sample std of ALL rewards in the batch."),
        Case((_t([1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0]), 4, "none"), label="two groups of 4, 'none' (Dr. GRPO)",
             hint="'none' (Dr. GRPO): subtract the group mean and stop; no division at all."),
        Case((_t([0.5, 1.0, 0.25]), 1, "group"), label="group_size 1 (three groups of one)",
             hint="A group of one is all-equal: advantage 0. Beware: torch's sample std of one value is nan."),
    ),
    hidden=_hidden_advantages,
    points=2,
))

register(Exercise(
    id="03.2",
    title="clipped surrogate per token, asymmetric clip, masked",
    notebook=NOTEBOOK,
    entry_point="clipped_surrogate",
    signature="clipped_surrogate(logp, old_logp, advantages, mask, eps_low, eps_high) -> Tensor (B, T)",
    reference=clipped_surrogate,
    atol=1e-6,
    visible=(
        _ratios_case([0.5, 1.0, 1.25, 2.0], 1.0, 0.2, 0.2, label="A = +1, ratios 0.5, 1, 1.25, 2, eps 0.2/0.2",
                     hint="The loss is -min(r*A, clip(r, 1 - eps_low, 1 + eps_high)*A). For A > 0 the min caps the "
                          "objective at (1 + eps_high)*A; a small ratio is NOT raised to 1 - eps_low."),
        _ratios_case([0.5, 1.0, 1.25, 2.0], -1.0, 0.2, 0.2, label="A = -1, same ratios",
                     hint="min, not max: for A < 0 a ratio below 1 - eps_low is clipped, one above 1 + eps_high is not "
                          "(its loss keeps growing with r)."),
        _ratios_case([0.75, 1.25, 1.3], 1.0, 0.2, 0.28, label="A = +1, ratios 0.75, 1.25, 1.3, eps 0.2/0.28 (clip-high)",
                     hint="Asymmetric clip: the upper bound is 1 + eps_high, the lower 1 - eps_low."),
        Case((_t([[-1.0, -2.0, -0.5], [-1.0, -1.0, -1.0]]), _t([[-1.5, -2.0, -3.0], [-0.5, -1.0, -4.0]]), _t([0.5, -2.0]),
              torch.tensor([[True, True, False], [False, False, False]]), 0.2, 0.28),
             label="two rows, padding in the first, the second all padding",
             hint="The loss must be 0 wherever mask is False (padding), even where the ratio there is far from 1; and "
                  "each row uses its own advantage (advantages[i] for every token of row i: unsqueeze to (B, 1))."),
    ),
    hidden=_hidden_surrogate,
    points=2,
))

register(Exercise(
    id="03.3",
    title="loss aggregation: grpo, dapo, dr_grpo",
    notebook=NOTEBOOK,
    entry_point="aggregate_loss",
    signature="aggregate_loss(per_token: Tensor, mask: Tensor, loss_type: str, max_completion_length: int | None) -> float",
    reference=aggregate_loss,
    visible=(
        Case((_PER_TOKEN, _MASK, "grpo", None), label="'grpo' on rows of 4 and 2 active tokens",
             hint="'grpo': each row's mean over its ACTIVE tokens (row 2: (2 + 2)/2, not /4, and not counting the "
                  "padding 9s), then the mean over rows: (1 + 2)/2 = 1.5."),
        Case((_PER_TOKEN, _MASK, "dapo", None), label="'dapo' on the same tokens",
             hint="'dapo': sum of all active tokens / number of active tokens in the batch = 8/6."),
        Case((_PER_TOKEN, _MASK, "dr_grpo", 8), label="'dr_grpo', max_completion_length 8",
             hint="'dr_grpo': sum of the active tokens / (B * max_completion_length) = 8/(2*8), a constant that does not "
                  "depend on how long the answers are."),
        Case((_PER_TOKEN, _MASK, "dr_grpo", None), label="'dr_grpo', max_completion_length None",
             hint="When max_completion_length is None use T, the tensor's second dimension: 8/(2*4)."),
        Case((_t([[1.0, 2.0], [5.0, 5.0]]), torch.tensor([[True, True], [False, False]]), "grpo", None),
             label="'grpo' with an empty second row",
             hint="A row with no active tokens contributes 0 (not nan) and still counts as a row: (1.5 + 0)/2."),
    ),
    hidden=_hidden_aggregate,
    points=2,
))

register(Exercise(
    id="03.4",
    title="k3 estimate of the KL divergence, per token",
    notebook=NOTEBOOK,
    entry_point="k3_kl",
    signature="k3_kl(logp: Tensor, ref_logp: Tensor) -> Tensor",
    reference=k3_kl,
    atol=1e-6,
    visible=(
        Case((_t([-1.0, -0.3]), _t([-1.0, -0.3])), label="identical log-probs",
             hint="When the policy and the reference agree, every k3 term is exactly 0."),
        Case((_t([-1.0]), _t([-2.0])), label="logp -1, ref_logp -2",
             hint="d = ref_logp - logp = -1 (reference minus current), so k3 = exp(-1) + 1 - 1 = 0.3679. "
                  "With the difference the other way round you get e - 2 = 0.7183."),
        Case((_t([[-0.5, -2.0, -1.0], [-3.0, -0.1, -0.7]]), _t([[-0.7, -1.0, -1.0], [-2.5, -0.3, -2.0]])),
             label="a (2, 3) batch",
             hint="Elementwise: the result has the shape of logp. k3 is never negative."),
    ),
    hidden=_hidden_k3,
    points=2,
))
