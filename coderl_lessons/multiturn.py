"""Multi-turn repair with execution feedback: a horizon knob, returns, and credit assignment.

The survey README's complexity progression (one-shot generation -> multi-turn refinement -> long
software-engineering tasks) is a claim about *horizon*: the longer the chain of decisions before
the reward, the harder the task is to learn. This module builds a small environment where the
horizon is a knob and everything else stays the same, so the claim can be measured.

The environment (:class:`RepairEnv`)
-------------------------------------
An episode starts from a HumanEval canonical solution with ``k`` bugs injected: ``k`` mutants of
:mod:`coderl_lessons.mutation` at distinct, non-overlapping line ranges, their edits composed into
one program that fails HumanEval's tests (checked by the runner). The agent is offered ``M = k + d``
candidate edits (:class:`Episode`): the ``k`` reverts of the injected bugs and
``d = decoys_per_bug * k`` decoys (other mutants of the same program, elsewhere, each of which
alone breaks it). Each turn it *toggles* one candidate (applies it, or undoes it if applied) or
submits. After each edit the program runs in the sandbox (:func:`coderl_lessons.execution.run_many`,
batched over the episodes in flight, cached) against the task's *feedback tests* (its visible
docstring examples and the literal asserts of HumanEval's ``check``, as separate call tests) and the
``check`` itself; the agent may see a summary (:class:`Feedback`). The episode ends on submit or
after ``T = turns_per_bug * k`` edits; its outcome reward is 1 if the final program passes
HumanEval's ``check``, else 0 (DeepCoder's sparse reward). ``k = 1`` is the single-fix case, large
``k`` the long multi-edit task. As an option the reward also pays, at every edit, the change in the
share of feedback tests passed (potential-based shaping, Ng, Harada and Russell 1999).

What the agent sees (:func:`features`)
---------------------------------------
Nothing about the code: each candidate is described by its history in the episode (untouched,
just applied, just undone, applied earlier, undone earlier; or the submit action), crossed with the
turn's context: the share of the edit budget used and, *with feedback*, the runner's verdict on the
current program (tests pass, error, wrong answer, share of feedback tests passed) and whether the
last edit fixed or broke a test. *Without feedback* the verdict features are zeroed, the episode
is open-loop, and no policy can do better than guess which ``k`` of the ``M`` candidates are the
bugs: success at most ``1 / C(M, k)`` (:func:`blind_success_bound`). With feedback, "try an edit,
keep it if it fixes a test, undo it otherwise" would always succeed within ``k + 2d`` edits if
every edit showed in the tests; with several bugs many do not (one bug masks the revert of
another), and :func:`trial_and_error_policy` measures how far that strategy gets. No feature names
a task, so the policy cannot memorise one.

The agent and its training
--------------------------
:class:`RepairPolicy` scores each candidate with a linear function (or a tiny MLP) of its features;
a softmax at ``temperature`` picks the action. :func:`train_agent` trains it with the course's own
GRPO code (:func:`coderl_lessons.grpo.group_advantages`, :func:`coderl_lessons.grpo.policy_loss`)
and the GRPO+ preset's settings (clip 0.2 / 0.28, no KL, no entropy term, token-level loss,
std-normalised group advantages, groups of 8, temperature 0.6), one action being one "token". The
preset's overlong filtering is *not* applied: running out of edits is this task's way of failing,
not a completion cut short. :func:`success_vs_horizon` trains a fresh agent per horizon and seed at
a fixed *sample budget* (``budget`` = training episodes sampled, each of up to ``T(k)`` edits) and
measures success on held-out episodes.

Credit assignment
-----------------
:func:`discounted_returns` and :func:`turn_advantages` compute returns-to-go and turn-level
advantages for a batch of episodes given as per-turn rewards and a mask; :func:`gradient_snr`
measures the signal-to-noise ratio of the policy-gradient estimate at a fixed batch size from
per-group gradients (:func:`snr_from_gradients`); :func:`zero_signal_probability` is the chance
that a group of ``G`` episodes gets identical rewards (no GRPO gradient) when an episode of horizon
``h`` succeeds with probability ``q ** h``.

Everything is deterministic for a seed (episode pools, sampling, initialisation); bad input raises
ValueError.
"""

from __future__ import annotations

import ast
import difflib
import math
import numbers
import random
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any, Iterable, Sequence

import torch
from torch import Tensor

from coderl_lessons import grpo
from coderl_lessons.execution import CallTest, ExecutionResult, Test, run_many
from coderl_lessons.humaneval import HumanEvalTask, load_humaneval
from coderl_lessons.mutation import mutate_task

__all__ = [
    "Edit",
    "RepairTask",
    "Episode",
    "Feedback",
    "RepairEnv",
    "RepairPolicy",
    "Rollouts",
    "TrainResult",
    "HorizonResult",
    "SNRResult",
    "prepare_tasks",
    "edit_effects",
    "trial_and_error_policy",
    "compose",
    "features",
    "rollout",
    "train_agent",
    "evaluate",
    "success_vs_horizon",
    "cached_env",
    "discounted_returns",
    "turn_advantages",
    "snr_from_gradients",
    "gradient_snr",
    "zero_signal_probability",
    "blind_success_bound",
    "HISTORY_FEATURES",
    "CONTEXT_FEATURES",
    "FEEDBACK_FEATURES",
    "N_FEATURES",
]

#: What a candidate's history can be (one-hot); the last entry is the submit action.
HISTORY_FEATURES = ("just applied", "just undone", "applied earlier", "undone earlier", "untouched", "submit")
#: The turn's context; the entries from FEEDBACK_FEATURES on are zeroed without feedback.
CONTEXT_FEATURES = ("bias", "budget used", "last edit fixed a test", "last edit broke a test",
                    "last edit changed no test", "tests pass", "error", "wrong answer", "progress")
FEEDBACK_FEATURES = CONTEXT_FEATURES[2:]
N_FEATURES = len(HISTORY_FEATURES) * len(CONTEXT_FEATURES)

#: Default runner timeout. The programs here run in milliseconds (no ``while`` loops, mutants that
#: hit the limit are dropped), far from it, so that no verdict depends on the machine's load;
#: :attr:`RepairEnv.time_limits` counts any verdict that hit it anyway.
TIMEOUT = 3.0


