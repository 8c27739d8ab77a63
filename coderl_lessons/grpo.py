"""GRPO and its variants (GRPO+, DAPO, Dr. GRPO) as pure tensor functions.

One training step of GRPO, in the order this module follows:

1. Sample G completions per prompt and score them (`coderl_lessons.rewards`).
2. `group_advantages`: each completion's reward minus its group's mean, optionally divided by a
   std (DeepSeekMath, arXiv:2402.03300, section 4.1.2, "outcome supervision").
3. `policy_loss`: the PPO clipped surrogate per token, with asymmetric clip bounds (DAPO's
   clip-higher), an optional k3 KL penalty to a reference policy (`k3_kl`), and one of four ways
   to average tokens into a loss (TRL's `loss_type`).
4. `mask_truncated`: drop the loss of completions cut off at the length limit (overlong
   filtering, DAPO and DeepCoder's GRPO+).

Shapes: B completions, T completion tokens. `logp`, `old_logp`, `ref_logp` and `mask` are (B, T)
per-token log-probabilities of the sampled tokens and a 0/1 mask of real (non-padding) tokens;
`advantages` is (B,), one scalar per completion, shared by all its tokens.

`PRESETS` names the settings of each published variant with its source.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "group_advantages",
    "k3_kl",
    "policy_loss",
    "entropy_from_logits",
    "masked_mean",
    "mask_truncated",
    "GRPOConfig",
    "PRESETS",
    "preset",
    "LOSS_TYPES",
    "SCALES",
]

LOSS_TYPES = ("grpo", "bnpo", "dapo", "dr_grpo")
SCALES = ("group", "batch", "none")


# --------------------------------------------------------------------------------------------
# Input checks (every public function rejects bad input with the shapes it got)
# --------------------------------------------------------------------------------------------


def _check_tensor(x: object, name: str, ndim: int | None = None) -> Tensor:
    if not isinstance(x, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if ndim is not None and x.dim() != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {tuple(x.shape)}")
    return x


def _check_real(value: object, name: str) -> None:
    """A TypeError unless ``value`` is a real number (a bool, a str from a config file or None is not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")


def _check_same_shape(x: Tensor, name: str, like: Tensor, like_name: str) -> None:
    if x.shape != like.shape:
        raise ValueError(
            f"{name} must have the shape of {like_name} {tuple(like.shape)}, got {tuple(x.shape)}"
        )


def _check_mask(mask: object, like: Tensor, like_name: str) -> Tensor:
    """Return `mask` as a bool tensor after checking its shape and that it holds only 0 and 1."""
    mask = _check_tensor(mask, "mask")
    _check_same_shape(mask, "mask", like, like_name)
    if mask.dtype != torch.bool:
        if not ((mask == 0) | (mask == 1)).all():
            bad = mask[(mask != 0) & (mask != 1)]
            raise ValueError(f"mask must hold only 0 and 1, found {bad[:5].tolist()}")
        mask = mask != 0
    return mask


# --------------------------------------------------------------------------------------------
# Groups that carry no signal, and what dynamic sampling (DAPO) pays to skip them
# --------------------------------------------------------------------------------------------


def _check_p_g(p: float, group_size: int) -> tuple[float, int]:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1], got {p!r}")
    if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
        raise ValueError(f"G must be a positive int, got {group_size!r}")
    return float(p), group_size


def zero_signal_fraction(p: float, G: int) -> float:
    """P(a group of G i.i.d. Bernoulli(p) rewards is all equal) = p^G + (1-p)^G.

    All correct (p^G) or all wrong ((1-p)^G): either way every reward equals the group mean, every
    advantage is 0 and the group gives the policy no gradient. A group of one is always all-equal.
    """
    p, G = _check_p_g(p, G)
    if G == 1:
        return 1.0
    return p**G + (1.0 - p) ** G


