"""Tests of coderl_lessons.grpo against independent plain-Python computations of the formulas."""

from __future__ import annotations

import dataclasses
import math
import statistics

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from coderl_lessons.grpo import (
    LOSS_TYPES,
    PRESETS,
    GRPOConfig,
    entropy_from_logits,
    group_advantages,
    k3_kl,
    mask_truncated,
    masked_mean,
    policy_loss,
    preset,
)

FAST = settings(max_examples=60, deadline=None)
finite = st.floats(min_value=-10, max_value=10, allow_nan=False, allow_infinity=False)


# ---------------------------------------------------------------- independent reference code


def ref_advantages(rewards: list[float], g: int, scale: str, eps: float) -> list[float]:
    out = []
    batch_std = statistics.stdev(rewards) if len(rewards) > 1 else 0.0
    for start in range(0, len(rewards), g):
        group = rewards[start : start + g]
        mean = statistics.fmean(group)
        std = statistics.stdev(group) if g > 1 else 0.0
        for r in group:
            centred = 0.0 if len(set(group)) == 1 else r - mean
            if scale == "none":
                out.append(centred)
            else:
                out.append(centred / ((std if scale == "group" else batch_std) + eps))
    return out


def ref_policy_loss(logp, old, adv, mask, eps_low, eps_high, loss_type, max_len, beta, ref):
    """The loss of policy_loss, token by token in plain Python."""
    rows = []
    for i in range(len(logp)):
        row = []
        for t in range(len(logp[i])):
            if not mask[i][t]:
                continue
            r = math.exp(logp[i][t] - old[i][t])
            a = adv[i]
            loss = -min(r * a, min(max(r, 1 - eps_low), 1 + eps_high) * a)
            if beta:
                d = ref[i][t] - logp[i][t]
                loss += beta * (math.exp(d) - d - 1)
            row.append(loss)
        rows.append(row)
    n_tokens = sum(len(row) for row in rows)
    total = sum(sum(row) for row in rows)
    if loss_type == "grpo":
        return sum(sum(row) / max(len(row), 1) for row in rows) / len(rows)
    if loss_type in ("bnpo", "dapo"):
        return total / max(n_tokens, 1)
    return total / (len(rows) * (max_len or len(logp[0])))


def d64(x) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


# ---------------------------------------------------------------- group_advantages


def test_trl_figure_for_rewards_one_zero():
    # grpo-facts.md: TRL gives +-0.5 / (0.70711 + 1e-4) = +-0.707007 for rewards [1, 0]
    adv = group_advantages(torch.tensor([1.0, 0.0]), group_size=2)
    assert adv.tolist() == pytest.approx([0.707007, -0.707007], abs=1e-6)
    # the population std would give +-1: check we are not using it
    assert abs(adv[0].item()) < 0.71


@pytest.mark.parametrize("scale", ["group", "batch", "none"])
def test_advantages_match_statistics_module(scale):
    rewards = [1.0, 0.0, 0.0, 1.0, 0.5, 0.25, 3.0, -1.0, 2.0, 2.0, 2.0, 2.0]
    got = group_advantages(d64(rewards), group_size=4, scale=scale, eps=1e-4)
    assert got.tolist() == pytest.approx(ref_advantages(rewards, 4, scale, 1e-4), rel=1e-12, abs=1e-12)


@FAST
@given(
    g=st.integers(1, 6),
    n_groups=st.integers(1, 4),
    data=st.data(),
    scale=st.sampled_from(["group", "batch", "none"]),
)
def test_advantages_property_groups_sum_to_zero_and_match_reference(g, n_groups, data, scale):
    rewards = data.draw(st.lists(finite, min_size=g * n_groups, max_size=g * n_groups))
    adv = group_advantages(d64(rewards), group_size=g, scale=scale)
    assert torch.isfinite(adv).all()
    for start in range(0, len(rewards), g):
        assert adv[start : start + g].sum().item() == pytest.approx(0.0, abs=1e-6)
    assert adv.tolist() == pytest.approx(ref_advantages(rewards, g, scale, 1e-4), rel=1e-9, abs=1e-9)


