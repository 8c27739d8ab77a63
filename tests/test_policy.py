"""The tiny policy: tokenizer round trips, sample shapes, log-probs recomputed equal to the ones
recorded while sampling, entropy bounds, the truncation flag, and a pre-training that teaches syntax."""

from __future__ import annotations

import ast
import math
import warnings

import pytest
import torch

from coderl_lessons import tasks
from coderl_lessons.policy import Policy, Tokenizer, pretrain, pretraining_corpus

torch.set_num_threads(1)  # tests run beside other CPU work: keep torch from oversubscribing cores

TOK = Tokenizer()
TASKS = tasks.make_tasks(12, seed=0)


def _policy(seed: int = 0, max_len: int = 16) -> Policy:
    torch.manual_seed(seed)
    return Policy(TOK, max_len=max_len)


def _specs(n_repeat: int = 4) -> torch.Tensor:
    return TOK.encode_specs([t.spec_tokens for t in TASKS]).repeat_interleave(n_repeat, 0)


def test_tokenizer_round_trips_every_reference_and_a_hard_coded_hack():
    for task in TASKS:
        body = task.reference[len(tasks.HEADER):]
        ids = TOK.encode(body)
        assert ids[-1] == Tokenizer.EOS and TOK.encode(task.body) == ids
        assert TOK.program(ids) == task.reference
    hack = "if x == 2: return 7\n    return x * 3"
    assert TOK.decode(TOK.encode(hack)) == hack  # the reward-hacking lesson needs this to be writable


def test_tokenizer_rejects_what_it_cannot_write():
    with pytest.raises(ValueError, match="cannot tokenize"):
        TOK.encode("return x ** 2")
    with pytest.raises(ValueError, match="unknown code pieces"):
        TOK.encode(["return ", "lambda"])
    with pytest.raises(ValueError, match="spec"):
        TOK.encode_specs([("int", "power", "2")])
    with pytest.raises(ValueError, match="longer than max_len"):
        TOK.encode_batch(["return x + 1"], max_len=3)


def test_sample_shapes_mask_and_truncation_flag():
    policy = _policy(max_len=6)  # untrained: rarely writes <eos>, so many samples are truncated
    s = policy.sample(_specs(), temperature=1.0, generator=torch.Generator().manual_seed(0))
    batch = len(TASKS) * 4
    assert s.tokens.shape == s.mask.shape == s.logp.shape == (batch, 6) and s.truncated.shape == (batch,)
    has_eos = (s.tokens == Tokenizer.EOS).any(dim=1)
    assert torch.equal(s.truncated, ~has_eos)
    assert s.truncated.any() and (~s.truncated).any()
    assert torch.equal(s.lengths[s.truncated], torch.full((int(s.truncated.sum()),), 6))
    # the mask covers exactly the tokens up to and including the first <eos>
    for row, m in zip(s.tokens.tolist(), s.mask.tolist()):
        n = row.index(Tokenizer.EOS) + 1 if Tokenizer.EOS in row else len(row)
        assert m == [True] * n + [False] * (len(row) - n)
        assert all(t == Tokenizer.PAD for t in row[n:])


@pytest.mark.parametrize("temperature", [0.6, 1.0, 1.7])
def test_log_probs_recomputed_equal_sampling_log_probs(temperature):
    policy = _policy(1)
    specs = _specs()
    s = policy.sample(specs, temperature=temperature, generator=torch.Generator().manual_seed(2))
    logp, entropy = policy.log_probs(specs, s.tokens, temperature)
    assert torch.allclose(logp[s.mask], s.logp[s.mask], atol=1e-5)
    assert torch.all(s.logp[~s.mask] == 0)
    # an independent recomputation from the logits
    manual = torch.log_softmax(policy.logits(specs, s.tokens) / temperature, -1).gather(-1, s.tokens[..., None])[..., 0]
    assert torch.allclose(manual[s.mask], s.logp[s.mask], atol=1e-5)
    assert (entropy >= 0).all() and (entropy <= math.log(TOK.vocab_size) + 1e-5).all()


def test_sampling_is_deterministic_for_a_generator_and_temperature_sharpens():
    policy = _policy(3)
    specs = _specs(8)
    a = policy.sample(specs, temperature=1.0, generator=torch.Generator().manual_seed(5))
    b = policy.sample(specs, temperature=1.0, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a.tokens, b.tokens)
    _, hot = policy.log_probs(specs, a.tokens, 2.0)
    _, cold = policy.log_probs(specs, a.tokens, 0.5)
    assert cold.mean() < hot.mean()


def test_bad_inputs_are_rejected_with_shapes():
    policy = _policy()
    with pytest.raises(ValueError, match="temperature"):
        policy.sample(_specs(), temperature=0.0)
    with pytest.raises(ValueError, match=r"spec_ids must have shape \[B, 7\], got \(3,\)"):
        policy.sample(torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="tokens must have shape"):
        policy.log_probs(_specs(1), torch.zeros(2, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="keep"):
        pretraining_corpus(4, seed=0, keep=1.5)


def test_corpus_keep_controls_how_much_the_spec_says():
    def bodies_per_spec(keep: float) -> int:
        seen: dict = {}
        for spec, body in pretraining_corpus(3000, seed=0, keep=keep):
            seen.setdefault(spec, set()).add(body)
        return max(len(b) for b in seen.values())
    assert bodies_per_spec(1.0) == 1  # faithful specs: the spec determines the program
    assert bodies_per_spec(0.1) > 1  # noisy specs: the same words go with different programs


def test_short_pretraining_teaches_valid_python():
    policy = _policy(4)
    specs = _specs(8)
    def valid_share() -> float:
        s = policy.sample(specs, temperature=1.0, generator=torch.Generator().manual_seed(0))
        ok = 0
        with warnings.catch_warnings():  # random programs like `3x` warn before they fail to parse
            warnings.simplefilter("ignore", SyntaxWarning)
            for row in s.tokens:
                try:
                    ast.parse(TOK.program(row))
                    ok += 1
                except SyntaxError:
                    pass
        return ok / len(s.tokens)
    before = valid_share()
    losses = pretrain(policy, steps=100, batch_size=64, seed=0)
    assert losses[-1] < losses[0] / 2
    assert before < 0.2 < 0.8 < valid_share()
