"""Exercises of notebook 04_training_a_code_policy: three pieces of the GRPO+ training loop.

04.1 the masked per-token log-probs of sampled programs (what ``Policy.log_probs`` and the mask give)
04.2 the loss of one GRPO+ update on a batch, with the package's functions (what ``train.grpo_update``
     computes for one minibatch)
04.3 temperature sampling from a seeded ``torch.Generator`` (what ``Policy.sample`` does per step),
     with temperature 0 defined as greedy decoding (argmax)

Each reference is tested against an independent computation in tests/test_exercises_04.py. Hidden
cases are random tensors drawn from a ``torch.Generator`` seeded from the ``random.Random`` the
grader passes in, plus edge cases: rows with no active token, groups whose rewards are all equal,
truncated samples, temperature 0 and ties.
"""

from __future__ import annotations

import random

import torch
from torch import Tensor
from torch.nn import functional as F

from coderl_lessons import grpo
from coderl_lessons.exercise import Case, Exercise, register

NOTEBOOK = "04_training_a_code_policy"


# --------------------------------------------------------------------------------------------
# Reference implementations
# --------------------------------------------------------------------------------------------


def masked_token_logprobs(logits: Tensor, tokens: Tensor, mask: Tensor) -> Tensor:
    """``log softmax(logits)[b, t, tokens[b, t]]`` for every position, and exactly 0 where ``mask``
    is False. ``logits`` is (B, T, V), ``tokens`` (B, T) long, ``mask`` (B, T) bool; returns (B, T)."""
    logp = F.log_softmax(logits, dim=-1).gather(-1, tokens.long().unsqueeze(-1)).squeeze(-1)
    return torch.where(mask.bool(), logp, torch.zeros_like(logp))


def grpo_plus_loss(logp: Tensor, old_logp: Tensor, rewards: Tensor, mask: Tensor, truncated: Tensor,
                   group_size: int) -> float:
    """The GRPO+ loss of one batch, as ``train.grpo_update`` computes it for one minibatch.

    Group advantages (sample std of each group, eps 1e-4, all-equal groups 0), the loss mask with
    truncated samples dropped (overlong filtering), then the clipped surrogate with clip-high
    (0.2 / 0.28) averaged over all active tokens of the batch (token-level, ``loss_type="dapo"``),
    no KL and no entropy term: every setting read from ``grpo.preset("grpo_plus")``.
    """
    cfg = grpo.preset("grpo_plus")
    advantages = grpo.group_advantages(rewards, group_size, scale=cfg.scale)
    if cfg.mask_truncated:
        mask = grpo.mask_truncated(mask.bool(), truncated.bool())
    loss, _ = grpo.policy_loss(logp, old_logp, advantages, mask, eps_low=cfg.eps_low, eps_high=cfg.eps_high,
                               loss_type=cfg.loss_type, beta=cfg.beta)
    return float(loss)


def sample_with_temperature(logits: Tensor, temperature: float, seed: int) -> Tensor:
    """One id per row of ``logits`` (B, V), as a (B,) long tensor.

    temperature > 0: ``torch.multinomial(torch.softmax(logits / temperature, dim=-1), 1,
    generator=torch.Generator().manual_seed(seed))[:, 0]``, a single call on the whole batch.
    temperature == 0: greedy decoding, ``logits.argmax(dim=-1)`` (the first maximum on ties), the
    limit of the softmax as the temperature goes to 0; no random number is drawn.
    """
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return logits.argmax(dim=-1)
    generator = torch.Generator().manual_seed(seed)
    probs = torch.softmax(logits / temperature, dim=-1)
    return torch.multinomial(probs, 1, generator=generator)[:, 0]


# --------------------------------------------------------------------------------------------
# Hidden cases
# --------------------------------------------------------------------------------------------


def _gen(rng: random.Random) -> torch.Generator:
    return torch.Generator().manual_seed(rng.randrange(2**31))


def _prefix_mask(g: torch.Generator, batch: int, length: int, lengths: list[int] | None = None) -> Tensor:
    """A (B, T) mask of the tokens a policy wrote: each row a prefix of random length (0 allowed)."""
    if lengths is None:
        lengths = torch.randint(1, length + 1, (batch,), generator=g).tolist()
    return torch.arange(length)[None, :] < torch.tensor(lengths)[:, None]