@FAST
@given(value=finite, g=st.integers(1, 9), scale=st.sampled_from(["group", "batch", "none"]))
def test_all_equal_group_gives_exactly_zero(value, g, scale):
    rewards = torch.full((g,), value, dtype=torch.float32)
    assert group_advantages(rewards, group_size=g, scale=scale).tolist() == [0.0] * g


def test_all_equal_group_is_exact_even_when_float_mean_is_off():
    # In float32 the mean of seven 0.7s differs from 0.7; the naive formula turns that into ~6e-4.
    rewards = torch.full((7,), 0.7)
    naive = (rewards - rewards.mean()) / (rewards.std() + 1e-4)
    assert naive.abs().max() > 1e-4  # the trap is real on this machine
    assert group_advantages(rewards, 7).tolist() == [0.0] * 7


def test_group_of_one_gives_zero_not_nan():
    for scale in ("group", "batch", "none"):
        adv = group_advantages(torch.tensor([1.0, 0.0, 1.0]), group_size=1, scale=scale)
        assert adv.tolist() == [0.0, 0.0, 0.0]


def test_integer_rewards_are_accepted():
    assert group_advantages(torch.tensor([1, 0]), 2).tolist() == pytest.approx([0.707007, -0.707007], abs=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(rewards=torch.zeros(5), group_size=2), r"length 5 .* multiple of group_size 2"),
        (dict(rewards=torch.zeros(2, 2), group_size=2), r"1-D, got shape \(2, 2\)"),
        (dict(rewards=torch.zeros(4), group_size=0), "positive int"),
        (dict(rewards=torch.zeros(4), group_size=2, scale="std"), "scale must be one of"),
        (dict(rewards=torch.zeros(4), group_size=2, eps=0.0), "eps must be > 0"),
        (dict(rewards=torch.tensor([1.0, float("nan")]), group_size=2), "finite"),
        (dict(rewards=[1.0, 0.0], group_size=2), "torch.Tensor"),
    ],
)
def test_group_advantages_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        group_advantages(**kwargs)


# ---------------------------------------------------------------- k3_kl


def test_k3_matches_formula():
    logp = d64([[-1.0, -2.0, -0.1], [-3.0, -0.5, -4.0]])
    ref = d64([[-1.5, -1.0, -0.1], [-0.2, -0.7, -9.0]])
    expected = [[math.exp(r - p) - (r - p) - 1 for p, r in zip(pr, rr)] for pr, rr in zip(logp.tolist(), ref.tolist())]
    assert k3_kl(logp, ref).numpy() == pytest.approx(np.array(expected), rel=1e-12)
    assert k3_kl(logp, logp).tolist() == [[0.0] * 3] * 2


@FAST
@given(p=finite, r=finite, dtype=st.sampled_from([torch.float32, torch.float64]))
def test_k3_is_never_negative(p, r, dtype):
    assert k3_kl(torch.tensor([p], dtype=dtype), torch.tensor([r], dtype=dtype)).item() >= 0.0


def test_k3_small_differences_stay_non_negative_in_float32():
    logp = torch.zeros(10_000)
    ref = torch.linspace(-1e-3, 1e-3, 10_000)
    assert (k3_kl(logp, ref) >= 0).all()


def test_k3_gradcheck():
    logp = d64([[-1.0, -2.0], [-0.3, -4.0]]).requires_grad_()
    ref = d64([[-1.2, -1.0], [-0.3, -3.0]]).requires_grad_()
    assert torch.autograd.gradcheck(k3_kl, (logp, ref))


def test_k3_rejects_shape_mismatch():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 2\)"):
        k3_kl(torch.zeros(2, 3), torch.zeros(2, 2))


# ---------------------------------------------------------------- policy_loss: values


