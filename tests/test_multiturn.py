"""The multi-turn repair environment, its returns and credit-assignment helpers, and GRPO training
on it: invariants checked with the real runner, hand-computed returns, determinism, bad input."""

from __future__ import annotations

import ast
import math

import pytest
import torch

from coderl_lessons import multiturn as mt
from coderl_lessons.execution import run_many


@pytest.fixture(scope="module")
def tasks():
    return mt.prepare_tasks(n_tasks=4, min_edits=6, spare=2)


@pytest.fixture(scope="module")
def envs(tasks):
    return {k: mt.RepairEnv(k, n_train=6, n_eval=6, tasks=tasks, seed=0) for k in (1, 2, 3)}


# ---------------------------------------------------------------------------------------------
# Programs and edits
# ---------------------------------------------------------------------------------------------


def test_prepared_tasks_have_disjoint_failing_edits(tasks):
    assert len(tasks) == 4
    for task in tasks:
        assert len(task.edits) >= 6 and task.n_feedback >= 3
        for i, a in enumerate(task.edits):
            assert all(not a.overlaps(b) for b in task.edits[i + 1:])
        canonical, *alone = run_many([(task.program, task.tests)] + [(mt.compose(task.program, [e]), task.tests)
                                                                     for e in task.edits])
        assert canonical.passed
        assert all(r.tests[-1].status != "passed" for r in alone), task.task_id


def test_compose_applies_edits_and_rejects_overlaps():
    program = "def f(x):\n    a = x + 1\n    b = a * 2\n    return b\n"
    e1 = mt.Edit(1, 2, "    a = x - 1\n", "arithmetic", "")
    e2 = mt.Edit(3, 4, "    return None\n", "return_none", "")
    assert mt.compose(program, [e2, e1]) == "def f(x):\n    a = x - 1\n    b = a * 2\n    return None\n"
    assert mt.compose(program, []) == program
    with pytest.raises(ValueError, match="overlap"):
        mt.compose(program, [e1, mt.Edit(1, 3, "    pass\n", "drop_statement", "")])
    with pytest.raises(ValueError, match="past"):
        mt.compose(program, [mt.Edit(9, 10, "x\n", "constant", "")])


def test_episodes_inject_k_bugs_that_fail_and_the_reverts_pass(envs):
    for k, env in envs.items():
        assert env.n_candidates == 2 * k and env.turns == 3 * k
        for episode in env.train_episodes + env.eval_episodes:
            assert episode.k == k and episode.n_candidates == 2 * k and episode.turns == 3 * k
            bugs = [j for j, b in enumerate(episode.is_bug) if b]
            decoys = [j for j, b in enumerate(episode.is_bug) if not b]
            assert episode.program(bugs) == episode.original
            ast.parse(episode.buggy_program)
            assert episode.buggy_program.count("\n") >= 1
            start = env.feedback(episode)
            assert not start.passed and start.kind in ("error", "wrong_answer")
            assert env.feedback(episode, bugs).passed
            # all reverts plus one decoy: a decoy alone breaks the program
            assert not env.feedback(episode, bugs + decoys[:1]).passed
        assert env.time_limits == 0
    # training and evaluation episodes differ
    env = envs[2]
    assert not set(env.train_episodes) & set(env.eval_episodes)


def test_feedback_reports_which_tests_pass(envs):
    episode = envs[1].train_episodes[0]
    task = next(t for t in envs[1].tasks if t.task_id == episode.task_id)
    fixed = envs[1].feedback(episode, [episode.is_bug.index(True)])
    assert fixed.passed and fixed.kind == "passed" and fixed.progress == 1.0
    assert fixed.passing == frozenset(range(task.n_feedback)) and fixed.first_failure is None
    broken = envs[1].feedback(episode)
    assert broken.first_failure is not None and broken.progress < 1.0 and broken.message


# ---------------------------------------------------------------------------------------------
# Rollouts, horizon, feedback
# ---------------------------------------------------------------------------------------------


def test_rollout_respects_the_horizon_and_hides_feedback(envs):
    env = envs[2]
    policy = mt.RepairPolicy()
    gen = torch.Generator().manual_seed(0)
    blind = mt.rollout(policy, env, list(env.train_episodes) * 4, feedback=False, generator=gen)
    assert blind.mask.shape == (24, env.turns + 1)
    lengths = blind.mask.sum(dim=1)
    assert (lengths >= 1).all() and (lengths <= env.turns + 1).all()
    assert blind.edits == int((blind.actions[blind.mask] != env.n_candidates).sum())
    ends = blind.actions[torch.arange(24), lengths - 1]
    assert (ends == env.n_candidates).all(), "every episode ends with submit (forced after T edits)"
    # without feedback the verdict features are zero everywhere
    phi = blind.phi.view(24, env.turns + 1, env.n_candidates + 1, len(mt.HISTORY_FEATURES), len(mt.CONTEXT_FEATURES))
    assert (phi[..., 2:] == 0).all()
    seen = mt.rollout(policy, env, list(env.train_episodes) * 4, feedback=True, generator=gen)
    phi = seen.phi.view_as(phi)
    assert (phi[..., 2:] != 0).any()
    # the reward is the outcome at the last decision, equal to the runner's verdict
    assert torch.equal(seen.rewards.sum(dim=1), seen.success)
    assert [f.passed for f in seen.final] == [bool(s) for s in seen.success]


