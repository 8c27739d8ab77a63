"""The GRPO training loop: config building, rewards from the real runner (visible vs hidden),
a few-step smoke run that records every metric and is deterministic, and the command."""

from __future__ import annotations

import json

import pytest
import torch

from coderl_lessons import grpo, train
from coderl_lessons.tasks import HEADER, make_tasks

torch.set_num_threads(1)  # tests run beside other CPU work: keep torch from oversubscribing cores

TINY = dict(steps=3, n_tasks=6, tasks_per_step=3, group_size=4, pretrain_steps=20, eval_samples=2, eval_every=2)


def test_make_config_routes_overrides_and_takes_the_preset_temperature():
    plus = train.make_config("grpo_plus")
    assert plus.grpo == grpo.preset("grpo_plus") and plus.temperature == 0.6
    symmetric = train.make_config("grpo_plus", eps_high=0.2, group_size=4, reward="staged")
    assert symmetric.grpo.eps_high == 0.2 and symmetric.grpo.eps_low == 0.2
    assert symmetric.group_size == 4 and symmetric.reward == "staged"
    assert train.make_config("grpo").temperature == 1.0  # DeepSeekMath gives none
    assert train.make_config("grpo_plus", mask_truncated=False).grpo.mask_truncated is False


@pytest.mark.parametrize("overrides, match", [
    (dict(clip=0.3), "unknown config fields"),
    (dict(group_size=1), "group_size"),
    (dict(reward="dense"), "reward must be"),
    (dict(reward_tests="all"), "reward_tests"),
    (dict(steps=0), "steps"),
    (dict(minibatches=20, tasks_per_step=4), "minibatches"),
    (dict(loss_type="sum"), "loss_type"),
])
def test_bad_configs_are_rejected(overrides, match):
    with pytest.raises(ValueError, match=match):
        train.make_config("grpo_plus", **overrides)
    with pytest.raises(ValueError, match="unknown preset"):
        train.make_config("ppo")


def test_execute_pays_on_the_chosen_tests_and_reward():
    task = next(t for t in make_tasks(20, seed=0) if t.arg_kind == "int" and t.level == 1)
    hack = HEADER + "".join(f"if x == {t.args[0]}: return {t.expected}\n    " for t in task.visible) + "return 0"
    programs = [task.reference, hack, HEADER + "return (", HEADER + "return x * 1000"]
    tasks_ = [task] * 4
    hidden_cfg = train.make_config("grpo_plus")
    rewards, visible, hidden, n_run = train.execute(programs, tasks_, hidden_cfg)
    assert rewards == [1.0, 0.0, 0.0, 0.0] and visible == [1.0, 1.0, 0.0, 0.0] and hidden == [1.0, 0.0, 0.0, 0.0]
    assert n_run == 4
    rewards, *_ = train.execute(programs, tasks_, train.make_config("grpo_plus", reward_tests="visible"))
    assert rewards == [1.0, 1.0, 0.0, 0.0]  # the hard-coded program is paid when only visible tests count
    staged, *_ = train.execute(programs, tasks_, train.make_config("grpo_plus", reward="staged"))
    assert staged == pytest.approx([1.0, 0.6, 0.0, 0.6])
    fraction, *_ = train.execute(programs, tasks_, train.make_config("grpo_plus", reward="fraction"))
    assert fraction[0] == 1.0 and fraction[2] == 0.0 and 0.0 <= fraction[3] < 1.0


def _strip_timing(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if not k.startswith("seconds") and k != "cache_hits"} for row in history]


def test_few_steps_record_every_metric_and_are_deterministic():
    config = train.make_config("grpo_plus", **TINY)
    first = train.train(config, seed=3, progress=False)
    keys = {"reward", "visible_pass", "hidden_pass", "entropy", "clip_low_frac", "clip_high_frac",
            "zero_variance_frac", "truncated_frac", "mean_length", "seconds_sampling", "seconds_execution",
            "seconds_update", "loss", "mean_ratio", "programs_run", "cache_hits"}
    assert len(first.history) == 3 and all(keys <= set(row) for row in first.history)
    assert [row["step"] for row in first.history] == [1, 2, 3]
    assert "eval_hidden_pass_at_1" in first.history[1] and "eval_hidden_pass_at_1" in first.history[2]
    for row in first.history:
        assert 0.0 <= row["hidden_pass"] <= 1.0 and 0.0 <= row["zero_variance_frac"] <= 1.0
        assert row["entropy"] is None or row["entropy"] >= 0.0
        assert row["seconds_execution"] > 0.0 and row["mean_length"] >= 1.0
    record = json.loads(json.dumps(first.summary()))
    assert record["steps"] == 3 and record["seed"] == 3 and len(record["history"]) == 3
    again = train.train(config, seed=3, progress=False)
    assert _strip_timing(again.history) == _strip_timing(first.history)
    assert again.final["hidden_pass_at_1"] == first.final["hidden_pass_at_1"]