@FAST
@given(
    b=st.integers(1, 4),
    t=st.integers(1, 5),
    data=st.data(),
    loss_type=st.sampled_from(LOSS_TYPES),
    eps_low=st.sampled_from([0.0, 0.1, 0.2]),
    eps_high=st.sampled_from([0.0, 0.2, 0.28]),
    beta=st.sampled_from([0.0, 0.04]),
)
def test_policy_loss_matches_plain_python(b, t, data, loss_type, eps_low, eps_high, beta):
    small = st.floats(min_value=-3, max_value=0, allow_nan=False)
    grid = lambda s: st.lists(st.lists(s, min_size=t, max_size=t), min_size=b, max_size=b)  # noqa: E731
    logp, old, ref = data.draw(grid(small)), data.draw(grid(small)), data.draw(grid(small))
    mask = data.draw(grid(st.sampled_from([0, 1])))
    adv = data.draw(st.lists(st.floats(-3, 3, allow_nan=False), min_size=b, max_size=b))
    max_len = data.draw(st.sampled_from([None, t, t + 3]))
    loss, diag = policy_loss(
        d64(logp), d64(old), d64(adv), torch.tensor(mask), eps_low, eps_high, loss_type, max_len, beta, d64(ref)
    )
    expected = ref_policy_loss(logp, old, adv, mask, eps_low, eps_high, loss_type, max_len, beta, ref)
    assert loss.item() == pytest.approx(expected, rel=1e-9, abs=1e-12)

    active = [(i, j) for i in range(b) for j in range(t) if mask[i][j]]
    ratios = {(i, j): math.exp(logp[i][j] - old[i][j]) for i, j in active}
    n = max(len(active), 1)
    low = sum(1 for (i, j) in active if ratios[i, j] < 1 - eps_low and adv[i] < 0)
    high = sum(1 for (i, j) in active if ratios[i, j] > 1 + eps_high and adv[i] > 0)
    assert diag["clip_low_frac"] == pytest.approx(low / n)
    assert diag["clip_high_frac"] == pytest.approx(high / n)
    assert diag["clip_frac"] == pytest.approx((low + high) / n)
    assert diag["mean_ratio"] == pytest.approx(sum(ratios.values()) / n if active else 0.0)
    assert diag["active_tokens"] == len(active)
    kls = [math.exp(ref[i][j] - logp[i][j]) - (ref[i][j] - logp[i][j]) - 1 for i, j in active]
    assert diag["kl"] == pytest.approx(sum(kls) / n, rel=1e-9, abs=1e-12)
    expected_surrogate = ref_policy_loss(logp, old, adv, mask, eps_low, eps_high, loss_type, max_len, 0.0, ref)
    assert diag["surrogate"] == pytest.approx(expected_surrogate, rel=1e-9, abs=1e-12)
    assert all(isinstance(v, float) for v in diag.values())


def test_loss_types_weigh_long_and_short_completions_differently():
    # one short completion (1 token, loss 1 per token) and one long (3 tokens, loss 2 per token):
    # with ratio 1, per-token loss is -A.
    logp = torch.zeros(2, 4, dtype=torch.float64)
    mask = torch.tensor([[1, 0, 0, 0], [1, 1, 1, 0]])
    adv = d64([-1.0, -2.0])
    losses = {lt: policy_loss(logp, logp, adv, mask, loss_type=lt)[0].item() for lt in LOSS_TYPES}
    assert losses["grpo"] == pytest.approx((1 + 2) / 2)  # per-sequence means, then mean
    assert losses["bnpo"] == pytest.approx((1 + 6) / 4)  # token-level
    assert losses["dapo"] == losses["bnpo"]
    assert losses["dr_grpo"] == pytest.approx((1 + 6) / (2 * 4))  # constant B * T
    dr_10 = policy_loss(logp, logp, adv, mask, loss_type="dr_grpo", max_completion_length=10)[0].item()
    assert dr_10 == pytest.approx(7 / 20)


def test_no_kl_key_without_reference():
    _, diag = policy_loss(torch.zeros(1, 2), torch.zeros(1, 2), torch.ones(1), torch.ones(1, 2))
    assert "kl" not in diag
    assert set(diag) == {"clip_low_frac", "clip_high_frac", "clip_frac", "mean_ratio", "surrogate", "active_tokens"}


