"""A tiny autoregressive code policy: tokenizer, GRU decoder conditioned on a spec, pre-training.

Why a GRU of about 156k parameters (lesson 04 counts them) and not a real code LM: the course must
train it on a laptop CPU in minutes, and every piece of a GRPO step (sample, execute, score,
update) has to be visible in a few lines. The policy still has what matters for the algorithm: it
writes a program token by token from a vocabulary of code pieces (``tasks.PROGRAM_PIECES``), it
samples with a temperature, it gives per-token log-probs and entropies for a batch, and it stops at
a maximum length (a sample that reaches it is *truncated*, which overlong filtering needs to know).

Pre-training plays the part of an LM's pre-training: on programs of the task family paired with
*noisy* specs (most words replaced at random), the policy learns the language (which programs are
valid Python, how long they are) and only a weak hint of which program a spec asks for. So it
starts out writing valid code that solves about one task in eight, and RL has to teach it to read
the spec.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from coderl_lessons.grpo import entropy_from_logits
from coderl_lessons.tasks import DIGITS, HEADER, PROGRAM_PIECES, SPEC_LEN, SPEC_WORDS, random_program


class Tokenizer:
    """Maps program bodies to ids over the code pieces, and specs to ids over the spec words.

    Ids 0, 1, 2 are ``<pad>``, ``<bos>`` (the decoder's first input) and ``<eos>`` (the policy's
    "I am done"). Specs are padded with ``<pad>`` to ``SPEC_LEN`` words.
    """

    PAD, BOS, EOS = 0, 1, 2

    def __init__(self) -> None:
        self.pieces: tuple[str, ...] = ("<pad>", "<bos>", "<eos>") + PROGRAM_PIECES
        self.spec_words: tuple[str, ...] = ("<pad>",) + SPEC_WORDS
        self._piece_id = {p: i for i, p in enumerate(self.pieces)}
        self._word_id = {w: i for i, w in enumerate(self.spec_words)}
        self._longest_first = sorted(PROGRAM_PIECES, key=len, reverse=True)

    @property
    def vocab_size(self) -> int:
        return len(self.pieces)

    def encode(self, body: str | Sequence[str]) -> list[int]:
        """Ids of a program body (text after ``HEADER``, or a sequence of pieces), ``<eos>`` added.

        Text is split greedily, longest piece first; text that no piece covers is an error, which
        says that this policy cannot write that program.
        """
        if isinstance(body, str):
            pieces: list[str] = []
            i = 0
            while i < len(body):
                piece = next((p for p in self._longest_first if body.startswith(p, i)), None)
                if piece is None:
                    raise ValueError(f"cannot tokenize {body[i:i + 12]!r} (at {i} in {body!r}): "
                                     f"not one of the policy's code pieces")
                pieces.append(piece)
                i += len(piece)
        else:
            pieces = list(body)
        unknown = [p for p in pieces if p not in self._piece_id or self._piece_id[p] <= self.EOS]
        if unknown:
            raise ValueError(f"unknown code pieces {unknown!r}")
        return [self._piece_id[p] for p in pieces] + [self.EOS]

    def decode(self, ids: Sequence[int] | Tensor) -> str:
        """The body text of one sample: pieces up to the first ``<eos>``, padding dropped."""
        out = []
        for i in (ids.tolist() if isinstance(ids, Tensor) else ids):
            if i == self.EOS:
                break
            if i > self.EOS:
                out.append(self.pieces[i])
        return "".join(out)

    def program(self, ids: Sequence[int] | Tensor) -> str:
        """The full program of one sample, ready for the runner."""
        return HEADER + self.decode(ids)

    def encode_specs(self, specs: Sequence[Sequence[str]], device: torch.device | str = "cpu") -> Tensor:
        """A ``[B, SPEC_LEN]`` long tensor of spec word ids."""
        rows = []
        for spec in specs:
            if len(spec) > SPEC_LEN or any(w not in self._word_id for w in spec):
                raise ValueError(f"a spec is at most {SPEC_LEN} words of tasks.SPEC_WORDS, got {tuple(spec)!r}")
            rows.append([self._word_id[w] for w in spec] + [0] * (SPEC_LEN - len(spec)))
        return torch.tensor(rows, dtype=torch.long, device=device).reshape(len(rows), SPEC_LEN)

    def encode_batch(self, bodies: Sequence[str | Sequence[str]], max_len: int | None = None,
                     device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
        """``(tokens, mask)`` of shape ``[B, max_len]`` for teacher forcing (``max_len`` defaults to
        the longest body); a body longer than ``max_len`` is an error."""
        ids = [self.encode(b) for b in bodies]
        max_len = max(len(row) for row in ids) if max_len is None else max_len
        if any(len(row) > max_len for row in ids):
            raise ValueError(f"a body is longer than max_len={max_len} tokens (with <eos>)")
        tokens = torch.full((len(ids), max_len), self.PAD, dtype=torch.long)
        for r, row in enumerate(ids):
            tokens[r, :len(row)] = torch.tensor(row)
        return tokens.to(device), (tokens != self.PAD).to(device)


@dataclass
class Samples:
    """A batch of sampled programs. All tensors have ``B`` rows; token tensors ``max_len`` columns.

    ``mask`` is True on the tokens the policy wrote (``<eos>`` included); ``logp`` holds their
    log-probs under the sampling distribution (0 elsewhere); ``truncated`` is True for a sample that
    reached ``max_len`` without writing ``<eos>``.
    """

    tokens: Tensor
    mask: Tensor
    logp: Tensor
    truncated: Tensor

    @property
    def lengths(self) -> Tensor:
        return self.mask.sum(dim=1)


class Policy(nn.Module):
    """A GRU decoder over code pieces with dot-product attention over the spec words.

    The spec is read by a small bidirectional GRU, so that each word's vector knows its neighbours
    (``mul 3 add 1`` is not ``add 3 mul 1``, and ``add 2`` alone is not the ``add 2`` of
    ``add 2 mul 3``, which needs a parenthesis); its final states start the decoder, and each
    decoding step attends to the word vectors (Bahdanau et al. 2015). Attention
    gives RL a short, shared path from a spec word to a code piece ("after ``*`` write the number
    after ``mul``"), so what is learned on one task carries over to the others. A copy term (as in
    pointer-generator networks, See et al. 2017) adds the attention paid to a spec digit to the
    logit of the same digit piece: where to look is learned once, for every digit.
    """

    def __init__(self, tokenizer: Tokenizer, *, embed_dim: int = 32, hidden_dim: int = 128, max_len: int = 16):
        super().__init__()
        if max_len < 2:
            raise ValueError(f"max_len must be at least 2, got {max_len}")
        self.tokenizer = tokenizer
        self.max_len = max_len
        self.spec_embed = nn.Embedding(len(tokenizer.spec_words), embed_dim)
        self.spec_rnn = nn.GRU(embed_dim, hidden_dim // 2, batch_first=True, bidirectional=True)
        self.token_embed = nn.Embedding(tokenizer.vocab_size, embed_dim)
        self.gru = nn.GRU(embed_dim, hidden_dim, batch_first=True)
        self.query = nn.Linear(hidden_dim, hidden_dim, bias=False)
        self.mix = nn.Linear(2 * hidden_dim, hidden_dim)
        self.head = nn.Linear(hidden_dim, tokenizer.vocab_size)
        self.copy_gain = nn.Parameter(torch.tensor(1.0))
        copy = torch.zeros(len(tokenizer.spec_words), tokenizer.vocab_size)
        for word_id, word in enumerate(tokenizer.spec_words):
            if word in DIGITS:
                copy[word_id, tokenizer.pieces.index(word)] = 1.0
        self.register_buffer("copy_map", copy, persistent=False)

    @property
    def device(self) -> torch.device:
        return self.head.weight.device

    def encode_spec(self, spec_ids: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``[B, SPEC_LEN]`` spec ids -> (word vectors ``[B, S, H]``, padding mask ``[B, S]``,
        GRU start state ``[1, B, H]``)."""
        if spec_ids.dim() != 2 or spec_ids.shape[1] != SPEC_LEN:
            raise ValueError(f"spec_ids must have shape [B, {SPEC_LEN}], got {tuple(spec_ids.shape)}")
        words, last = self.spec_rnn(self.spec_embed(spec_ids))
        start = torch.cat([last[0], last[1]], dim=-1)[None].contiguous()
        return words, spec_ids == 0, start

    def _head(self, out: Tensor, spec_ids: Tensor, words: Tensor, pad: Tensor) -> Tensor:
        """Decoder states ``[B, L, H]`` -> logits ``[B, L, V]``, each state attending to the spec."""
        scores = torch.einsum("blh,bsh->bls", self.query(out), words) / words.shape[-1] ** 0.5
        attn = torch.softmax(scores.masked_fill(pad[:, None, :], float("-inf")), dim=-1)
        context = torch.einsum("bls,bsh->blh", attn, words)
        copy = torch.einsum("bls,bsv->blv", attn, self.copy_map[spec_ids])
        return self.head(torch.tanh(self.mix(torch.cat([out, context], dim=-1)))) + self.copy_gain * copy

    def logits(self, spec_ids: Tensor, tokens: Tensor) -> Tensor:
        """Teacher-forced next-piece logits ``[B, L, V]``: position t predicts ``tokens[:, t]``."""
        if tokens.dim() != 2 or tokens.shape[0] != spec_ids.shape[0]:
            raise ValueError(f"tokens must have shape [B, L] with B = {spec_ids.shape[0]}, got {tuple(tokens.shape)}")
        words, pad, h0 = self.encode_spec(spec_ids)
        inputs = torch.cat([torch.full_like(tokens[:, :1], Tokenizer.BOS), tokens[:, :-1]], dim=1)
        out, _ = self.gru(self.token_embed(inputs), h0)
        return self._head(out, spec_ids, words, pad)

    def log_probs(self, spec_ids: Tensor, tokens: Tensor, temperature: float = 1.0) -> tuple[Tensor, Tensor]:
        """Per-token log-probs of ``tokens`` and entropies, both ``[B, L]``, under the tempered policy.

        The temperature is the sampling one, so that these log-probs are those of the distribution
        the samples came from (what the GRPO ratio needs); positions past ``<eos>`` are computed
        too and must be masked by the caller.
        """
        _check_temperature(temperature)
        logits = self.logits(spec_ids, tokens) / temperature
        logp = F.log_softmax(logits, dim=-1).gather(-1, tokens[..., None]).squeeze(-1)
        return logp, entropy_from_logits(logits)

    @torch.no_grad()
    def sample(self, spec_ids: Tensor, *, temperature: float = 1.0, generator: torch.Generator | None = None,
               max_len: int | None = None) -> Samples:
        """Write one program per row of ``spec_ids``, one piece at a time, at ``temperature``.

        Deterministic for a given ``generator`` state (draws use only that generator).
        """
        _check_temperature(temperature)
        max_len = self.max_len if max_len is None else max_len
        if max_len < 1:
            raise ValueError(f"max_len must be at least 1, got {max_len}")
        batch = spec_ids.shape[0]
        words, pad, h = self.encode_spec(spec_ids)
        prev = torch.full((batch, 1), Tokenizer.BOS, dtype=torch.long, device=spec_ids.device)
        done = torch.zeros(batch, dtype=torch.bool, device=spec_ids.device)
        tokens, mask, logps = [], [], []
        for _ in range(max_len):
            out, h = self.gru(self.token_embed(prev), h)
            logp_all = F.log_softmax(self._head(out, spec_ids, words, pad)[:, 0] / temperature, dim=-1)
            nxt = torch.multinomial(logp_all.exp(), 1, generator=generator)[:, 0]
            active = ~done
            tokens.append(torch.where(active, nxt, Tokenizer.PAD))
            mask.append(active)
            logps.append(torch.where(active, logp_all.gather(-1, nxt[:, None])[:, 0], 0.0))
            done = done | (nxt == Tokenizer.EOS)
            if bool(done.all()):
                break
            prev = nxt[:, None]
        fill = (0, max_len - len(tokens))  # every sample ended early: pad to max_len columns
        return Samples(tokens=F.pad(torch.stack(tokens, 1), fill, value=Tokenizer.PAD),
                       mask=F.pad(torch.stack(mask, 1), fill, value=False),
                       logp=F.pad(torch.stack(logps, 1), fill, value=0.0), truncated=~done)