def _check_int(value: object, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return value


def _check_kind(value: object, kind: type, name: str, how: str) -> Any:
    """``value`` if it is a ``kind``; else a TypeError that says how to make one (arguments
    passed in the wrong order are the usual cause)."""
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be a {kind.__name__} ({how}), got {type(value).__name__}")
    return value


def _check_episodes(episodes: object) -> list:
    if isinstance(episodes, Episode) or isinstance(episodes, (str, bytes)) or not isinstance(episodes, Iterable):
        raise TypeError(f"episodes must be a list of Episode (env.train_episodes, env.eval_episodes), "
                        f"got {type(episodes).__name__}")
    episodes = list(episodes)
    for e in episodes:
        _check_kind(e, Episode, "each episode", "from env.train_episodes or env.eval_episodes")
    return episodes


def _check_prob(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


# =============================================================================================
# Credit assignment: returns, turn-level advantages, gradient SNR, zero-signal groups
# =============================================================================================


def _check_rewards_mask(rewards: object, mask: object) -> tuple[Tensor, Tensor]:
    if not isinstance(rewards, Tensor) or rewards.dim() != 2:
        shape = tuple(rewards.shape) if isinstance(rewards, Tensor) else type(rewards).__name__
        raise ValueError(f"rewards must be a 2-D (episodes, turns) tensor, got {shape}")
    if not isinstance(mask, Tensor) or mask.shape != rewards.shape:
        shape = tuple(mask.shape) if isinstance(mask, Tensor) else type(mask).__name__
        raise ValueError(f"mask must be a tensor of the rewards' shape {tuple(rewards.shape)}, got {shape}")
    if mask.dtype != torch.bool:
        if not ((mask == 0) | (mask == 1)).all():
            raise ValueError("mask must hold only 0 and 1")
        mask = mask != 0
    if mask.shape[1] > 1 and (mask[:, 1:] & ~mask[:, :-1]).any():
        raise ValueError("mask rows must be prefixes: the turns of an episode, then padding (1...1 0...0)")
    if not rewards.is_floating_point():
        rewards = rewards.to(torch.get_default_dtype())
    return rewards, mask


def discounted_returns(rewards: Tensor, mask: Tensor, gamma: float = 1.0) -> Tensor:
    """Returns-to-go of each turn: G_t = sum_{j >= t} gamma^(j - t) r_j over the episode's turns.

    ``rewards`` and ``mask`` are (B, T): B episodes, up to T turns, ``mask`` 1 on the turns an
    episode took and 0 on padding (each row a prefix of ones). Padding is never read (it may hold
    nan) and its return is 0. ``gamma`` in [0, 1]: 0 gives G_t = r_t, 1 the undiscounted sum.
    """
    rewards, mask = _check_rewards_mask(rewards, mask)
    gamma = _check_prob(gamma, "gamma")
    r = torch.where(mask, rewards, torch.zeros_like(rewards))
    out = torch.zeros_like(r)
    running = torch.zeros_like(r[:, 0]) if r.shape[1] else None
    for t in range(r.shape[1] - 1, -1, -1):
        running = r[:, t] + gamma * running
        out[:, t] = running
    return torch.where(mask, out, torch.zeros_like(out))


def turn_advantages(rewards: Tensor, mask: Tensor, gamma: float = 1.0, group_size: int | None = None) -> Tensor:
    """Turn-level advantages: each turn's return-to-go minus the mean return-to-go at the same turn
    over the episodes of its group that reached that turn (a per-turn group baseline).

    Episodes are laid out in groups of ``group_size`` consecutive rows (default: the whole batch
    is one group), as :func:`coderl_lessons.grpo.group_advantages` lays them out. Padding gets 0,
    and so does a turn that only one episode of its group reached (its own return is its baseline).
    No division by a std: a Dr. GRPO-style advantage, so that the numbers stay interpretable.
    """
    returns = discounted_returns(rewards, mask, gamma)
    _, mask = _check_rewards_mask(rewards, mask)
    batch = returns.shape[0]
    if group_size is None:
        group_size = max(batch, 1)
    _check_int(group_size, "group_size", 1)
    if batch % group_size:
        raise ValueError(f"the batch of {batch} episodes is not a multiple of group_size {group_size}")
    if batch == 0:
        return returns.clone()
    g = returns.view(-1, group_size, returns.shape[1])
    m = mask.view(-1, group_size, mask.shape[1]).to(returns.dtype)
    baseline = (g * m).sum(dim=1, keepdim=True) / m.sum(dim=1, keepdim=True).clamp(min=1.0)
    adv = torch.where(m.bool(), g - baseline, torch.zeros_like(g))
    return adv.reshape(returns.shape)


def snr_from_gradients(grads: Tensor, batch_size: int = 1, unbiased: bool = False) -> float:
    """Signal-to-noise ratio of a gradient estimate that averages ``batch_size`` of these samples.

    ``grads`` is (N, D): N independent per-sample gradient vectors (here one per GRPO group). With
    g_bar their mean and v = sum_i ||g_i - g_bar||^2 / (N - 1) the trace of their sample covariance,

        SNR = ||g_bar||^2 / (v / batch_size)

    the squared length of the expected gradient over the expected squared error of a mean of
    ``batch_size`` samples. ``unbiased=True`` subtracts the noise that ||g_bar||^2 itself carries
    (E||g_bar||^2 = ||E g||^2 + v / N), clamped at 0, which matters when N is small and the signal
    weak. Conventions: v = 0 gives inf if the signal is positive, and 0 if the gradients are all
    zero (every group without signal): no signal at all. N >= 2 is required.
    """
    if not isinstance(grads, Tensor) or grads.dim() != 2 or grads.shape[0] < 2:
        shape = tuple(grads.shape) if isinstance(grads, Tensor) else type(grads).__name__
        raise ValueError(f"grads must be an (N, D) tensor with N >= 2 samples, got {shape}")
    _check_int(batch_size, "batch_size", 1)
    grads = grads.double()
    n = grads.shape[0]
    mean = grads.mean(dim=0)
    v = float(((grads - mean) ** 2).sum() / (n - 1))
    signal = float((mean**2).sum())
    if unbiased:
        signal = max(signal - v / n, 0.0)
    if v == 0.0:
        return math.inf if signal > 0 else 0.0
    return signal / (v / batch_size)


def zero_signal_probability(q: float, h: int, G: int) -> float:
    """P(a group of G episodes gets identical outcome rewards) when an episode of horizon ``h``
    succeeds with probability p_h = q^h (q: the chance of getting one step right, steps
    independent): P = p_h^G + (1 - p_h)^G. Such a group has zero GRPO advantage everywhere.

    h = 0 means nothing to get wrong (p = 1, P = 1); G = 1 is always all-equal (P = 1).
    """
    q = _check_prob(q, "q")
    _check_int(h, "h", 0)
    _check_int(G, "G", 1)
    return grpo.zero_signal_fraction(q**h, G)


def blind_success_bound(k: int, n_candidates: int) -> float:
    """The best success rate of an agent that cannot see feedback: 1 / C(M, k).

    The injected bugs are a uniformly random k-subset of the M candidates as far as a blind agent
    can tell, and the final program is the original only if the set of candidates it toggled an
    odd number of times is exactly that subset.
    """
    _check_int(k, "k", 0)
    _check_int(n_candidates, "n_candidates", k)
    return float(Fraction(1, math.comb(n_candidates, k)))  # exact, then rounded: no overflow for a huge C


# =============================================================================================
# Programs with composable edits
# =============================================================================================


@dataclass(frozen=True)
class Edit:
    """Replace lines ``start:end`` (0-based, end exclusive) of the original program by ``text``."""

    start: int
    end: int
    text: str
    operator: str
    description: str

    def __post_init__(self) -> None:
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in (self.start, self.end)) \
                or not 0 <= self.start < self.end:
            raise ValueError(f"an Edit needs line numbers 0 <= start < end, got {self.start!r} and {self.end!r}")
        if not isinstance(self.text, str):
            raise TypeError(f"Edit.text must be a str, got {type(self.text).__name__}")

    def overlaps(self, other: "Edit") -> bool:
        return self.start < other.end and other.start < self.end


def _edit_from_mutant(original: str, mutant: str, operator: str, description: str) -> Edit | None:
    """The mutant as one contiguous line replacement of the original, or None if it is not one."""
    a = original.splitlines(keepends=True)
    b = mutant.splitlines(keepends=True)
    blocks = [op for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if op[0] != "equal"]
    if len(blocks) != 1:
        return None
    _, i1, i2, j1, j2 = blocks[0]
    if i1 == i2:  # a pure insertion has no place of its own: it cannot be kept apart from others
        return None
    text = "".join(b[j1:j2])
    if not text.strip():
        # A dropped statement becomes `pass` at its indentation: two drops in one block would
        # otherwise leave the block empty, and every composition must stay a valid program.
        line = a[i1]
        text = line[: len(line) - len(line.lstrip())] + "pass\n"
    return Edit(i1, i2, text, operator, description)


def compose(original: str, edits: Iterable[Edit]) -> str:
    """The original program with every edit applied; the edits must not overlap."""
    if not isinstance(original, str):
        raise TypeError(f"original must be a program's source (str), got {type(original).__name__}")
    if isinstance(edits, Edit) or not isinstance(edits, Iterable):
        raise TypeError(f"edits must be a list of Edit, got {type(edits).__name__}")
    chosen = sorted(edits, key=lambda e: e.start)
    for first, second in zip(chosen, chosen[1:]):
        if first.overlaps(second):
            raise ValueError(f"edits overlap: lines {first.start}-{first.end} and {second.start}-{second.end}")
    lines = original.splitlines(keepends=True)
    out: list[str] = []
    at = 0
    for edit in chosen:
        if edit.end > len(lines):
            raise ValueError(f"edit of lines {edit.start}-{edit.end} is past the program's {len(lines)} lines")
        out.extend(lines[at:edit.start])
        out.append(edit.text)
        at = edit.end
    out.extend(lines[at:])
    return "".join(out)


@dataclass(frozen=True)
class RepairTask:
    """A HumanEval task prepared for repair: its program, its usable mutations (each alone fails
    HumanEval's check; all at pairwise disjoint lines) and its tests: first the *feedback tests*
    (the docstring's visible examples and every ``assert candidate(...) == ...`` of HumanEval's
    check with literal arguments, as separate call tests, so that the runner says which of them
    pass), then HumanEval's check itself, whose verdict is the reward."""

    task_id: str
    program: str
    tests: tuple[Test, ...]
    edits: tuple[Edit, ...]

    @property
    def n_feedback(self) -> int:
        return len(self.tests) - 1


def _check_call_tests(task: HumanEvalTask) -> list[CallTest]:
    """HumanEval's ``assert candidate(<literals>) == <literal>`` lines as call tests (others skipped)."""
    try:
        tree = ast.parse(task.test)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        test = node.test if isinstance(node, ast.Assert) else None
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
            continue
        call = test.left
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "candidate"
                and not call.keywords):
            continue
        try:
            args = tuple(ast.literal_eval(a) for a in call.args)
            expected = ast.literal_eval(test.comparators[0])
            found.append(CallTest(task.entry_point, args, expected))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
    return found