def _hidden_logprobs(rng: random.Random) -> list[Case]:
    g = _gen(rng)
    cases = []
    for i in range(10):
        batch, length, vocab = rng.randint(1, 5), rng.randint(1, 7), rng.randint(2, 12)
        logits = torch.randn(batch, length, vocab, generator=g) * rng.uniform(0.5, 4.0)
        tokens = torch.randint(0, vocab, (batch, length), generator=g)
        lengths = torch.randint(0 if i % 3 == 0 else 1, length + 1, (batch,), generator=g).tolist()
        mask = _prefix_mask(g, batch, length, lengths)
        tokens = torch.where(mask, tokens, torch.zeros_like(tokens))  # padding id 0, as the policy writes
        cases.append(Case((logits, tokens, mask)))
    logits = torch.randn(3, 4, 6, generator=g)
    cases.append(Case((logits, torch.randint(0, 6, (3, 4), generator=g), torch.zeros(3, 4, dtype=torch.bool)),
                      label="every row masked"))
    logits = torch.randn(2, 5, 8, generator=g) * 3
    mask = _prefix_mask(g, 2, 5, [5, 0])
    cases.append(Case((logits, torch.randint(0, 8, (2, 5), generator=g), mask), label="one row masked entirely"))
    big = torch.randn(2, 3, 5, generator=g) * 200  # softmax of large logits: needs log_softmax, not log(softmax)
    cases.append(Case((big, torch.randint(0, 5, (2, 3), generator=g), torch.ones(2, 3, dtype=torch.bool)),
                      label="large logits"))
    return cases


def _hidden_loss(rng: random.Random) -> list[Case]:
    g = _gen(rng)
    cases = []
    for i in range(10):
        size, groups, length = rng.randint(2, 6), rng.randint(1, 4), rng.randint(2, 8)
        batch = size * groups
        old = -torch.rand(batch, length, generator=g) * 3
        logp = old + torch.randn(batch, length, generator=g) * rng.choice((0.05, 0.2, 0.5))
        if i % 2:
            rewards = (torch.rand(batch, generator=g) < rng.uniform(0.2, 0.8)).float()
        else:
            rewards = (torch.rand(batch, generator=g) * 10).round() / 10
        mask = _prefix_mask(g, batch, length)
        truncated = mask.all(dim=1) & (torch.rand(batch, generator=g) < 0.7)  # only a full row can be truncated
        cases.append(Case((logp, old, rewards, mask, truncated, size)))
    # edge cases
    old = -torch.rand(8, 4, generator=g) * 2
    logp = old + torch.randn(8, 4, generator=g) * 0.3
    ones = torch.ones(8, 4, dtype=torch.bool)
    no_trunc = torch.zeros(8, dtype=torch.bool)
    cases.append(Case((logp, old, torch.tensor([1.0, 1, 1, 1, 0, 1, 0, 0]), ones, no_trunc, 4),
                      label="one group all-equal (zero advantage), one mixed"))
    cases.append(Case((logp, old, torch.tensor([1.0, 0, 1, 0, 1, 1, 0, 0]), ones,
                       torch.tensor([True, False, False, True, False, False, True, False]), 4),
                      label="truncated samples, whose loss is masked"))
    cases.append(Case((logp, old, torch.tensor([1.0, 0, 1, 0, 1, 1, 0, 0]), ones, torch.ones(8, dtype=torch.bool), 4),
                      label="every sample truncated: loss 0"))
    cases.append(Case((logp, old, torch.full((8,), 0.7), ones, no_trunc, 2), label="every group all-equal: loss 0"))
    big = old.clone()
    big[:, :2] += 0.6  # ratio exp(0.6) = 1.82: clipped at 1.28 for A > 0
    big[:, 2:] -= 0.6  # ratio 0.55: clipped at 0.8 for A < 0
    cases.append(Case((big, old, torch.tensor([1.0, 0, 0, 0, 1, 1, 1, 0]), ones, no_trunc, 4),
                      label="ratios far outside the clip range"))
    return cases


def _hidden_sampling(rng: random.Random) -> list[Case]:
    g = _gen(rng)
    cases = []
    for i in range(10):
        batch, vocab = rng.randint(1, 16), rng.randint(2, 30)
        logits = torch.randn(batch, vocab, generator=g) * rng.uniform(0.5, 3.0)
        temperature = rng.choice((0.25, 0.6, 1.0, 1.5, 3.0))
        cases.append(Case((logits, temperature, rng.randrange(2**31))))
    logits = torch.randn(6, 9, generator=g)
    cases.append(Case((logits, 0.0, rng.randrange(2**31)), label="temperature 0: greedy"))
    tied = torch.tensor([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0]])
    cases.append(Case((tied, 0.0, rng.randrange(2**31)), label="temperature 0 with ties: the first maximum"))
    masked = torch.randn(4, 7, generator=g)
    masked[:, ::2] = float("-inf")
    cases.append(Case((masked, 0.6, rng.randrange(2**31)), label="logits -inf (forbidden ids) are never drawn"))
    cases.append(Case((torch.randn(64, 5, generator=g), 1.0, rng.randrange(2**31)), label="a batch of 64"))
    return cases


# --------------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------------