# ---------------------------------------------------------------- policy_loss: masks


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_empty_rows_contribute_zero_and_never_nan(loss_type):
    logp = d64([[-1.0, -2.0], [float("-inf"), float("nan")]]).requires_grad_()
    old = d64([[-1.1, -1.9], [-1.0, float("inf")]])
    mask = torch.tensor([[1, 1], [0, 0]])
    loss, diag = policy_loss(logp, old, d64([1.0, 5.0]), mask, loss_type=loss_type, beta=0.1, ref_logp=old.nan_to_num())
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logp.grad).all()
    assert logp.grad[1].tolist() == [0.0, 0.0]
    assert all(math.isfinite(v) for v in diag.values())
    # the same loss as computed from the first row alone, up to the normaliser of each loss type
    alone, _ = policy_loss(
        logp[:1].detach(), old[:1], d64([1.0]), mask[:1], loss_type=loss_type, beta=0.1, ref_logp=old[:1]
    )
    scale = {"grpo": 0.5, "bnpo": 1.0, "dapo": 1.0, "dr_grpo": 0.5}[loss_type]
    assert loss.item() == pytest.approx(scale * alone.item())


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_all_empty_mask_gives_zero_loss_and_zero_gradient(loss_type):
    logp = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    loss, diag = policy_loss(logp, logp.detach() + 0.3, d64([1.0, -1.0, 2.0]), torch.zeros(3, 4), loss_type=loss_type)
    loss.backward()
    assert loss.item() == 0.0
    assert logp.grad.abs().sum().item() == 0.0
    assert diag["clip_frac"] == 0.0 and diag["mean_ratio"] == 0.0 and diag["active_tokens"] == 0.0


def test_bool_and_float_masks_agree():
    logp, old, adv = torch.randn(2, 3), torch.randn(2, 3), torch.tensor([1.0, -0.5])
    m = torch.tensor([[True, False, True], [True, True, False]])
    assert policy_loss(logp, old, adv, m)[0].item() == policy_loss(logp, old, adv, m.float())[0].item()


# ---------------------------------------------------------------- policy_loss: gradients


def _grad(logp_values, old_values, adv, eps_low=0.2, eps_high=0.2, loss_type="grpo"):
    logp = d64(logp_values).requires_grad_()
    loss, diag = policy_loss(logp, d64(old_values), d64(adv), torch.ones_like(logp), eps_low, eps_high, loss_type)
    loss.backward()
    return logp.grad, diag


def test_gradient_is_exactly_zero_where_the_clip_is_active():
    r = [1.5, 1.1, 0.5, 0.9]  # above 1+eps, inside, below 1-eps, inside
    logp = [[math.log(x) for x in r]] * 2
    old = [[0.0] * 4] * 2
    grad, diag = _grad(logp, old, [1.0, -1.0])
    # A > 0: r > 1 + eps_high is clipped (no push further up); everything else gets a gradient
    assert grad[0, 0].item() == 0.0
    assert grad[0, 1].item() != 0.0 and grad[0, 2].item() != 0.0 and grad[0, 3].item() != 0.0
    # A < 0: r < 1 - eps_low is clipped (no push further down); r > 1 + eps still gets a gradient
    assert grad[1, 2].item() == 0.0
    assert grad[1, 0].item() != 0.0 and grad[1, 1].item() != 0.0 and grad[1, 3].item() != 0.0
    # the unclipped gradient of -r*A/n with respect to log r is -r*A/n
    assert grad[0, 1].item() == pytest.approx(-1.1 * 1.0 / 4 / 2)
    assert grad[1, 0].item() == pytest.approx(-1.5 * -1.0 / 4 / 2)
    assert diag["clip_high_frac"] == pytest.approx(1 / 8) and diag["clip_low_frac"] == pytest.approx(1 / 8)