def _feedback_tests(task: HumanEvalTask) -> tuple[CallTest, ...]:
    unique: dict[str, CallTest] = {}
    for test in (*task.visible_tests, *_check_call_tests(task)):
        unique.setdefault(repr((test.args, test.expected)), test)
    return tuple(unique.values())


def _loop_depth(source: str) -> int:
    """The deepest nesting of loops (for, while, comprehensions) in ``source``."""
    loops = (ast.For, ast.AsyncFor, ast.While, ast.comprehension)

    def depth(node: ast.AST) -> int:
        inner = max((depth(child) for child in ast.iter_child_nodes(node)), default=0)
        return inner + isinstance(node, loops)

    return depth(ast.parse(source))


def _code_lines(task: HumanEvalTask) -> int:
    """Lines of the canonical solution that hold code: an upper bound on its disjoint edits."""
    return sum(1 for line in task.canonical_solution.splitlines() if line.strip() and not line.strip().startswith("#"))


def _max_disjoint(edits: Sequence[Edit]) -> int:
    end, n = -1, 0
    for edit in sorted(edits, key=lambda e: e.end):
        if edit.start >= end:
            n, end = n + 1, edit.end
    return n


@lru_cache(maxsize=8)
def prepare_tasks(n_tasks: int = 20, min_edits: int = 8, spare: int = 3, min_tests: int = 3, seed: int = 0,
                  timeout: float = TIMEOUT) -> tuple[RepairTask, ...]:
    """The first ``n_tasks`` HumanEval tasks (in task order) that make good repair tasks.

    A task is considered if its canonical solution has no ``while`` loop (a mutated loop condition
    could hang, and a verdict at the time limit depends on the machine's load), no loops nested
    three deep (HumanEval/75's triple loop runs for seconds once mutants drop its ``continue``
    filters), at least ``min_edits`` lines of code and at least ``min_tests`` feedback tests (see
    :class:`RepairTask`). Its mutants from ``mutate_task(task, seed)`` that are one contiguous line
    replacement are shuffled (with ``seed``) and picked greedily at pairwise disjoint line ranges,
    up to ``min_edits + spare`` of them. The canonical program and each picked mutation alone are
    run in the sandbox (batched); a mutation is usable if the program with it fails HumanEval's
    check without hitting the time or memory limit, and the task qualifies if its canonical program
    passes every test and at least ``min_edits`` mutations are usable. There is no filter on
    measured run times: those depend on the machine's load, and the choice of tasks must not. All
    edits of a task are pairwise disjoint, so any subset composes. Cached per arguments.
    """
    _check_int(n_tasks, "n_tasks", 1)
    _check_int(min_edits, "min_edits", 2)
    _check_int(spare, "spare", 0)
    _check_int(min_tests, "min_tests", 1)
    _check_int(seed, "seed", 0)
    chosen: list[RepairTask] = []
    candidates = [t for t in load_humaneval() if "while" not in t.canonical_solution and _loop_depth(t.program) < 3
                  and _code_lines(t) >= min_edits and len(_feedback_tests(t)) >= min_tests]
    chunk = 16
    for at in range(0, len(candidates), chunk):
        plans = []
        for task in candidates[at:at + chunk]:
            edits = []
            for mutant in mutate_task(task, seed=seed):
                edit = _edit_from_mutant(task.program, mutant.source, mutant.operator, mutant.description)
                if edit is not None:
                    edits.append(edit)
            random.Random(f"prepare:{seed}:{task.task_id}").shuffle(edits)
            picked: list[Edit] = []
            for edit in edits:
                if not any(edit.overlaps(p) for p in picked):
                    picked.append(edit)
                    if len(picked) == min_edits + spare:
                        break
            if len(picked) >= min_edits:
                plans.append((task, sorted(picked, key=lambda e: e.start)))
        jobs = []
        for task, picked in plans:
            tests = _feedback_tests(task) + tuple(task.full_tests)
            jobs.append((task.program, tests))
            jobs.extend((compose(task.program, [e]), tests) for e in picked)
        results = run_many(jobs, timeout=timeout) if jobs else []
        at_job = 0
        for task, picked in plans:
            tests = _feedback_tests(task) + tuple(task.full_tests)
            canonical, mine = results[at_job], results[at_job + 1: at_job + 1 + len(picked)]
            at_job += 1 + len(picked)
            if not canonical.passed:  # every feedback test passes too
                continue
            usable = tuple(
                e for e, r in zip(picked, mine)
                if r.tests and r.tests[-1].status != "passed" and r.stage in ("ran", "load_error")
                and not any(o.status in ("time_limit", "memory_limit") for o in r.tests)
            )
            if len(usable) < min_edits:
                continue
            chosen.append(RepairTask(task.task_id, task.program, tests, usable))
            if len(chosen) == n_tasks:
                return tuple(chosen)
    if not chosen:
        raise ValueError(f"no HumanEval task has {min_edits} usable disjoint mutations")
    return tuple(chosen)