def _check_temperature(temperature: float) -> None:
    if not isinstance(temperature, (int, float)) or isinstance(temperature, bool) or not temperature > 0:
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")


_KINDS = ("int", "list")
_WORD_CLASS = {w: (_KINDS if w in _KINDS else DIGITS if w in DIGITS else
                   tuple(v for v in SPEC_WORDS if v not in _KINDS and v not in DIGITS)) for w in SPEC_WORDS}


def pretraining_corpus(n: int, seed: int, keep: float = 0.12) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """``n`` (spec, body) pairs: valid programs of the task family with *noisy* specs, each spec
    word kept with probability ``keep`` and otherwise replaced by a random word of its kind
    (``int``/``list``, an operation, a digit).

    The programs teach the language. The noisy specs make the spec a weak hint, as docstrings
    loosely related to the code are in an LM's pre-training data: the policy learns that a spec word
    makes its code piece somewhat more likely, so that it starts out writing valid programs that
    solve few tasks, with every task solved now and then (which RL needs: a group of samples
    that all fail gives GRPO nothing to learn from). ``keep=1`` would teach the tasks themselves.
    """
    if not 0.0 <= keep <= 1.0:
        raise ValueError(f"keep must be in [0, 1], got {keep!r}")
    rng = random.Random(seed)
    corpus = []
    for _ in range(n):
        spec, body = random_program(rng)
        noisy = tuple(w if rng.random() < keep else rng.choice(_WORD_CLASS[w]) for w in spec)
        corpus.append((noisy, body))
    return corpus


def pretrain(policy: Policy, *, steps: int = 300, batch_size: int = 128, lr: float = 3e-3,
             seed: int = 0, keep: float = 0.12) -> list[float]:
    """Supervised next-piece training on a fresh ``pretraining_corpus`` of ``steps * batch_size``
    pairs, each seen once (a corpus reused for many epochs lets the policy memorise pairs instead
    of learning the weak spec-to-program hint in general). Returns the loss per step.

    Deterministic for a seed on CPU.
    """
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1, got {steps} and {batch_size}")
    tok = policy.tokenizer
    corpus = pretraining_corpus(steps * batch_size, seed, keep)
    specs = tok.encode_specs([s for s, _ in corpus], policy.device)
    tokens, mask = tok.encode_batch([b for _, b in corpus], device=policy.device)
    optimizer = torch.optim.Adam(policy.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        rows = slice(step * batch_size, (step + 1) * batch_size)
        logits = policy.logits(specs[rows], tokens[rows])
        loss = F.cross_entropy(logits[mask[rows]], tokens[rows][mask[rows]])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