def test_an_update_uses_the_packages_loss_and_changes_the_policy():
    config = train.make_config("grpo_plus", **{**TINY, "minibatches": 1})
    policy = train.base_policy(config, seed=0)
    batch = train.rollout(policy, train.training_tasks(config)[:3], config, torch.Generator().manual_seed(0))
    batch.rewards[0], batch.rewards[1] = 1.0, 0.0  # at least one group carries signal
    # expected: grpo.policy_loss on the whole batch, on-policy (ratio 1), overlong samples masked
    logp, _ = policy.log_probs(batch.spec_ids, batch.samples.tokens, config.temperature)
    adv = grpo.group_advantages(batch.rewards, config.group_size, scale="group")
    mask = grpo.mask_truncated(batch.samples.mask, batch.samples.truncated)
    expected, _ = grpo.policy_loss(logp, batch.samples.logp, adv, mask, 0.2, 0.28, "dapo")
    before = [p.detach().clone() for p in policy.parameters()]
    diag = train.grpo_update(policy, torch.optim.SGD(policy.parameters(), lr=0.1), batch, config,
                             torch.Generator().manual_seed(0))
    assert diag["loss"] == pytest.approx(expected.item(), abs=1e-6)
    assert diag["mean_ratio"] == pytest.approx(1.0, abs=1e-4) and diag["clip_low_frac"] == 0.0
    assert any(not torch.equal(a, b) for a, b in zip(before, policy.parameters()))


@pytest.mark.parametrize("preset, extra", [("dapo", {}), ("grpo", {}), ("grpo_plus", dict(reward="staged", eps_high=0.2))])
def test_other_presets_run(preset, extra):
    result = train.train(train.make_config(preset, **{**TINY, "steps": 2, **extra}), seed=0, progress=False)
    assert len(result.history) == 2
    if preset == "dapo":  # dynamic sampling keeps at most tasks_per_step groups, only informative ones
        assert all(row["groups_used"] <= 3 for row in result.history)


def test_cli_writes_the_record(tmp_path, monkeypatch):
    small = train.make_config
    monkeypatch.setattr(train, "make_config", lambda preset, **kw: small(preset, **{**TINY, **kw}))
    out = tmp_path / "run.json"
    assert train.cli(["--preset", "grpo_plus", "--seed", "1", "--steps", "2", "--json", str(out), "--no-progress"]) == 0
    record = json.loads(out.read_text())
    for key in ("preset", "seed", "steps", "seconds", "base_hidden_pass_at_1", "hidden_pass_at_1",
                "visible_pass_at_1", "history"):
        assert key in record
    assert record["preset"] == "grpo_plus" and record["seed"] == 1 and record["steps"] == 2
    assert len(record["history"]) == 2


def test_cli_rejects_bad_arguments(tmp_path):
    assert train.cli(["--preset", "nope", "--json", str(tmp_path / "x.json")]) == 2
    assert train.cli(["--preset", "grpo_plus"]) == 2  # --json is required
    assert train.cli(["--preset", "grpo_plus", "--steps", "0", "--json", str(tmp_path / "x.json")]) == 2


def test_configs_and_train_refuse_bad_input_with_a_clear_message():
    with pytest.raises(TypeError, match="lr must be a number"):
        train.make_config(lr="1e-3")  # as a config file gives it
    with pytest.raises(ValueError, match="lr must be finite"):
        train.make_config(lr=float("inf"))
    with pytest.raises(ValueError, match="pretrain_keep must be a probability"):
        train.make_config(pretrain_keep=2.0)
    with pytest.raises(TypeError, match="task_seed must be an int"):
        train.make_config(task_seed=None)
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        train.train("grpo_plus")
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        train.training_tasks(grpo.preset("dapo"))
    with pytest.raises(ValueError, match="seed must be an int"):
        train.train(train.make_config(), seed=None)


def test_zero_variance_groups_needs_whole_groups():
    with pytest.raises(ValueError, match="divides the 6 rewards"):
        train.zero_variance_groups(torch.ones(6), 4)
    assert train.zero_variance_groups(torch.tensor([1.0, 1.0, 0.0, 1.0]), 2).tolist() == [True, False]
