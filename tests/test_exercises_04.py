"""Exercises 04 (training a code policy): each reference against an independent plain-Python
computation, and typical wrong answers that must not pass."""

from __future__ import annotations

import math
import statistics

import pytest
import torch

from coderl_lessons import grpo
from coderl_lessons.exercise import exercises_for_notebook, get_exercise
from coderl_lessons.exercises.ex04_training import grpo_plus_loss, masked_token_logprobs, sample_with_temperature
from coderl_lessons.grading import check
from coderl_lessons.policy import Policy, Tokenizer
from coderl_lessons.tasks import make_tasks


# ---------------------------------------------------------------- independent computations


def plain_logprobs(logits, tokens, mask):
    out = []
    for b, rows in enumerate(logits.tolist()):
        line = []
        for t, row in enumerate(rows):
            if not mask[b][t]:
                line.append(0.0)
                continue
            top = max(row)
            log_z = top + math.log(sum(math.exp(v - top) for v in row))
            line.append(row[int(tokens[b][t])] - log_z)
        out.append(line)
    return out


def plain_grpo_plus_loss(logp, old, rewards, mask, truncated, g, eps_low=0.2, eps_high=0.28):
    rewards = rewards.tolist()
    adv = []
    for start in range(0, len(rewards), g):
        group = rewards[start:start + g]
        if len(set(group)) == 1:
            adv += [0.0] * g
        else:
            adv += [(r - statistics.fmean(group)) / (statistics.stdev(group) + 1e-4) for r in group]
    total, count = 0.0, 0
    for i, row in enumerate(logp.tolist()):
        if truncated[i]:
            continue
        for t, value in enumerate(row):
            if not mask[i][t]:
                continue
            r = math.exp(value - float(old[i][t]))
            total += -min(r * adv[i], min(max(r, 1 - eps_low), 1 + eps_high) * adv[i])
            count += 1
    return total / count if count else 0.0


def plain_sample(logits, temperature, seed):
    """Inverse-CDF sampling cannot reproduce torch.multinomial's stream, so check the distribution
    instead: returns the softmax probabilities the reference must sample from."""
    rows = []
    for row in logits.tolist():
        scaled = [v / temperature for v in row]
        top = max(scaled)
        e = [math.exp(v - top) for v in scaled]
        rows.append([v / sum(e) for v in e])
    return rows


# ---------------------------------------------------------------- references


def test_logprobs_reference_matches_plain_python():
    for case in get_exercise("04.1").hidden_cases(3) + list(get_exercise("04.1").visible):
        logits, tokens, mask = case.args
        got = masked_token_logprobs(logits, tokens, mask).tolist()
        want = plain_logprobs(logits, tokens, mask.tolist())
        for g_row, w_row in zip(got, want):
            assert g_row == pytest.approx(w_row, abs=1e-4)


