"""The training task family: deterministic, valid (references pass via the real runner), spread
over levels, and with hidden tests that catch a program fitted to the visible ones."""

from __future__ import annotations

import random

import pytest

from coderl_lessons import tasks
from coderl_lessons.execution import run_many

ALL = tasks.make_tasks(90, seed=0)


def _every_template() -> list[tasks.Task]:
    """One task per template, so that every template's reference is checked."""
    rng = random.Random(1)
    out = []
    for template in tasks.TEMPLATES:
        constants = tuple(rng.choice(r) for r in template.constants)
        out.append(tasks.make_task(template, constants, rng))
    return out


def test_same_seed_same_tasks_other_seed_other_tasks():
    assert tasks.make_tasks(20, seed=7) == tasks.make_tasks(20, seed=7)
    assert [t.name for t in tasks.make_tasks(20, seed=7)] != [t.name for t in tasks.make_tasks(20, seed=8)]


def test_references_pass_their_own_visible_and_hidden_tests_in_the_runner():
    checked = _every_template() + ALL
    results = run_many([(t.reference, t.tests("all")) for t in checked])
    failing = [(t.name, r.stage, [o.status for o in r.tests]) for t, r in zip(checked, results) if not r.passed]
    assert not failing
    assert all(r.n_tests == len(t.visible) + len(t.hidden) for t, r in zip(checked, results))


def test_expected_values_follow_the_spec():
    """Recompute a few templates' answers from the constants in the task name."""
    formulas = {
        "add": lambda x, c: x + c,
        "mul_add": lambda x, a, b: x * a + b,
        "sub_mul": lambda x, a, b: (x - a) * b,
        "if_gt": lambda x, a, b: b if x > a else x,
        "map_mul": lambda xs, c: [v * c for v in xs],
        "filter_gt": lambda xs, c: [v for v in xs if v > c],
    }
    seen = set()
    for task in _every_template() + ALL:
        parts = task.name.split("_")
        name = "_".join(p for p in parts if not p.isdigit())
        numbers = [int(p) for p in parts if p.isdigit()]
        if name in formulas:
            seen.add(name)
            for test in task.tests("all"):
                assert test.expected == formulas[name](test.args[0], *numbers), task.name
    assert seen == set(formulas)


def test_levels_are_spread_evenly_and_tasks_are_distinct_functions():
    some = tasks.make_tasks(30, seed=3)
    assert [t.level for t in some].count(1) == [t.level for t in some].count(2) == [t.level for t in some].count(3) == 10
    probes = {"int": list(range(-12, 13)), "list": [[4, -2, 7, 0, 3], [1], [9, 9, -5]]}
    outputs = set()
    for task in ALL:
        namespace: dict = {}
        exec(task.reference, namespace)  # trusted: our own reference programs
        outputs.add(repr((task.arg_kind, [namespace["f"](list(p) if isinstance(p, list) else p)
                                          for p in probes[task.arg_kind]])))
    assert len(outputs) == len(ALL)


def test_hidden_tests_are_disjoint_from_visible_and_catch_a_hard_coded_program():
    int_tasks = [t for t in ALL if t.arg_kind == "int"]
    for task in ALL:
        assert not {repr(t.args) for t in task.visible} & {repr(t.args) for t in task.hidden}
    hacks = []
    for task in int_tasks:
        lines = "".join(f"if x == {t.args[0]}: return {t.expected}\n    " for t in task.visible)
        hacks.append(tasks.HEADER + lines + "return 0")
    visible = run_many([(h, t.tests("visible")) for h, t in zip(hacks, int_tasks)])
    hidden = run_many([(h, t.tests("hidden")) for h, t in zip(hacks, int_tasks)])
    assert all(r.passed for r in visible)
    assert not any(r.passed for r in hidden)


def test_prompt_shows_the_spec_and_visible_tests_only():
    task = ALL[0]
    assert task.spec in task.prompt and task.prompt.startswith("def f(x):")
    assert all(repr(t.expected) in task.prompt for t in task.visible)


@pytest.mark.parametrize("kwargs", [dict(n=0, seed=0), dict(n=2.5, seed=0), dict(n=5, seed=0, levels=(4,)),
                                    dict(n=5, seed=0, levels=()), dict(n=10_000, seed=0),
                                    dict(n=5, seed=0, n_hidden=0)])
def test_bad_arguments_are_rejected(kwargs):
    with pytest.raises(ValueError):
        tasks.make_tasks(**kwargs)


def test_bad_which_and_level_are_rejected():
    with pytest.raises(ValueError, match="which"):
        ALL[0].tests("secret")
    with pytest.raises(ValueError, match="level"):
        tasks.random_task(random.Random(0), level=7)


def test_draws_refuse_a_wrong_rng_and_impossible_counts():
    with pytest.raises(TypeError, match="rng must be a random.Random"):
        tasks.random_task(0)
    with pytest.raises(ValueError, match="n_visible must be an int from 1 to 10"):
        tasks.make_tasks(3, 0, n_visible=12)  # used to fail inside random.sample
    with pytest.raises(ValueError, match="n_hidden must be an int from 1 to 60"):
        tasks.random_task(random.Random(0), n_hidden=10**6)  # used to run for minutes
    with pytest.raises(TypeError, match="levels must be a list"):
        tasks.make_tasks(3, 0, levels=2)