def test_clip_higher_lets_a_ratio_past_the_symmetric_bound_keep_its_gradient():
    logp, old = [[math.log(1.25)]], [[0.0]]
    assert _grad(logp, old, [1.0], eps_high=0.2)[0].item() == 0.0
    assert _grad(logp, old, [1.0], eps_high=0.28)[0].item() != 0.0


@pytest.mark.parametrize("side", ["high", "low"])
def test_ratio_exactly_at_the_clip_boundary(side):
    # choose eps so that 1 + eps_high (or 1 - eps_low) equals the computed ratio bit for bit
    log_r = math.log(1.2) if side == "high" else math.log(0.8)
    r = torch.exp(d64(log_r)).item()
    eps_high, eps_low = (r - 1.0, 0.2) if side == "high" else (0.2, 1.0 - r)
    assert (1.0 + eps_high == r) if side == "high" else (1.0 - eps_low == r)
    a = 1.0 if side == "high" else -1.0
    grad, diag = _grad([[log_r]], [[0.0]], [a], eps_low=eps_low, eps_high=eps_high)
    # both branches are equal there: the value is -r*A, the token is not counted as clipped
    # (strict inequalities, as TRL), and the gradient is the unclipped one
    assert diag["clip_frac"] == 0.0
    assert grad.item() == pytest.approx(-r * a)
    loss, _ = policy_loss(d64([[log_r]]), d64([[0.0]]), d64([a]), torch.ones(1, 1), eps_low, eps_high)
    assert loss.item() == pytest.approx(-r * a)


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
@pytest.mark.parametrize("beta", [0.0, 0.1])
def test_policy_loss_gradcheck(loss_type, beta):
    gen = torch.Generator().manual_seed(0)
    old = -torch.rand(3, 5, generator=gen, dtype=torch.float64) * 3
    # ratios inside the clip range and clearly outside it, never within 1e-3 of a boundary
    offsets = torch.tensor(
        [[0.05, -0.1, 0.5, -0.6, 0.0], [0.1, 0.3, -0.4, 0.02, -0.05], [0.0, 0.0, 0.0, 0.0, 0.0]], dtype=torch.float64
    )
    logp = (old + offsets).requires_grad_()
    ref = (old - 0.3).requires_grad_()
    mask = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0], [0, 0, 0, 0, 0]])
    adv = d64([1.0, -0.7, 0.3])

    def f(lp, rf):
        return policy_loss(lp, old, adv, mask, 0.2, 0.28, loss_type, 7, beta, rf)[0]

    assert torch.autograd.gradcheck(f, (logp, ref))


# ---------------------------------------------------------------- policy_loss: bad input


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(old_logp=torch.zeros(2, 4)), r"old_logp .*\(2, 3\).*\(2, 4\)"),
        (dict(mask=torch.ones(3, 3)), r"mask .*\(2, 3\).*\(3, 3\)"),
        (dict(mask=torch.full((2, 3), 0.5)), "only 0 and 1"),
        (dict(advantages=torch.zeros(3)), r"advantages .*\(2, 3\).*\(3,\)"),
        (dict(advantages=torch.zeros(2, 1)), r"advantages must be 1-D"),
        (dict(logp=torch.zeros(6)), r"logp must be 2-D, got shape \(6,\)"),
        (dict(loss_type="sum"), "loss_type must be one of"),
        (dict(eps_low=1.0), "eps_low"),
        (dict(beta=0.1), "needs ref_logp"),
        (dict(beta=0.1, ref_logp=torch.zeros(2, 2)), r"ref_logp .*\(2, 3\).*\(2, 2\)"),
        (dict(max_completion_length=2), r"max_completion_length .*T=3"),
    ],
)
def test_policy_loss_rejects_bad_input(change, match):
    kwargs = dict(logp=torch.zeros(2, 3), old_logp=torch.zeros(2, 3), advantages=torch.zeros(2), mask=torch.ones(2, 3))
    kwargs.update(change)
    with pytest.raises(ValueError, match=match):
        policy_loss(**kwargs)