def groups_per_kept_group(p: float, G: int) -> float:
    """Expected number of groups dynamic sampling draws for one kept (mixed-reward) group.

    Each group is kept with probability q = 1 - p^G - (1-p)^G, independently, so the number of
    draws until the first kept group is geometric with mean 1/q. When q = 0 (p = 0, p = 1 or
    G = 1) no group is ever kept: math.inf.
    """
    p, G = _check_p_g(p, G)
    if G == 1 or p == 0.0 or p == 1.0:
        return math.inf
    # q = 1 - p^G - (1-p)^G, with 1 - (1-p)^G computed without cancellation for small p.
    q = -math.expm1(G * math.log1p(-p)) - p**G
    return 1.0 / q


# --------------------------------------------------------------------------------------------
# Advantages
# --------------------------------------------------------------------------------------------


def group_advantages(rewards: Tensor, group_size: int, scale: str = "group", eps: float = 1e-4) -> Tensor:
    """Group-relative advantages of a flat batch of rewards, groups laid end to end.

    A_i = (R_i - mean(group)) / (std + eps)   (DeepSeekMath, arXiv:2402.03300, section 4.1.2)

    * scale="group": std of the group, sample (Bessel) std as TRL and verl use; the paper does not
      say which. Rewards [1, 0] give +-0.5 / (0.70711 + 1e-4) = +-0.707007 (TRL's eps 1e-4).
    * scale="batch": std of all rewards in the batch (TRL's scale_rewards="batch").
    * scale="none": no division (Dr. GRPO, arXiv:2503.20783): the group std weights questions by
      difficulty, so it is removed.

    Two safe conventions, so that no advantage is ever nan or spurious:
    * A group whose rewards are all equal gets exactly 0. It carries no learning signal (this is
      what DAPO's dynamic sampling filters out), but its float mean can differ from the rewards
      by one ulp (seven rewards of 0.7 in float32 leave 6e-8), which eps = 1e-4 would blow up to
      a spurious advantage of about 6e-4.
    * A group of one therefore gets advantage 0, its std (nan with Bessel's correction) counts
      as 0. That is this package's convention: TRL refuses groups of one (it raises ValueError
      when num_generations < 2); verl uses mean 0 and std 1, i.e. A = R / (1 + eps), a plain
      REINFORCE step with no baseline.
    """
    rewards = _check_tensor(rewards, "rewards", ndim=1)
    if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
        raise ValueError(f"group_size must be a positive int, got {group_size!r}")
    if rewards.numel() % group_size != 0:
        raise ValueError(
            f"rewards length {rewards.numel()} (shape {tuple(rewards.shape)}) is not a multiple of "
            f"group_size {group_size}"
        )
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    _check_real(eps, "eps")
    if scale != "none" and not eps > 0:
        raise ValueError(f"eps must be > 0 when dividing by a std (scale={scale!r}), got {eps!r}")
    if not rewards.is_floating_point():
        rewards = rewards.to(torch.get_default_dtype())
    if not torch.isfinite(rewards).all():
        raise ValueError(f"rewards must be finite, got {rewards[~torch.isfinite(rewards)][:5].tolist()}")

    grouped = rewards.view(-1, group_size)
    centred = grouped - grouped.mean(dim=1, keepdim=True)
    all_equal = (grouped == grouped[:, :1]).all(dim=1, keepdim=True)
    centred = torch.where(all_equal, torch.zeros_like(centred), centred)
    if scale == "none":
        return centred.reshape(-1)

    if scale == "group":
        std = grouped.std(dim=1, keepdim=True) if group_size > 1 else torch.zeros_like(grouped)
    else:  # "batch"
        std = rewards.std() if rewards.numel() > 1 else rewards.new_zeros(())
    return (centred / (std + eps)).reshape(-1)


# --------------------------------------------------------------------------------------------
# Per-token pieces
# --------------------------------------------------------------------------------------------