# =============================================================================================
# Episodes, feedback and the environment
# =============================================================================================


@dataclass(frozen=True)
class Episode:
    """One repair problem: a program with k bugs and M candidate edits (bug reverts and decoys).

    ``toggled`` (a set of candidate indices, each toggled an odd number of times) fixes the
    program: candidate j's mutation is present iff ``is_bug[j] != (j in toggled)``. ``is_bug`` is
    the environment's secret; the agent never sees it.
    """

    task_id: str
    original: str
    candidates: tuple[Edit, ...]
    is_bug: tuple[bool, ...]
    turns: int

    @property
    def k(self) -> int:
        return sum(self.is_bug)

    @property
    def n_candidates(self) -> int:
        return len(self.candidates)

    def toggled_set(self, toggled: Iterable[int]) -> frozenset[int]:
        """``toggled`` as a set of this episode's candidate indices, checked (an index out of range
        would otherwise be ignored without a word)."""
        if isinstance(toggled, (str, bytes)) or not isinstance(toggled, Iterable):
            raise TypeError(f"toggled must be a set of candidate indices, got {toggled!r}")
        toggled = frozenset(toggled)
        if not all(isinstance(j, int) and not isinstance(j, bool) and 0 <= j < self.n_candidates for j in toggled):
            raise ValueError(f"toggled must hold candidate indices in 0..{self.n_candidates - 1}, "
                             f"got {sorted(toggled, key=repr)}")
        return toggled

    def present(self, toggled: Iterable[int]) -> tuple[Edit, ...]:
        toggled = self.toggled_set(toggled)
        return tuple(e for j, e in enumerate(self.candidates) if self.is_bug[j] != (j in toggled))

    def program(self, toggled: Iterable[int] = ()) -> str:
        return compose(self.original, self.present(toggled))

    @property
    def buggy_program(self) -> str:
        return self.program(())


@dataclass(frozen=True)
class Feedback:
    """What the runner says about one program, summarised for the agent (and for people).

    ``kind``: "passed" (HumanEval's check passes: reward 1), "error" (did not compile or load, or
    the first failing test raised or timed out), "wrong_answer"; ``compiled``: the program parsed
    (every composition of an episode's edits does). ``passing``: the indices of the
    feedback tests that pass; ``progress`` in [0, 1]: their share; ``first_failure``: the index of
    the first failing test (the check counts as the last one), None when all pass; ``message``:
    the first failure in words.
    """

    passed: bool
    kind: str
    compiled: bool
    passing: frozenset[int]
    first_failure: int | None
    progress: float
    message: str


def _summarise(result: ExecutionResult, task: RepairTask) -> Feedback:
    statuses = [t.status for t in result.tests] or ["not_run"] * len(task.tests)
    check = result.tests[-1] if result.tests else None
    passed = result.stage == "ran" and check is not None and check.status == "passed"
    passing = frozenset(i for i, s in enumerate(statuses[:-1]) if s == "passed" and result.stage == "ran")
    progress = len(passing) / task.n_feedback
    first = next((i for i, s in enumerate(statuses) if s != "passed"), None)
    if passed:
        kind, message = "passed", "all tests pass"
    elif result.stage != "ran":
        kind, message = "error", f"{result.stage}: {result.error_type or ''} {result.message or ''}".strip()
    else:
        failing = result.tests[first] if first is not None else None
        if failing is None or failing.status in ("error", "time_limit", "memory_limit", "not_run"):
            kind = "error"
            message = f"test {first}: {failing.error_type if failing else ''}: {failing.message if failing else ''}"
        else:
            kind = "wrong_answer"
            message = f"test {first}: expected {failing.expected}, got {failing.got}"
    return Feedback(passed, kind, result.stage != "syntax_error", passing, first, round(progress, 6), message[:200])