# ---------------------------------------------------------------- helpers


def test_masked_mean_matches_numpy_and_ignores_padding():
    x = d64([[1.0, 2.0, float("nan")], [4.0, float("inf"), 6.0], [7.0, 8.0, 9.0]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 1], [0, 0, 0]])
    xn, mn = np.nan_to_num(x.numpy()), mask.numpy()
    assert masked_mean(x, mask).item() == pytest.approx((xn * mn).sum() / mn.sum())
    assert masked_mean(x, mask, dim=1).tolist() == pytest.approx([1.5, 5.0, 0.0])
    assert masked_mean(x, mask, dim=0).tolist() == pytest.approx([2.5, 2.0, 6.0])
    assert masked_mean(x, torch.zeros(3, 3)).item() == 0.0
    with pytest.raises(ValueError, match="only 0 and 1"):
        masked_mean(x, mask * 2)
    with pytest.raises(ValueError, match=r"\(3, 3\).*\(3,\)"):
        masked_mean(x, torch.ones(3))


def test_entropy_matches_numpy():
    logits = d64([[[0.0, 0.0, 0.0, 0.0], [2.0, -1.0, 0.5, 3.0]], [[10.0, 0.0, 0.0, 0.0], [1.0, 1.0, -50.0, 2.0]]])
    z = logits.numpy()
    p = np.exp(z - z.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    expected = -(p * np.log(p)).sum(-1)
    got = entropy_from_logits(logits)
    assert got.shape == (2, 2)
    assert got.numpy() == pytest.approx(expected, rel=1e-12)
    assert got[0, 0].item() == pytest.approx(math.log(4))


def test_entropy_with_masked_vocabulary_is_finite():
    logits = torch.tensor([[0.0, float("-inf"), 0.0], [5.0, float("-inf"), float("-inf")]], requires_grad=True)
    h = entropy_from_logits(logits)
    h.sum().backward()
    assert h.tolist() == pytest.approx([math.log(2), 0.0])
    assert torch.isfinite(logits.grad).all()


def test_entropy_rejects_bad_input():
    with pytest.raises(ValueError, match="floating point"):
        entropy_from_logits(torch.ones(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"shape \(2, 0\)"):
        entropy_from_logits(torch.ones(2, 0))


def test_mask_truncated_zeroes_whole_rows_and_keeps_dtype():
    mask = torch.tensor([[1, 1, 0], [1, 1, 1], [1, 0, 0]])
    out = mask_truncated(mask, torch.tensor([False, True, False]))
    assert out.tolist() == [[1, 1, 0], [0, 0, 0], [1, 0, 0]] and out.dtype == mask.dtype
    assert mask.tolist()[1] == [1, 1, 1]  # input untouched
    out_bool = mask_truncated(mask.bool(), torch.tensor([1, 0, 1]))
    assert out_bool.dtype == torch.bool and out_bool.tolist() == [[False] * 3, [True] * 3, [False] * 3]
    with pytest.raises(ValueError, match=r"one entry per row of mask \(3, 3\), got shape \(2,\)"):
        mask_truncated(mask, torch.tensor([True, False]))
    with pytest.raises(ValueError, match="only 0 and 1"):
        mask_truncated(mask, torch.tensor([0, 2, 1]))


def test_masked_truncated_sample_gets_no_gradient():
    logp = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    mask = mask_truncated(torch.ones(2, 3), torch.tensor([True, False]))
    policy_loss(logp, logp.detach(), d64([1.0, 1.0]), mask, loss_type="dapo")[0].backward()
    assert logp.grad[0].tolist() == [0.0, 0.0, 0.0] and (logp.grad[1] != 0).all()


# ---------------------------------------------------------------- presets


def test_presets_carry_the_published_settings():
    grpo, plus, dapo, dr = (preset(n) for n in ("grpo", "grpo_plus", "dapo", "dr_grpo"))
    # DeepSeekMath, arXiv:2402.03300
    assert (grpo.beta, grpo.eps_low, grpo.eps_high, grpo.loss_type, grpo.scale, grpo.group_size) == (
        0.04, 0.2, 0.2, "grpo", "group", 64,
    )
    # DeepCoder GRPO+: no entropy, no KL, overlong filtering, clip-high, 8 samples, temperature 0.6
    assert (plus.entropy_coef, plus.beta, plus.mask_truncated) == (0.0, 0.0, True)
    assert (plus.eps_low, plus.eps_high) == (0.2, 0.28)
    assert (plus.group_size, plus.temperature, plus.dynamic_sampling) == (8, 0.6, False)
    # DAPO, arXiv:2503.14476
    assert (dapo.eps_low, dapo.eps_high, dapo.loss_type, dapo.dynamic_sampling, dapo.mask_truncated, dapo.beta) == (
        0.2, 0.28, "dapo", True, True, 0.0,
    )
    # Dr. GRPO, arXiv:2503.20783
    assert (dr.scale, dr.loss_type) == ("none", "dr_grpo")
    for name, cfg in PRESETS.items():
        assert cfg.entropy_coef == 0.0, name
        assert "arXiv" in cfg.source or "DeepCoder" in cfg.source, name


def test_preset_unknown_name_lists_known_ones():
    with pytest.raises(ValueError, match="known presets: \\['dapo', 'dr_grpo', 'grpo', 'grpo_plus'\\]"):
        preset("GRPO+")


def test_config_is_frozen_and_validated():
    with pytest.raises(dataclasses.FrozenInstanceError):
        preset("grpo").beta = 0.0  # type: ignore[misc]
    changed = dataclasses.replace(preset("grpo"), beta=0.0)
    assert changed.beta == 0.0 and preset("grpo").beta == 0.04
    with pytest.raises(ValueError, match="loss_type"):
        dataclasses.replace(preset("grpo"), loss_type="token")
    with pytest.raises(ValueError, match="scale"):
        dataclasses.replace(preset("grpo"), scale="std")
    with pytest.raises(ValueError, match="eps_low"):
        dataclasses.replace(preset("grpo"), eps_low=1.5)
    assert isinstance(preset("dapo"), GRPOConfig)


def test_preset_drives_the_loss_functions():
    cfg = preset("dr_grpo")
    adv = group_advantages(torch.tensor([1.0, 0.0, 0.0, 0.0]), group_size=4, scale=cfg.scale)
    assert adv.tolist() == pytest.approx([0.75, -0.25, -0.25, -0.25])
    zeros = torch.zeros(4, 2)
    loss, _ = policy_loss(zeros, zeros, adv, torch.ones(4, 2), cfg.eps_low, cfg.eps_high, cfg.loss_type)
    assert loss.item() == pytest.approx(0.0, abs=1e-7)


def test_bad_numbers_get_errors_that_name_them():
    logp, mask = torch.zeros(2, 3), torch.ones(2, 3)
    with pytest.raises(ValueError, match="advantages must be finite"):  # one nan made the loss nan
        policy_loss(logp, logp, torch.tensor([math.nan, 0.0]), mask)
    with pytest.raises(TypeError, match="eps_low must be a number"):
        policy_loss(logp, logp, torch.tensor([1.0, 0.0]), mask, eps_low=None)
    with pytest.raises(TypeError, match="eps must be a number"):
        group_advantages(torch.tensor([1.0, 0.0]), 2, eps="1e-4")
    for dim in (2, -3, "1", 1.0):
        with pytest.raises(ValueError, match=r"dim must be None or an int in \[-2, 1\]"):
            masked_mean(logp, mask, dim=dim)
    with pytest.raises(TypeError, match="mask_truncated must be True or False"):
        dataclasses.replace(PRESETS["grpo_plus"], mask_truncated="no")  # a truthy str switched it on
    with pytest.raises(TypeError, match="eps_high must be a number"):
        dataclasses.replace(PRESETS["grpo_plus"], eps_high="0.28")
    with pytest.raises(ValueError, match="unknown preset"):
        preset(["grpo"])