def test_logprobs_reference_is_what_the_policy_computes():
    policy = Policy(Tokenizer())
    tasks = make_tasks(4, seed=0)
    spec = policy.tokenizer.encode_specs([t.spec_tokens for t in tasks])
    samples = policy.sample(spec, temperature=1.0, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits = policy.logits(spec, samples.tokens)
    got = masked_token_logprobs(logits, samples.tokens, samples.mask)
    assert torch.allclose(got, samples.logp, atol=1e-5)


def test_loss_reference_matches_plain_python():
    cases = get_exercise("04.2").hidden_cases(5) + list(get_exercise("04.2").visible)
    for case in cases:
        logp, old, rewards, mask, truncated, g = case.args
        want = plain_grpo_plus_loss(logp, old, rewards, mask.tolist(), truncated.tolist(), g)
        assert grpo_plus_loss(*case.args) == pytest.approx(want, abs=1e-5), case.label


def test_loss_visible_numbers():
    case = get_exercise("04.2").visible[0]
    logp, old, rewards, mask, truncated, g = case.args
    a = 0.5 / (math.sqrt(0.5) + 1e-4)
    # row 0 (A=+a): ratios 1.6 -> clipped 1.28, 1.2; row 1 (A=-a): 0.8, 1, 1; row 2 (A=+a): 1, 1.4 -> 1.28, 1;
    # row 3 (A=-a): 0.6 -> the min keeps 0.6*(-a)?  -min(0.6*-a, 0.8*-a) = 0.8a... computed plainly:
    want = plain_grpo_plus_loss(logp, old, rewards, mask.tolist(), truncated.tolist(), g)
    terms = [-1.28 * a, -1.2 * a, 0.8 * a, a, a, -a, -1.28 * a, -a, 0.8 * a, a]
    assert want == pytest.approx(sum(terms) / 10, abs=1e-5)
    assert grpo_plus_loss(*case.args) == pytest.approx(sum(terms) / 10, abs=1e-5)


def test_sampling_reference_is_deterministic_and_follows_softmax():
    logits = torch.tensor([[0.0, 1.0, 2.0], [2.0, 0.0, -1.0]])
    a = sample_with_temperature(logits, 0.7, 123)
    assert torch.equal(a, sample_with_temperature(logits, 0.7, 123))
    assert a.dtype == torch.long and a.shape == (2,)
    # frequencies over many seeds match the tempered softmax
    counts = torch.zeros(2, 3)
    n = 3000
    for seed in range(n):
        s = sample_with_temperature(logits, 0.7, seed)
        counts[0, s[0]] += 1
        counts[1, s[1]] += 1
    probs = torch.tensor(plain_sample(logits, 0.7, 0))
    assert torch.allclose(counts / n, probs, atol=0.04)
    # temperature 0 is argmax, first maximum on ties; a tiny temperature agrees with it
    tied = torch.tensor([[1.0, 3.0, 3.0], [5.0, 0.0, 0.0]])
    assert sample_with_temperature(tied, 0.0, 0).tolist() == [1, 0]
    assert sample_with_temperature(logits, 1e-3, 7).tolist() == logits.argmax(-1).tolist()


def test_sampling_reference_matches_a_batched_multinomial_call():
    logits = torch.randn(5, 8, generator=torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(42)
    want = torch.multinomial(torch.softmax(logits / 0.6, -1), 1, generator=g)[:, 0]
    assert torch.equal(sample_with_temperature(logits, 0.6, 42), want)


def test_notebook_has_three_exercises():
    assert [e.id for e in exercises_for_notebook("04_training_a_code_policy")] == ["04.1", "04.2", "04.3"]


# ---------------------------------------------------------------- wrong answers fail


def _score(exercise_id, fn):
    return check(exercise_id, fn)


def _full(result):
    return result.points == result.max_points


def test_references_get_full_marks():
    import coderl_lessons.exercises.ex04_training as ex
    for eid, fn in (("04.1", ex.masked_token_logprobs), ("04.2", ex.grpo_plus_loss), ("04.3", ex.sample_with_temperature)):
        assert _full(_score(eid, fn)), eid


def log_softmax_unmasked(logits, tokens, mask):
    return torch.log_softmax(logits, -1).gather(-1, tokens[..., None]).squeeze(-1)


def log_of_softmax(logits, tokens, mask):
    logp = torch.log(torch.softmax(logits, -1)).gather(-1, tokens[..., None]).squeeze(-1)
    return torch.where(mask, logp, torch.zeros_like(logp))


def logits_not_normalised(logits, tokens, mask):
    logp = logits.gather(-1, tokens[..., None]).squeeze(-1)
    return torch.where(mask, logp, torch.zeros_like(logp))


def _loss(logp, old, rewards, mask, truncated, g, eps_high=0.28, filter_truncated=True, loss_type="dapo",
          unbiased=True):
    grouped = rewards.view(-1, g)
    if unbiased:
        adv = grpo.group_advantages(rewards, g)
    else:
        centred = grouped - grouped.mean(1, keepdim=True)
        adv = (centred / (grouped.std(1, unbiased=False, keepdim=True) + 1e-4)).reshape(-1)
    if filter_truncated:
        mask = grpo.mask_truncated(mask, truncated)
    return float(grpo.policy_loss(logp, old, adv, mask, 0.2, eps_high, loss_type=loss_type)[0])


def symmetric_clip(*a):
    return _loss(*a, eps_high=0.2)


def no_overlong_filter(*a):
    return _loss(*a, filter_truncated=False)


def per_sequence_mean(*a):
    return _loss(*a, loss_type="grpo")


def population_std(*a):
    return _loss(*a, unbiased=False)


def no_temperature(logits, temperature, seed):
    if temperature == 0:
        return logits.argmax(-1)
    return torch.multinomial(torch.softmax(logits, -1), 1, generator=torch.Generator().manual_seed(seed))[:, 0]


def greedy_always(logits, temperature, seed):
    return logits.argmax(-1)


def zero_temperature_crashes(logits, temperature, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.multinomial(torch.softmax(logits / max(temperature, 1e-12), -1), 1, generator=g)[:, 0]


def row_by_row(logits, temperature, seed):
    if temperature == 0:
        return logits.argmax(-1)
    out = []
    for row in logits:
        g = torch.Generator().manual_seed(seed)  # a fresh generator per row: every row draws the same number
        out.append(torch.multinomial(torch.softmax(row / temperature, -1), 1, generator=g)[0])
    return torch.stack(out)


def global_generator(logits, temperature, seed):
    # The same samples as the reference (a fresh generator seeded alike gives the same stream), but
    # it reseeds torch's global generator: what the exercise says not to do.
    if temperature == 0:
        return logits.argmax(-1)
    torch.manual_seed(seed)
    return torch.multinomial(torch.softmax(logits / temperature, -1), 1)[:, 0]


@pytest.mark.parametrize("eid, wrong", [
    ("04.1", log_softmax_unmasked), ("04.1", logits_not_normalised),
    ("04.2", symmetric_clip), ("04.2", no_overlong_filter), ("04.2", per_sequence_mean), ("04.2", population_std),
    ("04.3", no_temperature), ("04.3", greedy_always), ("04.3", row_by_row), ("04.3", global_generator),
])
def test_typical_wrong_answers_fail(eid, wrong):
    assert not _full(_score(eid, wrong))


def test_log_of_softmax_fails_on_large_logits():
    result = _score("04.1", log_of_softmax)
    assert not _full(result)


def test_global_generator_is_caught_and_put_back():
    torch.manual_seed(1234)
    before = torch.random.get_rng_state()
    result = _score("04.3", global_generator)
    assert torch.equal(before, torch.random.get_rng_state())  # the check restored what the answer reseeded
    assert any(line.status == "error" and "GlobalRandomState" in line.message for line in result.lines)
    greedy = next(line for line in result.lines if line.name == "temperature 0")
    assert greedy.passed  # argmax draws nothing: only the cases that draw fail