class RepairEnv:
    """Repair episodes of one horizon ``k``: a training pool and a held-out evaluation pool.

    ``decoys_per_bug`` decoys per bug (M = k * (1 + decoys_per_bug) candidates) and an edit
    budget of ``turns_per_bug * k`` turns. Episodes are drawn from ``tasks`` (default:
    :func:`prepare_tasks`) with ``seed``: a task, then k + d of its usable edits at disjoint lines,
    k of them (at random) injected as bugs. An episode is kept only if the buggy program parses
    and fails HumanEval's check (the runner checks the proposals in one batch). Training and
    evaluation episodes are drawn from the same tasks but are different episodes.

    :meth:`feedback` / :meth:`feedback_many` run programs (batched, cached per environment);
    ``runs`` counts the programs actually sent to the runner and ``time_limits`` the verdicts that
    hit the time limit (0 in every run of the lesson: such a verdict could depend on the load).
    """

    def __init__(self, k: int, *, n_train: int = 24, n_eval: int = 24, decoys_per_bug: int = 1,
                 turns_per_bug: int = 3, seed: int = 0, tasks: Sequence[RepairTask] | None = None,
                 timeout: float = TIMEOUT) -> None:
        self.k = _check_int(k, "k", 1)
        _check_int(n_train, "n_train", 1)
        _check_int(n_eval, "n_eval", 1)
        self.decoys_per_bug = _check_int(decoys_per_bug, "decoys_per_bug", 0)
        self.turns_per_bug = _check_int(turns_per_bug, "turns_per_bug", 1)
        _check_int(seed, "seed", 0)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.timeout = float(timeout)
        self.tasks = tuple(prepare_tasks() if tasks is None else tasks)
        for task in self.tasks:
            _check_kind(task, RepairTask, "each task", "from prepare_tasks()")
        self.n_candidates = k * (1 + decoys_per_bug)
        self.turns = turns_per_bug * k
        self._by_id = {t.task_id: t for t in self.tasks}
        usable = [t for t in self.tasks if _max_disjoint(t.edits) >= self.n_candidates]
        if not usable:
            raise ValueError(f"no task has {self.n_candidates} disjoint usable edits for k={k}; "
                             f"lower k or decoys_per_bug, or prepare tasks with larger min_edits")
        self.usable_tasks = tuple(usable)
        self._feedback: dict[tuple[str, str], Feedback] = {}
        self.runs = 0  # programs sent to the runner by this environment (cache misses of its own)
        self.time_limits = 0  # verdicts that hit the time limit (should stay 0: they could depend on load)
        rng = random.Random(f"repair-env:{seed}:{k}:{decoys_per_bug}:{turns_per_bug}")
        pool = self._draw(n_train + n_eval, rng)
        self.train_episodes = tuple(pool[:n_train])
        self.eval_episodes = tuple(pool[n_train:])

    # -- episodes -------------------------------------------------------------------------------

    def _sample(self, task: RepairTask, rng: random.Random) -> Episode | None:
        edits = list(task.edits)
        rng.shuffle(edits)
        picked: list[Edit] = []
        for edit in edits:
            if not any(edit.overlaps(p) for p in picked):
                picked.append(edit)
                if len(picked) == self.n_candidates:
                    break
        if len(picked) < self.n_candidates:
            return None
        roles = [True] * self.k + [False] * (self.n_candidates - self.k)
        rng.shuffle(roles)
        return Episode(task.task_id, task.program, tuple(picked), tuple(roles), self.turns)

    def _draw(self, n: int, rng: random.Random) -> list[Episode]:
        kept: list[Episode] = []
        seen: set[tuple] = set()
        for _ in range(50):
            proposals = []
            for _ in range(2 * (n - len(kept)) + 4):
                episode = self._sample(rng.choice(self.usable_tasks), rng)
                if episode is None:
                    continue
                key = (episode.task_id, frozenset(e for e, b in zip(episode.candidates, episode.is_bug) if b),
                       frozenset(episode.candidates))
                if key not in seen:
                    seen.add(key)
                    proposals.append(episode)
            verdicts = self.feedback_many([(e, frozenset()) for e in proposals])
            for episode, verdict in zip(proposals, verdicts):
                if not verdict.passed and verdict.compiled and len(kept) < n:
                    kept.append(episode)
            if len(kept) == n:
                return kept
        raise ValueError(f"could not draw {n} distinct failing episodes with k={self.k}; lower n_train/n_eval")

    # -- the runner -----------------------------------------------------------------------------

    def feedback_many(self, states: Sequence[tuple[Episode, frozenset[int]]]) -> list[Feedback]:
        """The runner's verdict on each (episode, toggled set), in one batched, cached run."""
        keys = []
        todo: dict[tuple[str, str], tuple[RepairTask, str]] = {}
        if not all(isinstance(state, tuple) and len(state) == 2 for state in states):
            raise TypeError("states must be (episode, toggled) pairs, e.g. [(episode, frozenset({0}))]")
        for episode, toggled in states:
            _check_kind(episode, Episode, "each state's episode", "from env.train_episodes or env.eval_episodes")
            program = episode.program(toggled)
            key = (episode.task_id, program)
            keys.append(key)
            if key not in self._feedback and key not in todo:
                todo[key] = (self._by_id[episode.task_id], program)
        if todo:
            items = list(todo.items())
            results = run_many([(program, task.tests) for _, (task, program) in items], timeout=self.timeout)
            self.runs += len(items)
            for (key, (task, _)), result in zip(items, results):
                self._feedback[key] = _summarise(result, task)
                if result.stage == "time_limit" or any(t.status == "time_limit" for t in result.tests):
                    self.time_limits += 1
        return [self._feedback[key] for key in keys]

    def feedback(self, episode: Episode, toggled: Iterable[int] = ()) -> Feedback:
        return self.feedback_many([(episode, toggled)])[0]  # which checks the episode and toggled set


def edit_effects(env: RepairEnv, episodes: Sequence[Episode] | None = None) -> dict[str, dict[str, int]]:
    """What the runner shows when one candidate is toggled on the buggy program, by role.

    For every candidate of every episode (default: the evaluation episodes), compares the feedback
    tests that pass before and after: "fixed" (some test newly passes, none newly fails), "broke"
    (the reverse), "both", or "none" (no feedback test changes). Returns
    ``{"bug revert": {...}, "decoy": {...}}`` with the counts. A bug revert that shows "none" is
    masked by another bug: feedback cannot tell it from a harmless edit.
    """
    _check_kind(env, RepairEnv, "env", "RepairEnv(k)")
    episodes = env.eval_episodes if episodes is None else _check_episodes(episodes)
    states = [(e, frozenset()) for e in episodes]
    states += [(e, frozenset({j})) for e in episodes for j in range(e.n_candidates)]
    verdicts = env.feedback_many(states)
    before = dict(zip(episodes, verdicts[: len(episodes)]))
    counts = {"bug revert": dict.fromkeys(("fixed", "broke", "both", "none"), 0),
              "decoy": dict.fromkeys(("fixed", "broke", "both", "none"), 0)}
    for (episode, toggled), after in zip(states[len(episodes):], verdicts[len(episodes):]):
        start = before[episode]
        fixed = bool(after.passing - start.passing) or (after.passed and not start.passed)
        broke = bool(start.passing - after.passing)
        effect = "both" if fixed and broke else "fixed" if fixed else "broke" if broke else "none"
        (j,) = toggled
        counts["bug revert" if episode.is_bug[j] else "decoy"][effect] += 1
    return counts


# =============================================================================================
# The policy and its features
# =============================================================================================


def features(counts: Sequence[int], last: int | None, turn: int, turns: int, fb: Feedback | None,
             before: Feedback | None) -> Tensor:
    """The (M + 1, N_FEATURES) feature matrix of one decision: one row per candidate, then submit.

    Row j is the outer product of candidate j's history one-hot (``HISTORY_FEATURES``) with the
    turn's context (``CONTEXT_FEATURES``). ``counts[j]``: how often candidate j was toggled so
    far; ``last``: the candidate toggled at the previous turn; ``fb``: the runner's verdict on the
    current program, None without feedback (its features are then 0); ``before``: the verdict
    before the last edit (None at the first turn), compared with ``fb`` test by test.
    """
    _check_int(turns, "turns", 1)
    for name, verdict in (("fb", fb), ("before", before)):
        if verdict is not None:
            _check_kind(verdict, Feedback, name, "env.feedback(...), or None")
    m = len(counts)
    history = torch.zeros(m + 1, len(HISTORY_FEATURES))
    for j, count in enumerate(counts):
        if j == last:
            history[j, 0 if count % 2 else 1] = 1.0
        elif count == 0:
            history[j, 4] = 1.0
        else:
            history[j, 2 if count % 2 else 3] = 1.0
    history[m, 5] = 1.0
    context = torch.zeros(len(CONTEXT_FEATURES))
    context[0] = 1.0
    context[1] = turn / turns
    if fb is not None:
        if before is not None:
            fixed = bool(fb.passing - before.passing) or (fb.passed and not before.passed)
            broke = bool(before.passing - fb.passing) or (before.passed and not fb.passed)
            context[2], context[3], context[4] = float(fixed), float(broke), float(not fixed and not broke)
        context[5] = float(fb.kind == "passed")
        context[6] = float(fb.kind == "error")
        context[7] = float(fb.kind == "wrong_answer")
        context[8] = fb.progress
    return (history.unsqueeze(2) * context.unsqueeze(0)).reshape(m + 1, N_FEATURES)