_LOGITS = torch.tensor([[[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [9.0, 9.0, 9.0]],
                        [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]])
_TOKENS = torch.tensor([[0, 1, 0], [2, 0, 0]])
_MASK = torch.tensor([[True, True, False], [True, False, False]])

register(Exercise(
    id="04.1",
    title="masked per-token log-probs of sampled programs",
    notebook=NOTEBOOK,
    entry_point="masked_token_logprobs",
    signature="masked_token_logprobs(logits: Tensor (B, T, V), tokens: LongTensor (B, T), mask: BoolTensor (B, T)) -> Tensor (B, T)",
    reference=masked_token_logprobs,
    atol=1e-5,
    visible=(
        Case((_LOGITS, _TOKENS, _MASK), label="two programs of 2 and 1 tokens, padded to 3",
             hint="Row 0, t=0: log softmax([2, 0, 0])[0] = 2 - log(e^2 + 2) = -0.2395; t=1: log softmax([0, 1, 0])[1] "
                  "= -0.5514. Row 1, t=0: log(1/3) = -1.0986. Every masked position must be exactly 0."),
        Case((_LOGITS[:, :1], _TOKENS[:, :1], torch.ones(2, 1, dtype=torch.bool)), label="first token only",
             hint="Gather the log-prob of the token that was sampled (tokens[b, t]) from log_softmax over the last "
                  "(vocabulary) dimension, not the log-prob of the largest logit."),
    ),
    hidden=_hidden_logprobs,
    points=2,
))

_L_OLD = torch.log(torch.tensor([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]))
_L_NEW = torch.log(torch.tensor([[0.8, 0.6, 0.5], [0.4, 0.5, 0.5], [0.5, 0.7, 0.5], [0.3, 0.5, 0.5]]))
_L_MASK = torch.tensor([[True, True, False], [True, True, True], [True, True, True], [True, True, False]])

register(Exercise(
    id="04.2",
    title="the loss of one GRPO+ update step",
    notebook=NOTEBOOK,
    entry_point="grpo_plus_loss",
    signature="grpo_plus_loss(logp, old_logp, rewards, mask, truncated, group_size) -> float",
    reference=grpo_plus_loss,
    atol=1e-6,
    visible=(
        Case((_L_NEW, _L_OLD, torch.tensor([1.0, 0.0, 1.0, 0.0]), _L_MASK, torch.zeros(4, dtype=torch.bool), 2),
             label="two groups of 2, rewards [1, 0 | 1, 0], nothing truncated",
             hint="Advantages +-0.5/(0.7071 + 1e-4) = +-0.7070 per group (sample std). The ratio 0.8/0.5 = 1.6 is clipped "
                  "at 1 + 0.28 (clip-high), not 1.2. The loss is the sum over the 10 active tokens / 10 (token-level)."),
        Case((_L_NEW, _L_OLD, torch.tensor([1.0, 0.0, 1.0, 0.0]), _L_MASK, torch.tensor([False, True, False, False]), 2),
             label="the same batch, sample 1 truncated",
             hint="Overlong filtering: a truncated sample's tokens leave the loss entirely (grpo.mask_truncated), "
                  "and the token count you divide by is 7, not 10. Its reward still counts in its group's advantage."),
        Case((_L_NEW, _L_OLD, torch.tensor([1.0, 1.0, 0.0, 0.0]), _L_MASK, torch.zeros(4, dtype=torch.bool), 2),
             label="two all-equal groups",
             hint="A group whose rewards are all equal has advantage 0 for every sample: the loss is 0."),
    ),
    hidden=_hidden_loss,
    points=2,
))

_S_LOGITS = torch.tensor([[0.0, 1.0, 2.0, 0.5], [3.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])

register(Exercise(
    id="04.3",
    title="temperature sampling from a seeded generator",
    notebook=NOTEBOOK,
    entry_point="sample_with_temperature",
    signature="sample_with_temperature(logits: Tensor (B, V), temperature: float, seed: int) -> LongTensor (B,)",
    reference=sample_with_temperature,
    visible=(
        Case((_S_LOGITS, 1.0, 0), label="temperature 1, seed 0",
             hint="Make one torch.Generator().manual_seed(seed) and one call torch.multinomial(probs, 1, generator=g) "
                  "on the whole batch, probs = torch.softmax(logits / temperature, dim=-1); return its column 0, "
                  "shape (B,)."),
        Case((_S_LOGITS, 0.6, 1), label="temperature 0.6, seed 1",
             hint="Divide the logits by the temperature before the softmax (0.6 sharpens the distribution)."),
        Case((_S_LOGITS, 0.0, 0), label="temperature 0",
             hint="Temperature 0 is greedy decoding: logits.argmax(dim=-1), the first maximum on ties (row 2 -> 0). "
                  "Dividing by 0 gives nan."),
    ),
    hidden=_hidden_sampling,
    points=2,
    own_generator=True,
))