def test_progress_reward_telescopes(envs):
    env = envs[2]
    gen = torch.Generator().manual_seed(3)
    batch = mt.rollout(mt.RepairPolicy(), env, list(env.train_episodes) * 2, feedback=False, generator=gen,
                       reward="progress", gamma=1.0)
    starts = [env.feedback(e).progress for e in list(env.train_episodes) * 2]
    ends = [f.progress for f in batch.final]
    expected = torch.tensor([e - s for s, e in zip(starts, ends)]) + batch.success
    assert torch.allclose(batch.rewards.sum(dim=1), expected, atol=1e-5)


def test_blind_bound_and_trial_and_error_policy(envs):
    assert mt.blind_success_bound(1, 2) == 0.5
    assert math.isclose(mt.blind_success_bound(3, 6), 1 / 20)
    env = envs[1]
    # with feedback, a careful trial-and-error strategy fixes a single bug every time
    assert mt.evaluate(mt.trial_and_error_policy(), env, feedback=True, attempts=2) == 1.0


# ---------------------------------------------------------------------------------------------
# Returns and advantages
# ---------------------------------------------------------------------------------------------


def test_discounted_returns_by_hand():
    rewards = torch.tensor([[1.0, 0.0, 2.0], [0.5, -1.0, math.nan], [math.nan] * 3])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0], [0, 0, 0]])
    got = mt.discounted_returns(rewards, mask, 0.5)
    want = torch.tensor([[1 + 0.5 * 0 + 0.25 * 2, 0 + 0.5 * 2, 2.0], [0.5 - 0.5, -1.0, 0.0], [0.0, 0.0, 0.0]])
    assert torch.allclose(got, want)
    assert torch.equal(mt.discounted_returns(rewards, mask, 0.0), torch.where(mask.bool(), rewards, torch.zeros(())))
    assert torch.allclose(mt.discounted_returns(rewards, mask, 1.0)[:, 0], torch.tensor([3.0, -0.5, 0.0]))