class RepairPolicy(torch.nn.Module):
    """Logits over the candidates (and submit) from their features: linear, or an MLP with
    ``hidden`` units. The output layer starts at zero, so the untrained policy is uniform."""

    def __init__(self, hidden: int = 0, seed: int = 0) -> None:
        super().__init__()
        _check_int(hidden, "hidden", 0)
        _check_int(seed, "seed", 0)
        generator = torch.Generator().manual_seed(seed)
        if hidden:
            first = torch.nn.Linear(N_FEATURES, hidden)
            with torch.no_grad():
                first.weight.copy_(torch.randn(hidden, N_FEATURES, generator=generator) / math.sqrt(N_FEATURES))
                first.bias.zero_()
            last = torch.nn.Linear(hidden, 1, bias=False)
            torch.nn.init.zeros_(last.weight)
            self.net: torch.nn.Module = torch.nn.Sequential(first, torch.nn.Tanh(), last)
        else:
            self.net = torch.nn.Linear(N_FEATURES, 1, bias=False)
            torch.nn.init.zeros_(self.net.weight)

    def forward(self, phi: Tensor) -> Tensor:
        return self.net(phi).squeeze(-1)


def trial_and_error_policy(undo_unchanged: bool = True, margin: float = 5.0) -> RepairPolicy:
    """A hand-set linear policy that uses feedback the way a careful programmer would.

    Submit when the tests pass; otherwise try an untouched candidate; if the last edit broke a
    test (or, with ``undo_unchanged``, changed none), undo it; never retry an undone edit. It is
    written with the same features the learner gets, so its success rate is a reference for what
    this feedback can buy, not a bound.
    """
    if isinstance(margin, bool) or not isinstance(margin, numbers.Real) or not 0 < margin < math.inf:
        raise ValueError(f"margin must be a positive number, got {margin!r}")
    w = torch.zeros(len(HISTORY_FEATURES), len(CONTEXT_FEATURES))
    h, c = HISTORY_FEATURES.index, CONTEXT_FEATURES.index
    w[h("submit"), c("tests pass")] = 4 * margin
    w[h("untouched"), c("bias")] = margin
    w[h("just applied"), c("bias")] = -margin
    w[h("just applied"), c("last edit broke a test")] = 3 * margin
    w[h("just applied"), c("last edit fixed a test")] = -3 * margin
    if undo_unchanged:
        w[h("just applied"), c("last edit changed no test")] = 3 * margin
    w[h("just undone"), c("bias")] = -margin
    w[h("undone earlier"), c("bias")] = -margin
    w[h("applied earlier"), c("bias")] = -0.6 * margin
    policy = RepairPolicy()
    with torch.no_grad():
        policy.net.weight.copy_(w.reshape(1, -1))
    return policy


# =============================================================================================
# Rollouts
# =============================================================================================


@dataclass
class Rollouts:
    """A batch of finished episodes. Tensors are (B, T + 1): one column per decision, the last
    possible one being the forced end. ``phi`` is (B, T + 1, M + 1, N_FEATURES), ``actions`` the
    chosen indices (M = submit), ``logp`` their log-probabilities when sampled, ``mask`` the
    decisions taken, ``rewards`` per-turn rewards (see :func:`rollout`), ``success`` (B,)."""

    phi: Tensor
    actions: Tensor
    logp: Tensor
    mask: Tensor
    rewards: Tensor
    success: Tensor
    edits: int
    final: list[Feedback] = field(default_factory=list)


def rollout(policy: RepairPolicy, env: RepairEnv, episodes: Sequence[Episode], *, feedback: bool = True,
            temperature: float = 0.6, generator: torch.Generator | None = None, reward: str = "outcome",
            gamma: float = 1.0) -> Rollouts:
    """Play ``episodes`` (one rollout each, all in lockstep) with ``policy``; return the batch.

    Each turn the policy picks a candidate to toggle or submits; after an edit the program is run
    (batched over the episodes in flight) when the agent sees feedback or the reward needs it.
    ``reward="outcome"``: 1 at the last decision if the final program passes HumanEval's check,
    else 0 (the reward GRPO+ uses). ``reward="progress"``: that, plus gamma * progress' - progress
    at every edit (potential-based shaping with the runner's progress score as potential).
    """
    _check_kind(policy, RepairPolicy, "policy", "RepairPolicy(), or a trained one")
    _check_kind(env, RepairEnv, "env", "RepairEnv(k)")
    if generator is not None:
        _check_kind(generator, torch.Generator, "generator", "torch.Generator().manual_seed(seed), or None")
    episodes = _check_episodes(episodes)
    if reward not in ("outcome", "progress"):
        raise ValueError(f"reward must be 'outcome' or 'progress', got {reward!r}")
    if not episodes:
        raise ValueError("rollout needs at least one episode")
    if not (isinstance(temperature, (int, float)) and temperature > 0):
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    gamma = _check_prob(gamma, "gamma")
    m, turns = env.n_candidates, env.turns
    if any(e.n_candidates != m or e.turns != turns for e in episodes):
        raise ValueError("every episode must come from this environment (same candidates and turns)")
    b = len(episodes)
    need_runs = feedback or reward == "progress"
    phi = torch.zeros(b, turns + 1, m + 1, N_FEATURES)
    actions = torch.zeros(b, turns + 1, dtype=torch.long)
    logp = torch.zeros(b, turns + 1)
    mask = torch.zeros(b, turns + 1, dtype=torch.bool)
    rewards = torch.zeros(b, turns + 1)
    counts = [[0] * m for _ in range(b)]
    last: list[int | None] = [None] * b
    toggled: list[set[int]] = [set() for _ in range(b)]
    done = [False] * b
    current = env.feedback_many([(e, frozenset()) for e in episodes]) if need_runs else [None] * b
    previous: list[Feedback | None] = [None] * b
    edits = 0
    for t in range(turns + 1):
        active = [i for i in range(b) if not done[i]]
        if not active:
            break
        rows = torch.stack([features(counts[i], last[i], t, turns, current[i] if feedback else None,
                                     previous[i] if feedback else None) for i in active])
        phi[active, t] = rows
        with torch.no_grad():
            logits = policy(rows) / temperature
            if t == turns:  # out of edits: the only action left is to submit
                logits[:, :m] = -math.inf
            logp_all = torch.log_softmax(logits, dim=-1)
            picks = torch.multinomial(logp_all.exp(), 1, generator=generator).squeeze(1)
            chosen_logp = logp_all.gather(1, picks.unsqueeze(1)).squeeze(1)
        moved = []
        for row, i in enumerate(active):
            a = int(picks[row])
            actions[i, t], logp[i, t], mask[i, t] = a, chosen_logp[row], True
            if a == m:
                done[i] = True
            else:
                counts[i][a] += 1
                toggled[i] ^= {a}
                last[i] = a
                moved.append(i)
                edits += 1
        if moved and need_runs:
            verdicts = env.feedback_many([(episodes[i], frozenset(toggled[i])) for i in moved])
            for i, fb in zip(moved, verdicts):
                old = current[i]
                previous[i] = old
                if reward == "progress" and old is not None:
                    rewards[i, t] += gamma * fb.progress - old.progress
                current[i] = fb
    finals = env.feedback_many([(e, frozenset(s)) for e, s in zip(episodes, toggled)])
    success = torch.tensor([float(f.passed) for f in finals])
    lengths = mask.sum(dim=1)
    rewards[torch.arange(b), lengths - 1] += success
    return Rollouts(phi, actions, logp, mask, rewards, success, edits, finals)