def k3_kl(logp: Tensor, ref_logp: Tensor) -> Tensor:
    """Per-token k3 estimate of KL(pi_theta || pi_ref) from the sampled tokens' log-probs.

    k3 = pi_ref/pi_theta - log(pi_ref/pi_theta) - 1 = exp(d) - d - 1 with d = ref_logp - logp
    (DeepSeekMath, arXiv:2402.03300, eq. 4; J. Schulman, "Approximating KL Divergence", 2020).
    Unbiased for samples from pi_theta and never negative. We compute it as expm1(d) - d: the same
    number, but expm1(d) rounds to a float >= d, so the result stays >= 0 in floating point too
    (exp(d) - d - 1 can come out at -6e-8 in float32 for small d).
    """
    logp = _check_tensor(logp, "logp")
    ref_logp = _check_tensor(ref_logp, "ref_logp")
    _check_same_shape(ref_logp, "ref_logp", logp, "logp")
    d = ref_logp - logp
    return torch.expm1(d) - d


def entropy_from_logits(logits: Tensor) -> Tensor:
    """Entropy of the softmax over the last dimension, per position: shape logits.shape[:-1].

    H = -sum_v p_v log p_v, computed from log_softmax for stability. Vocabulary entries with
    logit -inf (masked out) have p = 0 and contribute 0, not nan.
    """
    logits = _check_tensor(logits, "logits")
    if logits.dim() < 1 or logits.shape[-1] < 1:
        raise ValueError(f"logits must have a non-empty last (vocabulary) dimension, got shape {tuple(logits.shape)}")
    if not logits.is_floating_point():
        raise ValueError(f"logits must be floating point, got dtype {logits.dtype}")
    logp = torch.log_softmax(logits, dim=-1)
    p = logp.exp()
    return -(p * torch.where(p > 0, logp, torch.zeros_like(logp))).sum(dim=-1)


def masked_mean(x: Tensor, mask: Tensor, dim: int | None = None) -> Tensor:
    """Mean of `x` over the entries where `mask` is 1, over `dim` (all entries if None).

    An empty selection gives 0, not nan (its numerator is 0 and its count is clamped to 1, as
    TRL does), so an all-padding row cannot poison a loss. Entries outside the mask are never
    read, so padding may hold inf or nan.
    """
    x = _check_tensor(x, "x")
    mask = _check_mask(mask, x, "x")
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int) or not -x.dim() <= dim < x.dim()):
        raise ValueError(f"dim must be None or an int in [{-x.dim()}, {x.dim() - 1}] for x of shape "
                         f"{tuple(x.shape)}, got {dim!r}")
    total = torch.where(mask, x, torch.zeros_like(x))
    count = mask.to(x.dtype if x.is_floating_point() else torch.float32)
    if dim is None:
        return total.sum() / count.sum().clamp(min=1.0)
    return total.sum(dim=dim) / count.sum(dim=dim).clamp(min=1.0)


def mask_truncated(mask: Tensor, truncated: Tensor) -> Tensor:
    """Overlong filtering: zero the whole loss mask of every truncated completion.

    A completion cut off at the length limit is scored as wrong although it may have been on the
    right track; training on it teaches "shorter" for the wrong reason. DAPO (arXiv:2503.14476)
    masks these samples' loss; DeepCoder's GRPO+ does the same (mask_truncated_samples=True).
    Returns a new mask of the same dtype; `truncated` is a (B,) bool (or 0/1) tensor.
    """
    mask = _check_tensor(mask, "mask", ndim=2)
    truncated = _check_tensor(truncated, "truncated", ndim=1)
    if truncated.shape[0] != mask.shape[0]:
        raise ValueError(
            f"truncated must have one entry per row of mask {tuple(mask.shape)}, got shape {tuple(truncated.shape)}"
        )
    _check_mask(mask, mask, "mask")
    keep = ~_check_mask(truncated, truncated, "truncated").unsqueeze(1)
    return mask & keep if mask.dtype == torch.bool else mask * keep.to(mask.dtype)


# --------------------------------------------------------------------------------------------
# The loss
# --------------------------------------------------------------------------------------------


