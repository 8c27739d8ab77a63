"""GRPO training of the tiny code policy from execution reward, CleanRL style.

One step of ``train`` reads top to bottom as the algorithm does:

1. pick ``tasks_per_step`` training tasks and sample ``group_size`` programs for each (``rollout``);
2. run every distinct program against its task's tests in the sandboxed runner (cached), and turn
   each result into a reward (binary all-pass, fraction passed, or the survey's staged reward),
   computed on the hidden tests, or on the visible ones only for the reward-hacking lesson;
3. with dynamic sampling, drop the groups whose rewards are all equal and sample more;
4. group-relative advantages, then the clipped policy loss with overlong masking, on a few
   minibatches (``grpo_update``), using ``coderl_lessons.grpo``'s functions;
5. log one row of metrics in the history, and every ``eval_every`` steps measure pass@1 on all
   training tasks.

Every knob the lessons ablate is a field of ``TrainConfig``, which ``make_config`` builds from a
named preset of ``coderl_lessons.grpo`` plus overrides. Runs are deterministic for a seed on CPU:
seeded generators for tasks, sampling and minibatches, a fixed torch thread count, and a runner
whose verdicts do not depend on timing (every program of this language ends in microseconds).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import functools
import json
import math
import random
import time
from dataclasses import dataclass
from typing import Any, Iterator, Literal, Sequence

import torch
from tqdm.auto import tqdm

from coderl_lessons import grpo
from coderl_lessons.execution import cache_stats, run_many
from coderl_lessons.policy import Policy, Samples, Tokenizer, pretrain
from coderl_lessons.rewards import binary_reward, fraction_reward, staged_reward
from coderl_lessons.tasks import Task, make_tasks

RewardName = Literal["binary", "fraction", "staged"]
RewardTests = Literal["hidden", "visible"]
REWARDS = {"binary": binary_reward, "fraction": fraction_reward, "staged": staged_reward}


@dataclass(frozen=True)
class TrainConfig:
    """Everything a run depends on besides its seed. Build one with ``make_config``.

    ``grpo`` holds the algorithm (clip range, loss aggregation, advantage scale, overlong masking,
    dynamic sampling, KL and entropy weights). The other fields size the run for a laptop CPU and
    choose the reward:

    * ``group_size`` samples per task (G) and ``temperature``: these replace the preset's, since
      the budget is a CPU's, not DeepSeekMath's 64 samples per question; ``make_config`` takes the
      preset's temperature where it gives one.
    * ``steps`` of ``tasks_per_step`` groups each, updated in ``minibatches`` (later minibatches are
      off-policy, which is where clipping acts), Adam at ``lr``; ``max_len`` pieces per program.
    * ``reward``: "binary" (all tests pass; GRPO+), "fraction" (partial credit) or "staged"
      (the survey's 0.3 compile / 0.3 run / 0.4 all tests); ``reward_tests``: the tests that pay,
      "hidden" or "visible" (the reward-hacking lesson trains on the visible ones alone).
    * ``n_tasks`` training tasks drawn with ``task_seed``. 96 rather than 32 because the policy
      generalises across the tasks of one template: with few examples of a template, RL can lock
      onto a wrong reading of its spec (``mul 2 sub 9`` written as ``(x - 2) * 9``), and then every
      sample of that task fails, the group has no variance, and GRPO has nothing to correct it with.
    * ``pretrain_steps`` and ``pretrain_keep`` (how faithful the pre-training specs are): they set
      how good the base policy is, about 0.1 hidden pass@1 at the defaults.
    * pass@1 on all training tasks every ``eval_every`` steps, from ``eval_samples`` per task.
    * ``max_sampling_rounds``: with dynamic sampling, how many batches to sample at most to fill
      one batch with informative groups.
    """

    preset: str
    grpo: grpo.GRPOConfig
    group_size: int = 8
    temperature: float = 0.6
    steps: int = 500
    tasks_per_step: int = 16
    minibatches: int = 2
    lr: float = 1e-3
    max_len: int = 16
    reward: RewardName = "binary"
    reward_tests: RewardTests = "hidden"
    n_tasks: int = 96
    task_seed: int = 0
    pretrain_steps: int = 300
    pretrain_keep: float = 0.12
    eval_every: int = 50
    eval_samples: int = 8
    max_sampling_rounds: int = 4

    def __post_init__(self) -> None:
        for name in ("group_size", "steps", "tasks_per_step", "minibatches", "max_len", "n_tasks",
                     "pretrain_steps", "eval_every", "eval_samples", "max_sampling_rounds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        for name in ("temperature", "lr", "pretrain_keep"):  # a str from a config file, say
            grpo._check_real(getattr(self, name), name)  # noqa: SLF001 - one check for both configs
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite, got {getattr(self, name)!r}")
        if not 0.0 <= self.pretrain_keep <= 1.0:
            raise ValueError(f"pretrain_keep must be a probability in [0, 1], got {self.pretrain_keep}")
        if isinstance(self.task_seed, bool) or not isinstance(self.task_seed, int):
            raise TypeError(f"task_seed must be an int (the same task set for every seed), got {self.task_seed!r}")
        if not isinstance(self.grpo, grpo.GRPOConfig):
            raise TypeError(f"grpo must be a GRPOConfig (grpo.preset(...)), got {type(self.grpo).__name__}")
        if self.group_size < 2:
            raise ValueError(f"group_size must be >= 2 (a group of one has no relative advantage), got {self.group_size}")
        if self.minibatches > self.tasks_per_step:
            raise ValueError(f"minibatches ({self.minibatches}) must not exceed tasks_per_step ({self.tasks_per_step})")
        if not self.temperature > 0 or not self.lr > 0:
            raise ValueError(f"temperature and lr must be > 0, got {self.temperature} and {self.lr}")
        if self.reward not in REWARDS:
            raise ValueError(f"reward must be one of {sorted(REWARDS)}, got {self.reward!r}")
        if self.reward_tests not in ("hidden", "visible"):
            raise ValueError(f"reward_tests must be 'hidden' or 'visible', got {self.reward_tests!r}")


_GRPO_FIELDS = {f.name for f in dataclasses.fields(grpo.GRPOConfig)} - {"group_size", "temperature", "source"}
_TRAIN_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)} - {"preset", "grpo"}


def make_config(preset: str = "grpo_plus", **overrides: Any) -> TrainConfig:
    """A ``TrainConfig`` from a named preset, with overrides for any field of either config.

    ``make_config("grpo_plus", eps_high=0.2)`` is GRPO+ with a symmetric clip;
    ``make_config("grpo_plus", mask_truncated=False, reward="staged", group_size=4)`` and so on.
    The preset's temperature is used when it gives one (GRPO+: 0.6), else 1.0.
    """
    base = grpo.preset(preset)
    unknown = set(overrides) - _GRPO_FIELDS - _TRAIN_FIELDS
    if unknown:
        raise ValueError(f"unknown config fields {sorted(unknown)}; known: {sorted(_GRPO_FIELDS | _TRAIN_FIELDS)}")
    algo = dataclasses.replace(base, **{k: v for k, v in overrides.items() if k in _GRPO_FIELDS})
    train_fields = {k: v for k, v in overrides.items() if k in _TRAIN_FIELDS}
    train_fields.setdefault("temperature", base.temperature if base.temperature is not None else 1.0)
    return TrainConfig(preset=preset, grpo=algo, **train_fields)


def _check_config(config: Any) -> None:
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, e.g. make_config('grpo_plus'), got {type(config).__name__}")


def training_tasks(config: TrainConfig) -> list[Task]:
    """The run's training tasks: the same for every seed, so seeds are compared on one task set."""
    _check_config(config)
    return make_tasks(config.n_tasks, config.task_seed)


@contextlib.contextmanager
def fixed_threads(n: int) -> Iterator[None]:
    """Run the block with torch on ``n`` CPU threads, then restore the previous count: float sums
    split over another number of threads can round differently, and a run must not depend on it."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@functools.lru_cache(maxsize=16)
def _pretrained_state(seed: int, steps: int, keep: float) -> dict[str, torch.Tensor]:
    with fixed_threads(1):
        torch.manual_seed(seed)
        policy = Policy(Tokenizer())
        pretrain(policy, steps=steps, seed=seed, keep=keep)
    return {k: v.detach().clone() for k, v in policy.state_dict().items()}


def base_policy(config: TrainConfig, seed: int, device: torch.device | str = "cpu") -> Policy:
    """The pre-trained policy RL starts from, writing at most ``config.max_len`` pieces.

    Pre-training is computed on the CPU once per seed and process, then copied: the lesson's
    ablations (``max_len`` ones included) all start from the same base without paying for it again.
    """
    _check_config(config)
    policy = Policy(Tokenizer(), max_len=config.max_len)
    policy.load_state_dict(_pretrained_state(seed, config.pretrain_steps, config.pretrain_keep))
    return policy.to(device)


@dataclass(frozen=True)
class TestCounts:
    """An execution result seen through some of its tests: what the reward functions read."""

    compiled: bool
    loaded: bool
    n_passed: int
    n_tests: int


def _counts(result: Any, start: int, stop: int) -> TestCounts:
    """The tests ``start:stop`` of ``result``; tests that never ran (the program did not load,
    or hit a limit) count as failed, never as missing."""
    passed = sum(t.status == "passed" for t in result.tests[start:stop])
    return TestCounts(bool(result.compiled), bool(result.loaded), passed, stop - start)


@dataclass
class Rollout:
    """One batch of groups: ``group_size`` consecutive rows per task, everything per row."""

    tasks: list[Task]
    spec_ids: torch.Tensor
    samples: Samples
    programs: list[str]
    rewards: torch.Tensor
    visible_pass: torch.Tensor
    hidden_pass: torch.Tensor
    n_programs_run: int
    seconds_sampling: float
    seconds_execution: float

    def __len__(self) -> int:
        return len(self.programs)


def execute(programs: Sequence[str], tasks: Sequence[Task], config: TrainConfig) -> tuple[list[float], list[float], list[float], int]:
    """Run each program on all its task's tests (each distinct one once); return per program the
    reward, visible all-pass and hidden all-pass, and how many programs were sent to the runner.

    Visible and hidden verdicts come from one run with the visible tests first, so choosing which
    tests pay the reward (``config.reward_tests``) costs nothing extra.
    """
    keys = list(dict.fromkeys(zip(programs, (t.name for t in tasks))))
    by_name = {t.name: t for t in tasks}
    results = run_many([(p, by_name[name].tests("all")) for p, name in keys])
    verdict = dict(zip(keys, results))
    reward_fn = REWARDS[config.reward]
    rewards, visible, hidden = [], [], []
    for program, task in zip(programs, tasks):
        result, n_vis, n_all = verdict[program, task.name], len(task.visible), len(task.visible) + len(task.hidden)
        vis, hid = _counts(result, 0, n_vis), _counts(result, n_vis, n_all)
        rewards.append(reward_fn(hid if config.reward_tests == "hidden" else vis))
        visible.append(binary_reward(vis))
        hidden.append(binary_reward(hid))
    return rewards, visible, hidden, len(keys)


def rollout(policy: Policy, tasks: Sequence[Task], config: TrainConfig, generator: torch.Generator) -> Rollout:
    """Sample ``group_size`` programs per task, run them, and score them."""
    start = time.perf_counter()
    spec_ids = policy.tokenizer.encode_specs([t.spec_tokens for t in tasks], policy.device)
    spec_ids = spec_ids.repeat_interleave(config.group_size, dim=0)
    samples = policy.sample(spec_ids, temperature=config.temperature, generator=generator, max_len=config.max_len)
    programs = [policy.tokenizer.program(row) for row in samples.tokens.cpu()]
    row_tasks = [t for t in tasks for _ in range(config.group_size)]
    sampled = time.perf_counter()
    rewards, visible, hidden, n_run = execute(programs, row_tasks, config)
    as_tensor = functools.partial(torch.tensor, dtype=torch.float32, device=policy.device)
    return Rollout(row_tasks, spec_ids, samples, programs, as_tensor(rewards), as_tensor(visible),
                   as_tensor(hidden), n_run, sampled - start, time.perf_counter() - sampled)


def zero_variance_groups(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """One bool per group: True when all its rewards are equal (zero advantage, no gradient)."""
    if not isinstance(rewards, torch.Tensor) or rewards.dim() != 1:
        raise ValueError(f"rewards must be a 1-D tensor, got {type(rewards).__name__}")
    if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1 \
            or rewards.numel() % group_size:
        raise ValueError(f"group_size must be a positive int that divides the {rewards.numel()} rewards, "
                         f"got {group_size!r}")
    grouped = rewards.view(-1, group_size)
    return (grouped == grouped[:, :1]).all(dim=1)


def _select_groups(batch: Rollout, keep: torch.Tensor, group_size: int) -> Rollout:
    rows = keep.repeat_interleave(group_size).nonzero()[:, 0]
    idx = rows.tolist()
    s = batch.samples
    return Rollout([batch.tasks[i] for i in idx], batch.spec_ids[rows],
                   Samples(s.tokens[rows], s.mask[rows], s.logp[rows], s.truncated[rows]),
                   [batch.programs[i] for i in idx], batch.rewards[rows], batch.visible_pass[rows],
                   batch.hidden_pass[rows], batch.n_programs_run, batch.seconds_sampling, batch.seconds_execution)


def _concat(parts: Sequence[Rollout]) -> Rollout:
    cat = functools.partial(torch.cat, dim=0)
    return Rollout([t for p in parts for t in p.tasks], cat([p.spec_ids for p in parts]),
                   Samples(*(cat([getattr(p.samples, f) for p in parts]) for f in ("tokens", "mask", "logp", "truncated"))),
                   [x for p in parts for x in p.programs], cat([p.rewards for p in parts]),
                   cat([p.visible_pass for p in parts]), cat([p.hidden_pass for p in parts]),
                   sum(p.n_programs_run for p in parts), sum(p.seconds_sampling for p in parts),
                   sum(p.seconds_execution for p in parts))


def grpo_update(policy: Policy, optimizer: torch.optim.Optimizer, batch: Rollout, config: TrainConfig,
                generator: torch.Generator, ref_policy: Policy | None = None) -> dict[str, float]:
    """One pass of clipped policy-gradient updates over ``batch``, split into ``config.minibatches``
    minibatches of whole groups; returns the mean of each diagnostic over the minibatches.

    The log-probs recorded at sampling time are pi_old: the first minibatch is on-policy (ratio 1),
    later ones are slightly off-policy, which is where the clip range matters.
    """
    algo, G = config.grpo, config.group_size
    advantages = grpo.group_advantages(batch.rewards, G, scale=algo.scale)
    mask = batch.samples.mask
    if algo.mask_truncated:
        mask = grpo.mask_truncated(mask, batch.samples.truncated)
    n_groups = len(batch) // G
    order = torch.randperm(n_groups, generator=generator).tolist()
    chunks = [order[i::config.minibatches] for i in range(min(config.minibatches, n_groups))]
    totals: dict[str, float] = {}
    for groups in chunks:
        rows = torch.tensor([g * G + j for g in groups for j in range(G)], device=policy.device)
        tokens = batch.samples.tokens[rows]
        logp, entropy = policy.log_probs(batch.spec_ids[rows], tokens, config.temperature)
        ref_logp = None
        if ref_policy is not None:
            with torch.no_grad():
                ref_logp = ref_policy.log_probs(batch.spec_ids[rows], tokens, config.temperature)[0]
        loss, diag = grpo.policy_loss(logp, batch.samples.logp[rows], advantages[rows], mask[rows],
                                      eps_low=algo.eps_low, eps_high=algo.eps_high, loss_type=algo.loss_type,
                                      max_completion_length=config.max_len, beta=algo.beta, ref_logp=ref_logp)
        mean_entropy = grpo.masked_mean(entropy, batch.samples.mask[rows])
        loss = loss - algo.entropy_coef * mean_entropy
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        diag = {**diag, "loss": loss.item(), "entropy": mean_entropy.item()}
        for k, v in diag.items():
            totals[k] = totals.get(k, 0.0) + v / len(chunks)
    return totals


@torch.no_grad()
def evaluate(policy: Policy, tasks: Sequence[Task], config: TrainConfig, generator: torch.Generator,
             n_samples: int | None = None) -> dict[str, Any]:
    """pass@1 on ``tasks``: ``n_samples`` programs per task at the training temperature, the mean
    over tasks of the fraction that pass all hidden (or all visible) tests. Also per-task figures
    and one sample per task, to show what the policy writes."""
    n = config.eval_samples if n_samples is None else n_samples
    if n < 1:
        raise ValueError(f"n_samples must be >= 1, got {n}")
    spec_ids = policy.tokenizer.encode_specs([t.spec_tokens for t in tasks], policy.device).repeat_interleave(n, 0)
    samples = policy.sample(spec_ids, temperature=config.temperature, generator=generator, max_len=config.max_len)
    programs = [policy.tokenizer.program(row) for row in samples.tokens.cpu()]
    _, visible, hidden, _ = execute(programs, [t for t in tasks for _ in range(n)], config)
    per_task_hidden = torch.tensor(hidden).view(len(tasks), n).mean(1)
    return {
        "hidden_pass_at_1": per_task_hidden.mean().item(),
        "visible_pass_at_1": torch.tensor(visible).mean().item(),
        "per_task_hidden": dict(zip((t.name for t in tasks), per_task_hidden.tolist())),
        "examples": {t.name: programs[i * n] for i, t in enumerate(tasks)},
    }


@dataclass
class TrainResult:
    """What ``train`` returns: the trained policy, the base and final evaluations, the history."""

    config: TrainConfig
    seed: int
    policy: Policy
    base: dict[str, Any]
    final: dict[str, Any]
    history: list[dict[str, float | None]]
    seconds: float
    seconds_pretraining: float

    def summary(self) -> dict[str, Any]:
        """The JSON record of the run (what the command writes)."""
        return {
            "preset": self.config.preset, "seed": self.seed, "steps": self.config.steps,
            "seconds": self.seconds, "seconds_pretraining": self.seconds_pretraining,
            "device": str(self.policy.device),
            "base_hidden_pass_at_1": self.base["hidden_pass_at_1"],
            "base_visible_pass_at_1": self.base["visible_pass_at_1"],
            "hidden_pass_at_1": self.final["hidden_pass_at_1"],
            "visible_pass_at_1": self.final["visible_pass_at_1"],
            **{f"total_{k}": sum(row[k] for row in self.history)
               for k in ("seconds_sampling", "seconds_execution", "seconds_update", "programs_run", "cache_hits")},
            "config": dataclasses.asdict(self.config),
            "history": self.history,
        }


def pick_device(device: torch.device | str | None = None) -> torch.device:
    """``device`` if given, else CUDA when available, else CPU."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def train(config: TrainConfig, seed: int = 0, *, device: torch.device | str | None = None,
          policy: Policy | None = None, progress: bool = True, threads: int = 1) -> TrainResult:
    """Train a policy with GRPO on the training tasks; returns it with its metric history.

    ``policy`` defaults to the pre-trained base for ``seed`` (a copy; the argument is not changed
    either way). ``threads`` fixes torch's CPU thread count for the run, for determinism; it is
    restored afterwards.
    """
    _check_config(config)
    for name, value, low in (("seed", seed, 0), ("threads", threads, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    start = time.perf_counter()
    with fixed_threads(threads):
        device = pick_device(device)
        torch.manual_seed(seed)
        policy = base_policy(config, seed, device) if policy is None else copy.deepcopy(policy).to(device)
        seconds_pretraining = time.perf_counter() - start
        ref_policy = copy.deepcopy(policy).eval() if config.grpo.beta > 0 else None
        tasks = training_tasks(config)
        optimizer = torch.optim.Adam(policy.parameters(), lr=config.lr)
        sample_gen = torch.Generator(device=device).manual_seed(seed)
        eval_gen = torch.Generator(device=device).manual_seed(seed + 1_000_003)
        shuffle_gen = torch.Generator().manual_seed(seed)
        task_order = random.Random(seed)
        base = evaluate(policy, tasks, config, eval_gen)
        history: list[dict[str, float | None]] = []
        queue: list[Task] = []

        for step in tqdm(range(1, config.steps + 1), disable=not progress, desc=f"{config.preset} seed {seed}"):
            # 1-3. sample groups, run and score them; with dynamic sampling, keep only the groups
            # whose rewards differ and sample more until the batch is full (or rounds run out)
            cache_before = cache_stats()
            sampled, kept = [], []
            for _ in range(config.max_sampling_rounds if config.grpo.dynamic_sampling else 1):
                while len(queue) < config.tasks_per_step:
                    queue += task_order.sample(tasks, len(tasks))
                batch_tasks, queue = queue[:config.tasks_per_step], queue[config.tasks_per_step:]
                part = rollout(policy, batch_tasks, config, sample_gen)
                sampled.append(part)
                informative = ~zero_variance_groups(part.rewards, config.group_size)
                kept.append(_select_groups(part, informative, config.group_size) if config.grpo.dynamic_sampling else part)
                if sum(len(k) for k in kept) >= config.tasks_per_step * config.group_size:
                    break
            seen, batch = _concat(sampled), _concat(kept)
            batch = _select_groups(batch, torch.arange(len(batch) // config.group_size) < config.tasks_per_step,
                                   config.group_size)

            # 4. group advantages and clipped policy-gradient updates (none if no group is informative)
            updated = time.perf_counter()
            diag = grpo_update(policy, optimizer, batch, config, shuffle_gen, ref_policy) if len(batch) else {}
            seconds_update = time.perf_counter() - updated

            # 5. log what the policy wrote this step, and how the update went
            cache_after = cache_stats()
            row = {
                "step": step,
                "reward": seen.rewards.mean().item(),
                "visible_pass": seen.visible_pass.mean().item(),
                "hidden_pass": seen.hidden_pass.mean().item(),
                "zero_variance_frac": zero_variance_groups(seen.rewards, config.group_size).float().mean().item(),
                "truncated_frac": seen.samples.truncated.float().mean().item(),
                "mean_length": seen.samples.lengths.float().mean().item(),
                "groups_used": len(batch) // config.group_size,
                "programs_run": seen.n_programs_run,
                "cache_hits": cache_after["hits"] - cache_before["hits"],
                "seconds_sampling": seen.seconds_sampling,
                "seconds_execution": seen.seconds_execution,
                "seconds_update": seconds_update,
                **{k: diag.get(k) for k in ("loss", "entropy", "clip_low_frac", "clip_high_frac", "mean_ratio")},
            }
            if step % config.eval_every == 0 and step < config.steps:
                row["eval_hidden_pass_at_1"] = evaluate(policy, tasks, config, eval_gen)["hidden_pass_at_1"]
            history.append(row)

        final = evaluate(policy, tasks, config, eval_gen)
        history[-1]["eval_hidden_pass_at_1"] = final["hidden_pass_at_1"]
        return TrainResult(config, seed, policy, base, final, history, time.perf_counter() - start, seconds_pretraining)


def cli(argv: Sequence[str]) -> int:
    """``train --preset NAME --seed N [--steps S] --json FILE``: one run, its record written as JSON.

    Prints the base and final hidden pass@1 and the time; returns the exit status (2 for bad
    arguments).
    """
    parser = argparse.ArgumentParser(prog="coderl-lessons train",
                                     description="Train the tiny code policy with GRPO on the training tasks.")
    parser.add_argument("--preset", default="grpo_plus", choices=sorted(grpo.PRESETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the config's)")
    parser.add_argument("--json", required=True, help="file to write the run's record to")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        config = make_config(args.preset, **({} if args.steps is None else {"steps": args.steps}))
    except ValueError as error:
        print(f"coderl-lessons train: {error}")
        return 2
    result = train(config, args.seed, device=args.device, progress=not args.no_progress)
    record = result.summary()
    with open(args.json, "w") as f:
        json.dump(record, f, indent=1)
    print(f"{config.preset} seed {args.seed}: hidden pass@1 {record['base_hidden_pass_at_1']:.3f} -> "
          f"{record['hidden_pass_at_1']:.3f} (visible {record['visible_pass_at_1']:.3f}) in "
          f"{record['seconds']:.1f} s ({record['seconds_pretraining']:.1f} s pre-training) on {record['device']}")
    return 0