def _logp_of(policy: RepairPolicy, batch: Rollouts, temperature: float, turns: int) -> Tensor:
    logits = policy(batch.phi) / temperature  # (B, T + 1, M + 1)
    m = logits.shape[-1] - 1
    forced = torch.zeros_like(logits, dtype=torch.bool)
    forced[:, turns, :m] = True
    logits = logits.masked_fill(forced, -math.inf)
    logp_all = torch.log_softmax(logits, dim=-1)
    chosen = logp_all.gather(-1, batch.actions.unsqueeze(-1)).squeeze(-1)
    return torch.where(batch.mask, chosen, torch.zeros_like(chosen))


# =============================================================================================
# Training and evaluation
# =============================================================================================


@dataclass
class TrainResult:
    """A trained policy, what training cost (episodes and edits sampled) and its history per step:
    training success rate, share of zero-signal groups, loss and clip fraction."""

    policy: RepairPolicy
    episodes: int
    edits: int
    history: list[dict[str, float]]


def _advantages(batch: Rollouts, group_size: int, config: grpo.GRPOConfig, reward: str, gamma: float) -> Tensor:
    if reward == "outcome":
        per_episode = grpo.group_advantages(batch.success, group_size, scale=config.scale)
        return per_episode.unsqueeze(1).expand_as(batch.logp)
    return turn_advantages(batch.rewards, batch.mask, gamma, group_size)