def test_turn_advantages_by_hand():
    rewards = torch.tensor([[0.0, 1.0], [0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    mask = torch.tensor([[1, 1], [1, 1], [1, 0], [1, 1]])
    adv = mt.turn_advantages(rewards, mask, 1.0)
    # returns: [1, 1], [0, 0], [1, -], [0, 0]; turn 0 mean 0.5, turn 1 mean 1/3 over three episodes
    want = torch.tensor([[0.5, 2 / 3], [-0.5, -1 / 3], [0.5, 0.0], [-0.5, -1 / 3]])
    assert torch.allclose(adv, want)
    grouped = mt.turn_advantages(rewards, mask, 1.0, group_size=2)
    want = torch.tensor([[0.5, 0.5], [-0.5, -0.5], [0.5, 0.0], [-0.5, 0.0]])
    assert torch.allclose(grouped, want)


def test_credit_helpers_reject_bad_input():
    r = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="prefix"):
        mt.discounted_returns(r, torch.tensor([[1, 0, 1], [1, 1, 1]]), 1.0)
    with pytest.raises(ValueError, match="gamma"):
        mt.discounted_returns(r, torch.ones(2, 3), 1.5)
    with pytest.raises(ValueError, match="shape"):
        mt.discounted_returns(r, torch.ones(3, 2), 1.0)
    with pytest.raises(ValueError, match="2-D"):
        mt.discounted_returns(torch.zeros(3), torch.ones(3), 1.0)
    with pytest.raises(ValueError, match="multiple"):
        mt.turn_advantages(torch.zeros(3, 2), torch.ones(3, 2), 1.0, group_size=2)
    with pytest.raises(ValueError):
        mt.snr_from_gradients(torch.zeros(1, 3))
    with pytest.raises(ValueError):
        mt.zero_signal_probability(1.2, 1, 8)
    with pytest.raises(ValueError):
        mt.zero_signal_probability(0.5, -1, 8)


def test_snr_and_zero_signal_by_hand():
    grads = torch.tensor([[1.0, 0.0], [3.0, 0.0], [2.0, 3.0]])
    assert math.isclose(mt.snr_from_gradients(grads, 1), 1.25)
    assert math.isclose(mt.snr_from_gradients(grads, 8), 10.0)
    assert math.isclose(mt.snr_from_gradients(grads, 1, unbiased=True), (5 - 4 / 3) / 4)
    assert mt.snr_from_gradients(torch.zeros(3, 2)) == 0.0
    assert mt.snr_from_gradients(torch.ones(3, 2)) == math.inf
    assert math.isclose(mt.zero_signal_probability(0.9, 5, 8), 0.9**40 + (1 - 0.9**5) ** 8)
    assert mt.zero_signal_probability(0.3, 0, 8) == 1.0 and mt.zero_signal_probability(0.3, 4, 1) == 1.0


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


def test_training_improves_single_bug_repair_quickly(envs):
    env = envs[1]
    before = mt.evaluate(mt.RepairPolicy(), env, feedback=True, attempts=8)
    result = mt.train_agent(env, budget=128, feedback=True, seed=0)
    after = mt.evaluate(result.policy, env, feedback=True, attempts=8)
    assert after >= before + 0.3, (before, after)
    assert result.episodes == 128 and result.edits > 0 and len(result.history) == 4


def test_training_is_deterministic_for_a_seed(envs):
    env = envs[2]
    a = mt.train_agent(env, budget=64, feedback=True, seed=1)
    b = mt.train_agent(env, budget=64, feedback=True, seed=1)
    c = mt.train_agent(env, budget=64, feedback=True, seed=2)
    assert a.history == b.history
    assert torch.equal(a.policy.net.weight, b.policy.net.weight)
    assert a.history != c.history
    again = mt.RepairEnv(2, n_train=6, n_eval=6, tasks=envs[2].tasks, seed=0)
    assert again.train_episodes == env.train_episodes


def test_gradient_snr_and_success_vs_horizon_run(envs, tasks):
    snr = mt.gradient_snr(envs[1], n_groups=8, group_size=4, batch_groups=2)
    assert snr.k == 1 and snr.snr >= 0 and 0 <= snr.zero_signal_groups <= 1 and snr.n_groups == 8
    result = mt.success_vs_horizon([1, 2], budget=32, seeds=[0, 1], feedback=False, env_seed=0,
                                   env_options={"n_train": 4, "n_eval": 4, "tasks": tasks}, group_size=4,
                                   groups_per_step=2, attempts=2)
    assert len(result.success) == 2 and all(len(row) == 2 for row in result.success)
    assert result.turns == (3, 6) and result.n_candidates == (2, 4)
    assert all(0 <= x <= 1 for row in result.success for x in row)
    assert len(result.mean) == len(result.std) == 2


def test_bad_input_is_a_value_error(envs):
    with pytest.raises(ValueError):
        mt.RepairEnv(0)
    with pytest.raises(ValueError, match="disjoint"):
        mt.RepairEnv(5, tasks=envs[1].tasks)  # 10 candidates; the small tasks have at most 8 edits
    with pytest.raises(ValueError, match="multiple"):
        mt.train_agent(envs[1], budget=100)
    with pytest.raises(ValueError, match="reward"):
        mt.train_agent(envs[1], budget=32, reward="dense")
    with pytest.raises(ValueError, match="KL"):
        mt.train_agent(envs[1], budget=64, preset="grpo")
    with pytest.raises(ValueError):
        mt.success_vs_horizon([], budget=32)
    with pytest.raises(ValueError):
        mt.rollout(mt.RepairPolicy(), envs[1], [])
    with pytest.raises(ValueError, match="environment"):
        mt.rollout(mt.RepairPolicy(), envs[1], list(envs[2].train_episodes))


def test_arguments_in_the_wrong_place_get_errors_that_say_what_was_expected(envs):
    env, policy = envs[1], mt.RepairPolicy()
    episode = env.eval_episodes[0]
    with pytest.raises(TypeError, match="env must be a RepairEnv"):
        mt.train_agent(1)
    with pytest.raises(TypeError, match="policy must be a RepairPolicy"):
        mt.evaluate(env, policy)  # swapped
    with pytest.raises(TypeError, match="episodes must be a list of Episode"):
        mt.rollout(policy, env, episode)  # one episode, not a list
    with pytest.raises(TypeError, match="toggled must be a set"):
        env.feedback(episode, 0)
    with pytest.raises(ValueError, match="candidate indices in 0..1"):
        episode.program([5])  # used to be ignored: the buggy program came back
    with pytest.raises(ValueError, match="group_size must be an int >= 2"):
        mt.train_agent(env, group_size=1)  # used to run and learn nothing
    with pytest.raises(TypeError, match="horizons must be a list"):
        mt.success_vs_horizon(1)
    with pytest.raises(ValueError, match="0 <= start < end"):
        mt.Edit(2, 1, "pass\n", "drop", "a backwards edit")  # used to duplicate lines
    with pytest.raises(TypeError, match="edits must be a list of Edit"):
        mt.compose("a\n", mt.Edit(0, 1, "b\n", "op", "one edit, not a list"))


def test_numpy_scalars_are_numbers_here_too():
    import numpy as np

    assert mt.zero_signal_probability(np.float32(0.5), 2, 8) == pytest.approx(0.75**8 + 0.25**8)


def test_edge_arguments_that_used_to_crash():
    assert mt.blind_success_bound(500, 10**4) == 0.0  # was an OverflowError: 1 / a 700-digit int
    assert mt.blind_success_bound(2, 4) == pytest.approx(1 / 6)
    with pytest.raises(ValueError, match="margin must be a positive number"):
        mt.trial_and_error_policy(margin="5")