def _aggregate(per_token: Tensor, active: Tensor, loss_type: str, max_completion_length: int) -> Tensor:
    """Average per-token losses into one number, the way `loss_type` says (see `policy_loss`)."""
    if loss_type == "grpo":  # (1/G) sum_i (1/|o_i|) sum_t  (DeepSeekMath eq. 3)
        return masked_mean(per_token, active, dim=1).mean()
    if loss_type in ("bnpo", "dapo"):  # (1/sum_i |o_i|) sum_i sum_t  (DAPO, token-level loss)
        return masked_mean(per_token, active)
    # "dr_grpo": (1/(G * L_max)) sum_i sum_t, a constant normaliser (Dr. GRPO)
    batch = per_token.shape[0]
    return torch.where(active, per_token, torch.zeros_like(per_token)).sum() / (batch * max_completion_length)


def policy_loss(
    logp: Tensor,
    old_logp: Tensor,
    advantages: Tensor,
    mask: Tensor,
    eps_low: float = 0.2,
    eps_high: float = 0.2,
    loss_type: str = "grpo",
    max_completion_length: int | None = None,
    beta: float = 0.0,
    ref_logp: Tensor | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """The GRPO clipped-surrogate loss and its diagnostics.

    Per token (DeepSeekMath, arXiv:2402.03300, eq. 3; written as a loss to minimise, as TRL does):

        r = pi_theta / pi_old = exp(logp - old_logp)
        l = -min(r * A, clip(r, 1 - eps_low, 1 + eps_high) * A) + beta * k3

    eps_high > eps_low is DAPO's clip-higher (arXiv:2503.14476: 0.2 / 0.28): it lets tokens with a
    positive advantage and a low probability grow further before the clip stops their gradient.

    Tokens are averaged into one loss as TRL's `loss_type`:
    * "grpo": mean over each completion's tokens, then over completions (the paper's 1/|o_i|).
      Long completions weigh less per token, which Dr. GRPO shows favours long wrong answers.
    * "bnpo", "dapo": sum over all tokens / number of tokens (DAPO's token-level loss). TRL's
      "dapo" counts the tokens of the global batch (all processes, all accumulation steps) and
      "bnpo" those of the local batch; on one batch they are the same number.
    * "dr_grpo": sum over all tokens / (B * max_completion_length), a constant (Dr. GRPO,
      arXiv:2503.20783); max_completion_length defaults to T.

    A row whose mask is empty contributes 0 (never nan). Returns (loss, diagnostics) where the
    diagnostics are floats over active tokens: clip_low_frac (r < 1 - eps_low with A < 0) and
    clip_high_frac (r > 1 + eps_high with A > 0), the tokens whose gradient the clip removes, as
    TRL counts them; clip_frac, their sum; mean_ratio; surrogate (the loss without the KL term);
    active_tokens; and kl (mean k3) when ref_logp is given.
    """
    logp = _check_tensor(logp, "logp", ndim=2)
    old_logp = _check_tensor(old_logp, "old_logp")
    _check_same_shape(old_logp, "old_logp", logp, "logp")
    active = _check_mask(mask, logp, "logp")
    advantages = _check_tensor(advantages, "advantages", ndim=1)
    batch, length = logp.shape
    if advantages.shape[0] != batch:
        raise ValueError(
            f"advantages must have one entry per completion: logp {tuple(logp.shape)}, advantages "
            f"{tuple(advantages.shape)}"
        )
    if batch == 0 or length == 0:
        raise ValueError(f"logp must have at least one completion and one token, got shape {tuple(logp.shape)}")
    if not torch.isfinite(advantages).all():  # one nan would make the whole loss nan
        raise ValueError(f"advantages must be finite, got {advantages[~torch.isfinite(advantages)][:5].tolist()}")
    if loss_type not in LOSS_TYPES:
        raise ValueError(f"loss_type must be one of {LOSS_TYPES}, got {loss_type!r}")
    for name, value in (("eps_low", eps_low), ("eps_high", eps_high), ("beta", beta)):
        _check_real(value, name)
    if not (0.0 <= eps_low < 1.0) or not (eps_high >= 0.0) or not math.isfinite(eps_high):
        raise ValueError(f"need 0 <= eps_low < 1 and finite eps_high >= 0, got eps_low={eps_low}, eps_high={eps_high}")
    if not (beta >= 0.0) or not math.isfinite(beta):
        raise ValueError(f"beta must be a finite number >= 0, got {beta}")
    if beta > 0 and ref_logp is None:
        raise ValueError(f"beta={beta} > 0 needs ref_logp (the reference policy's per-token log-probs)")
    if ref_logp is not None:
        ref_logp = _check_tensor(ref_logp, "ref_logp")
        _check_same_shape(ref_logp, "ref_logp", logp, "logp")
    if max_completion_length is None:
        max_completion_length = length
    elif (
        isinstance(max_completion_length, bool)
        or not isinstance(max_completion_length, int)
        or max_completion_length < length
    ):
        raise ValueError(
            f"max_completion_length must be an int >= the completion length T={length} of logp "
            f"{tuple(logp.shape)}, got {max_completion_length!r}"
        )

    zero = torch.zeros_like(logp)
    # Padding positions are replaced before exp, so that a -inf or nan there can reach neither the
    # loss nor the gradient.
    log_ratio = torch.where(active, logp - old_logp, zero)
    ratio = torch.exp(log_ratio)
    adv = advantages.to(logp.dtype).unsqueeze(1)
    unclipped = ratio * adv
    clipped = torch.clamp(ratio, 1.0 - eps_low, 1.0 + eps_high) * adv
    per_token = -torch.minimum(unclipped, clipped)  # PPO clip (Schulman et al. 2017, eq. 7)
    surrogate_per_token = per_token
    if ref_logp is not None:
        kl = k3_kl(torch.where(active, logp, zero), torch.where(active, ref_logp, zero))
        if beta > 0:
            per_token = per_token + beta * kl  # KL in the loss, not the reward (DeepSeekMath 4.1.1)

    loss = _aggregate(per_token, active, loss_type, max_completion_length)

    with torch.no_grad():
        low = (ratio < 1.0 - eps_low) & (adv < 0)
        high = (ratio > 1.0 + eps_high) & (adv > 0)
        diagnostics = {
            "clip_low_frac": masked_mean(low.to(logp.dtype), active).item(),
            "clip_high_frac": masked_mean(high.to(logp.dtype), active).item(),
            "clip_frac": masked_mean((low | high).to(logp.dtype), active).item(),
            "mean_ratio": masked_mean(ratio, active).item(),
            "surrogate": _aggregate(surrogate_per_token, active, loss_type, max_completion_length).item(),
            "active_tokens": float(active.sum().item()),
        }
        if ref_logp is not None:
            diagnostics["kl"] = masked_mean(kl, active).item()
    return loss, diagnostics


# --------------------------------------------------------------------------------------------
# Named presets
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GRPOConfig:
    """The knobs that tell GRPO and its published variants apart, with the source of each preset.

    `group_size` and `temperature` are None where the source does not give them.
    `entropy_coef` is the weight of an entropy bonus (loss -= entropy_coef * mean entropy); every
    preset sets 0: none of these methods uses one, whatever the survey README says about GRPO+.
    """

    eps_low: float
    eps_high: float
    beta: float
    entropy_coef: float
    loss_type: str
    scale: str
    mask_truncated: bool
    dynamic_sampling: bool
    group_size: int | None
    temperature: float | None
    source: str

    def __post_init__(self) -> None:
        for name in ("eps_low", "eps_high", "beta", "entropy_coef"):
            _check_real(getattr(self, name), name)
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite, got {getattr(self, name)!r}")
        for name in ("mask_truncated", "dynamic_sampling"):  # 'no' would be truthy: switched on
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.group_size is not None and (isinstance(self.group_size, bool) or not isinstance(self.group_size, int)):
            raise TypeError(f"group_size must be an int or None, got {self.group_size!r}")
        if self.temperature is not None:
            _check_real(self.temperature, "temperature")
            if not self.temperature > 0:
                raise ValueError(f"temperature must be > 0 or None, got {self.temperature!r}")
        if self.loss_type not in LOSS_TYPES:
            raise ValueError(f"loss_type must be one of {LOSS_TYPES}, got {self.loss_type!r}")
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {self.scale!r}")
        if not (0.0 <= self.eps_low < 1.0 and self.eps_high >= 0.0 and self.beta >= 0.0 and self.entropy_coef >= 0.0):
            raise ValueError(
                f"need 0 <= eps_low < 1, eps_high >= 0, beta >= 0, entropy_coef >= 0; got eps_low={self.eps_low}, "
                f"eps_high={self.eps_high}, beta={self.beta}, entropy_coef={self.entropy_coef}"
            )
        if self.group_size is not None and self.group_size < 1:
            raise ValueError(f"group_size must be >= 1 or None, got {self.group_size}")


PRESETS: dict[str, GRPOConfig] = {
    "grpo": GRPOConfig(
        eps_low=0.2,
        eps_high=0.2,
        beta=0.04,
        entropy_coef=0.0,
        loss_type="grpo",
        scale="group",
        mask_truncated=False,
        dynamic_sampling=False,
        group_size=64,
        temperature=None,
        source="DeepSeekMath (Shao et al. 2024, arXiv:2402.03300), sections 4.1-4.2: KL coefficient 0.04, "
        "64 samples per question, per-sequence mean, std-normalised group advantage. The clip eps is "
        "not stated there; 0.2 is PPO's and TRL's default.",
    ),
    "grpo_plus": GRPOConfig(
        eps_low=0.2,
        eps_high=0.28,
        beta=0.0,
        entropy_coef=0.0,
        loss_type="dapo",
        scale="group",
        mask_truncated=True,
        dynamic_sampling=False,
        group_size=8,
        temperature=0.6,
        source="GRPO+ of DeepCoder-14B-Preview (Agentica, April 2025) and rllm's training script "
        "scripts/deepcoder/train/deepcoder_14b_coding_16k.sh: entropy_coeff=0, use_kl_loss=False, "
        "clip_ratio_low=0.2, clip_ratio_high=0.28, mask_truncated_samples=True, n=8, temperature=0.6, "
        "adv_estimator=grpo (std-normalised). The script sets no loss aggregation; the verl it ran on "
        "(early 2025) averaged the clipped loss over all response tokens of a batch "
        "(masked_mean(pg_losses, eos_mask)), i.e. token-level, hence loss_type='dapo'.",
    ),
    "dapo": GRPOConfig(
        eps_low=0.2,
        eps_high=0.28,
        beta=0.0,
        entropy_coef=0.0,
        loss_type="dapo",
        scale="group",
        mask_truncated=True,
        dynamic_sampling=True,
        group_size=16,
        temperature=None,
        source="DAPO (Yu et al. 2025, arXiv:2503.14476): clip-higher 0.2/0.28, dynamic sampling, token-level "
        "loss, overlong filtering (plus soft overlong punishment in the reward), no KL term; 16 responses "
        "per prompt (section 4.1).",
    ),
    "dr_grpo": GRPOConfig(
        eps_low=0.2,
        eps_high=0.2,
        beta=0.0,
        entropy_coef=0.0,
        loss_type="dr_grpo",
        scale="none",
        mask_truncated=False,
        dynamic_sampling=False,
        group_size=None,
        temperature=None,
        source="Dr. GRPO (Liu et al. 2025, 'Understanding R1-Zero-Like Training', arXiv:2503.20783): no std "
        "division of the advantage, loss normalised by a constant instead of 1/|o_i|. The other fields "
        "are TRL's GRPO defaults (eps 0.2, beta 0).",
    ),
}


def preset(name: str) -> GRPOConfig:
    """The named preset; see `PRESETS` for each one's source."""
    if not isinstance(name, str) or name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known presets: {sorted(PRESETS)}")
    return PRESETS[name]