def train_agent(env: RepairEnv, *, budget: int = 256, feedback: bool = True, seed: int = 0,
                preset: str = "grpo_plus", group_size: int | None = None, groups_per_step: int = 4,
                lr: float = 0.1, updates_per_batch: int = 1, hidden: int = 0, reward: str = "outcome",
                gamma: float = 1.0, policy: RepairPolicy | None = None) -> TrainResult:
    """Train a :class:`RepairPolicy` on ``env``'s training episodes with GRPO (preset ``preset``).

    Each step draws ``groups_per_step`` training episodes, plays each ``group_size`` times (the
    preset's group size, 8 for GRPO+), computes advantages (outcome reward: the group-normalised
    advantage of :func:`coderl_lessons.grpo.group_advantages` for every decision of the episode;
    ``reward="progress"``: :func:`turn_advantages`), and takes ``updates_per_batch`` Adam steps on
    :func:`coderl_lessons.grpo.policy_loss` with the preset's clip range, KL weight, loss type and
    temperature. ``budget`` is the number of training episodes (rollouts) sampled in all; it must
    be a multiple of ``groups_per_step * group_size``.
    """
    _check_kind(env, RepairEnv, "env", "RepairEnv(k)")
    if policy is not None:
        _check_kind(policy, RepairPolicy, "policy", "RepairPolicy(), or a trained one")
    config = grpo.preset(preset)
    if config.beta > 0:
        raise ValueError(f"preset {preset!r} has a KL term (beta={config.beta}); this trainer keeps no reference "
                         "policy: use 'grpo_plus', 'dapo' or 'dr_grpo'")
    group_size = config.group_size if group_size is None else group_size
    _check_int(group_size or 0, "group_size", 2)  # a group of one has no relative advantage
    _check_int(groups_per_step, "groups_per_step", 1)
    _check_int(budget, "budget", 0)
    _check_int(updates_per_batch, "updates_per_batch", 1)
    _check_int(seed, "seed", 0)
    if reward not in ("outcome", "progress"):
        raise ValueError(f"reward must be 'outcome' or 'progress', got {reward!r}")
    if not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"lr must be > 0, got {lr!r}")
    per_step = groups_per_step * group_size
    if budget % per_step:
        raise ValueError(f"budget {budget} must be a multiple of groups_per_step * group_size = {per_step}")
    temperature = config.temperature or 1.0
    policy = RepairPolicy(hidden=hidden, seed=seed) if policy is None else policy
    optimiser = torch.optim.Adam(policy.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    rng = random.Random(f"train:{seed}")
    history: list[dict[str, float]] = []
    edits = 0
    for step in range(budget // per_step):
        chosen = [rng.choice(env.train_episodes) for _ in range(groups_per_step)]
        episodes = [e for e in chosen for _ in range(group_size)]
        batch = rollout(policy, env, episodes, feedback=feedback, temperature=temperature, generator=generator,
                        reward=reward, gamma=gamma)
        edits += batch.edits
        adv = _advantages(batch, group_size, config, reward, gamma)
        flat_mask = batch.mask.reshape(-1, 1)
        old = batch.logp.reshape(-1, 1)
        diag: dict[str, float] = {}
        loss = torch.zeros(())
        for _ in range(updates_per_batch):
            new = _logp_of(policy, batch, temperature, env.turns).reshape(-1, 1)
            loss, diag = grpo.policy_loss(new, old, adv.reshape(-1), flat_mask, eps_low=config.eps_low,
                                          eps_high=config.eps_high, loss_type=config.loss_type)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        groups = batch.success.view(-1, group_size)
        zero = ((groups == groups[:, :1]).all(dim=1)).float().mean().item()
        history.append({"step": float(step), "success": batch.success.mean().item(), "zero_signal_groups": zero,
                        "loss": float(loss.item()), "clip_frac": diag.get("clip_frac", 0.0)})
    return TrainResult(policy, budget, edits, history)


def evaluate(policy: RepairPolicy, env: RepairEnv, *, feedback: bool = True, attempts: int = 4, seed: int = 0,
             temperature: float = 0.6, episodes: Sequence[Episode] | None = None) -> float:
    """Success rate of ``policy`` on ``env``'s held-out episodes (each played ``attempts`` times)."""
    _check_kind(policy, RepairPolicy, "policy", "RepairPolicy(), or a trained one")
    _check_kind(env, RepairEnv, "env", "RepairEnv(k)")
    _check_int(attempts, "attempts", 1)
    _check_int(seed, "seed", 0)
    episodes = env.eval_episodes if episodes is None else _check_episodes(episodes)
    generator = torch.Generator().manual_seed(seed + 10_007)
    batch = rollout(policy, env, [e for e in episodes for _ in range(attempts)], feedback=feedback,
                    temperature=temperature, generator=generator)
    return batch.success.mean().item()


@dataclass
class HorizonResult:
    """Success rate against horizon: ``success[h][s]`` for horizon ``horizons[h]`` and seed
    ``seeds[s]`` after training on ``budget`` episodes; ``untrained`` the same before training;
    ``zero_signal`` the share of training groups with identical rewards; ``edits`` the edits
    sampled in training; ``turns`` the edit budget T(k) of an episode."""

    horizons: tuple[int, ...]
    seeds: tuple[int, ...]
    budget: int
    feedback: bool
    success: list[list[float]]
    untrained: list[list[float]]
    zero_signal: list[list[float]]
    edits: list[list[int]]
    turns: tuple[int, ...]
    n_candidates: tuple[int, ...]

    @staticmethod
    def _stats(rows: list[list[float]]) -> tuple[list[float], list[float]]:
        means = [sum(r) / len(r) for r in rows]
        stds = [math.sqrt(sum((x - mu) ** 2 for x in r) / (len(r) - 1)) if len(r) > 1 else 0.0
                for r, mu in zip(rows, means)]
        return means, stds

    @property
    def mean(self) -> list[float]:
        return self._stats(self.success)[0]

    @property
    def std(self) -> list[float]:
        """Sample std over seeds (0 with one seed)."""
        return self._stats(self.success)[1]


_ENVS: dict[tuple, RepairEnv] = {}


def cached_env(k: int, seed: int = 0, **options) -> RepairEnv:
    """``RepairEnv(k, seed=seed, **options)``, built once per process and reused, so that its
    runner verdicts are shared by everything that asks for the same environment."""
    # Task tuples hold unhashable tests: key them by identity (the cached env keeps them alive).
    key = (k, seed, tuple(sorted((name, id(v) if name == "tasks" else v) for name, v in options.items())))
    if key not in _ENVS:
        _ENVS[key] = RepairEnv(k, seed=seed, **options)
    return _ENVS[key]


def success_vs_horizon(horizons: Sequence[int], budget: int = 256, seeds: Sequence[int] = (0, 1, 2), *,
                       feedback: bool = True, env_seed: int | None = None, attempts: int = 4,
                       env_options: dict | None = None, **train_options) -> HorizonResult:
    """Train a fresh agent per horizon k and seed on ``budget`` training episodes; measure success.

    The *sample budget* is the same for every horizon: ``budget`` episodes (rollouts) sampled in
    training, each of up to ``T(k) = turns_per_bug * k`` edits (so a longer horizon gets more edits
    but not more episodes, i.e. not more outcome rewards). Success is measured on the held-out
    episodes of ``RepairEnv(k, seed=...)``, ``attempts`` sampled attempts each. With ``env_seed``
    None the episode pools are drawn with the training seed (error bars then cover both the
    training randomness and the draw of episodes); otherwise every seed uses the same pools and
    the error bars cover the training randomness (which episodes are drawn, which actions are
    sampled). Environments come from :func:`cached_env`, so repeated calls reuse the runner's
    verdicts.
    """
    for name, given in (("horizons", horizons), ("seeds", seeds)):
        if isinstance(given, (int, str, bytes)) or not isinstance(given, Sequence):
            raise TypeError(f"{name} must be a list of ints, e.g. [1, 2, 3], got {given!r}")
    horizons = tuple(_check_int(h, "horizon", 1) for h in horizons)
    seeds = tuple(_check_int(s, "seed", 0) for s in seeds)
    if not horizons or not seeds:
        raise ValueError("need at least one horizon and one seed")
    env_options = dict(env_options or {})
    temperature = grpo.preset(train_options.get("preset", "grpo_plus")).temperature or 1.0
    success, untrained, zero, edits, turns, cands = [], [], [], [], [], []
    for k in horizons:
        row, base, zrow, erow = [], [], [], []
        for s in seeds:
            env = cached_env(k, s if env_seed is None else env_seed, **env_options)
            base.append(evaluate(RepairPolicy(seed=s), env, feedback=feedback, attempts=attempts, seed=s,
                                 temperature=temperature))
            result = train_agent(env, budget=budget, feedback=feedback, seed=s, **train_options)
            row.append(evaluate(result.policy, env, feedback=feedback, attempts=attempts, seed=s,
                                temperature=temperature))
            zrow.append(sum(h["zero_signal_groups"] for h in result.history) / max(len(result.history), 1))
            erow.append(result.edits)
        success.append(row)
        untrained.append(base)
        zero.append(zrow)
        edits.append(erow)
        turns.append(env.turns)
        cands.append(env.n_candidates)
    return HorizonResult(horizons, seeds, budget, feedback, success, untrained, zero, edits, tuple(turns), tuple(cands))


# =============================================================================================
# Gradient signal-to-noise against horizon
# =============================================================================================


@dataclass
class SNRResult:
    """The policy-gradient estimate at one horizon: its SNR for a step of ``batch_groups`` groups,
    the squared norm of the mean gradient and the noise of one step (trace of the covariance /
    batch_groups), the share of zero-signal groups and the success rate of the sampled episodes."""

    k: int
    snr: float
    signal: float
    noise: float
    zero_signal_groups: float
    success: float
    n_groups: int


def gradient_snr(env: RepairEnv, *, policy: RepairPolicy | None = None, feedback: bool = True,
                 n_groups: int = 64, group_size: int = 8, batch_groups: int = 4, reward: str = "outcome",
                 gamma: float = 1.0, seed: int = 0, preset: str = "grpo_plus") -> SNRResult:
    """Measure the signal-to-noise ratio of the GRPO policy gradient at ``env``'s horizon.

    Plays ``n_groups`` groups of ``group_size`` episodes with ``policy`` (default: the untrained,
    uniform one), computes each group's gradient of the GRPO+ loss (at ratio 1, i.e. the policy
    gradient with group-normalised advantages, or turn-level ones for ``reward="progress"``) with
    torch autograd, and returns :func:`snr_from_gradients` of these per-group gradients for a step
    of ``batch_groups`` groups (bias-corrected signal).
    """
    _check_kind(env, RepairEnv, "env", "RepairEnv(k)")
    if policy is not None:
        _check_kind(policy, RepairPolicy, "policy", "RepairPolicy(), or a trained one")
    _check_int(n_groups, "n_groups", 2)
    _check_int(group_size, "group_size", 2)
    _check_int(batch_groups, "batch_groups", 1)
    config = grpo.preset(preset)
    temperature = config.temperature or 1.0
    policy = RepairPolicy(seed=seed) if policy is None else policy
    rng = random.Random(f"snr:{seed}")
    generator = torch.Generator().manual_seed(seed + 1)
    chosen = [rng.choice(env.train_episodes) for _ in range(n_groups)]
    batch = rollout(policy, env, [e for e in chosen for _ in range(group_size)], feedback=feedback,
                    temperature=temperature, generator=generator, reward=reward, gamma=gamma)
    adv = _advantages(batch, group_size, config, reward, gamma)
    new = _logp_of(policy, batch, temperature, env.turns)
    grads = []
    params = [p for p in policy.parameters()]
    for g in range(n_groups):
        rows = slice(g * group_size, (g + 1) * group_size)
        m = batch.mask[rows]
        loss, _ = grpo.policy_loss(new[rows].reshape(-1, 1), batch.logp[rows].reshape(-1, 1).detach(),
                                   adv[rows].reshape(-1), m.reshape(-1, 1), eps_low=config.eps_low,
                                   eps_high=config.eps_high, loss_type=config.loss_type)
        grad = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
        grads.append(torch.cat([(x if x is not None else torch.zeros_like(p)).reshape(-1)
                                for x, p in zip(grad, params)]))
    stacked = torch.stack(grads)
    snr = snr_from_gradients(stacked, batch_groups, unbiased=True)
    n = stacked.shape[0]
    mean = stacked.double().mean(dim=0)
    v = float(((stacked.double() - mean) ** 2).sum() / (n - 1))
    signal = max(float((mean**2).sum()) - v / n, 0.0)
    groups = batch.success.view(-1, group_size)
    zero = ((groups == groups[:, :1]).all(dim=1)).float().mean().item()
    return SNRResult(env.k, snr, signal, v / batch_groups, zero, batch.success.mean().item(), n_groups)
