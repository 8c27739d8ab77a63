"""Exercises 07: each reference against an independent computation, and wrong answers that the
check must not give full marks (an answer fitted to the visible cases included)."""

from __future__ import annotations

import copy
import functools
import itertools
import random

import pytest

from coderl_lessons.exercise import Case, get_exercise
from coderl_lessons.exercises.ex07_verification import (
    DIFFERENTIAL_PAIRS,
    SURVIVING_MUTANTS,
    kill_mutant,
    verify_killing_test,
)
from coderl_lessons.grading import check
from coderl_lessons.verification import cure_test_reward, disagreements, kill_table_score, spells_out_visible_tests


def _function(source: str, name: str):
    namespace: dict = {}
    exec(source, namespace)  # the course's own small programs, in this test process
    return namespace[name]


# --- 07.1 ---------------------------------------------------------------------------------------


def test_kill_table_score_matches_a_brute_force_count():
    rng = random.Random(7)
    for _ in range(300):
        n, m = rng.randint(0, 10), rng.randint(0, 5)
        kills = [[rng.random() < 0.3 for _ in range(m)] for _ in range(n)]
        equivalent = rng.sample(range(n), rng.randint(0, n)) if n else []
        counted = [i for i in range(n) if i not in equivalent]
        killed = [i for i in counted if True in kills[i]]
        expected = (len(killed) / len(counted) if counted else 0.0, [i for i in counted if i not in killed])
        assert kill_table_score(kills, equivalent) == expected


def test_mutation_score_wrong_answers_lose_points():
    def ignores_equivalent(kills, equivalent):
        killed = [i for i, row in enumerate(kills) if any(row)]
        return (len(killed) / len(kills) if kills else 0.0), [i for i in range(len(kills)) if i not in killed]

    def all_tests_must_kill(kills, equivalent):
        counted = [i for i in range(len(kills)) if i not in equivalent]
        killed = [i for i in counted if kills[i] and all(kills[i])]
        return (len(killed) / len(counted) if counted else 0.0), [i for i in counted if i not in killed]

    for wrong in (ignores_equivalent, all_tests_must_kill):
        assert check("07.1", wrong).points < 2
    assert check("07.1", kill_table_score).points == 2


# --- 07.2 ---------------------------------------------------------------------------------------


def _in_process_disagreements(reference: str, candidate: str, fn: str, inputs: list, *,
                              copies: bool = True, candidate_first: bool = False) -> list[int]:
    """The exercise's rules run here; ``copies=False`` is the wrong answer that shares each argument
    list between the two calls (``candidate_first`` says which function sees it first)."""
    functions = {"ref": _function(reference, fn), "cand": _function(candidate, fn)}
    out = []
    for i, args in enumerate(inputs):
        results = {}
        for name in ("cand", "ref") if candidate_first else ("ref", "cand"):
            try:
                results[name] = ("ok", functions[name](*(copy.deepcopy(args) if copies else args)))
            except Exception:  # noqa: BLE001
                results[name] = ("raised", None)
        if results["ref"][0] == "raised":
            continue
        if results["cand"][0] == "raised" or results["cand"][1] != results["ref"][1]:
            out.append(i)
    return out


def test_sandboxed_disagreements_match_running_the_pairs_here():
    rng = random.Random(3)
    for name, reference, candidate, inputs in DIFFERENTIAL_PAIRS:
        cases = inputs(rng) + inputs(rng)
        found = disagreements(reference, candidate, "f", cases)
        assert found == _in_process_disagreements(reference, candidate, "f", cases), name
        assert found, f"{name}: the pair should disagree somewhere on {cases}"


def test_differential_tester_wrong_answers_lose_points():
    def counts_domain_errors(reference_source, candidate_source, fn, inputs):
        ref, cand = _function(reference_source, fn), _function(candidate_source, fn)
        out = []
        for i, args in enumerate(inputs):
            try:
                same = ref(*args) == cand(*args)
            except Exception:  # noqa: BLE001
                same = False
            if not same:
                out.append(i)
        return out

    def ignores_raising_candidates(reference_source, candidate_source, fn, inputs):
        ref, cand = _function(reference_source, fn), _function(candidate_source, fn)
        out = []
        for i, args in enumerate(inputs):
            try:
                if ref(*args) != cand(*args):
                    out.append(i)
            except Exception:  # noqa: BLE001
                pass
        return out

    shares_arguments = functools.partial(_in_process_disagreements, copies=False)
    shares_arguments_candidate_first = functools.partial(_in_process_disagreements, copies=False, candidate_first=True)
    for wrong in (counts_domain_errors, ignores_raising_candidates, shares_arguments, shares_arguments_candidate_first):
        assert check("07.2", wrong).points < 2
    assert check("07.2", _in_process_disagreements).status == "passed"


# --- 07.3 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", SURVIVING_MUTANTS, ids=[e[0] for e in SURVIVING_MUTANTS])
def test_each_mutant_survives_its_tests_and_the_reference_kills_it(entry):
    name, original, mutant, passing = entry
    for source in (original, mutant):
        function = _function(source, name)
        assert all(function(*copy.deepcopy(args)) == expected for args, expected in passing)
    case = Case((original, mutant, name, passing))
    test = kill_mutant(original, mutant, name, passing)
    assert test is not None
    args, expected = test
    assert _function(original, name)(*copy.deepcopy(args)) == expected
    try:
        assert _function(mutant, name)(*copy.deepcopy(args)) != expected
    except Exception:  # noqa: BLE001 - raising on it kills it too
        pass
    assert verify_killing_test(case, [list(args), expected]) is None


def test_killing_test_verdicts():
    exercise = get_exercise("07.3")
    clamp = exercise.visible[0]
    assert verify_killing_test(clamp, [[15, 0, 10], 10]) is None
    assert "mutant passes" in verify_killing_test(clamp, [[5, 0, 10], 5])
    assert "original program fails" in verify_killing_test(clamp, [[15, 0, 10], 15])
    assert "original program fails" in verify_killing_test(clamp, [["a", 0, 10], 10])
    for garbage in (None, [15, 0, 10], [[15, 0, 10]], "[[15, 0, 10], 10]", [[object()], 1]):
        assert verify_killing_test(clamp, garbage) is not None
    assert "too large" in verify_killing_test(clamp, [[list(range(5000)), 0, 10], 10])
    assert verify_killing_test(clamp, [[10**20000, 0, 10], 10]) is not None

    def returns_a_visible_test(original, mutant, fn, passing):
        return passing[0]

    def hard_coded_for_the_visible_cases(original, mutant, fn, passing):
        return {"clamp": [[15, 0, 10], 10], "is_leap": [[1900], False],
                "second_largest": [[[5, 5, 1]], 1]}.get(fn, passing[0])

    assert check("07.3", returns_a_visible_test).points == 0
    result = check("07.3", hard_coded_for_the_visible_cases)
    assert all(line.passed for line in result.lines if line.visible) and result.points < 2


# --- 07.4 ---------------------------------------------------------------------------------------


def test_spells_out_against_labels_known_by_construction():
    rng = random.Random(11)
    for _ in range(100):
        k, c = rng.randint(2, 9), rng.randint(10, 19)  # c is never an input: inputs are below 10
        inputs = rng.sample(range(-9, 10), rng.randint(1, 4))
        visible = [[[x], k * x + c] for x in inputs]
        chain = "".join(f"    if x == {x}:\n        return {k * x + c}\n" for x in inputs)
        assert spells_out_visible_tests(f"def f(x):\n{chain}    return None\n", "f", visible)
        table = ", ".join(f"{x}: {k * x + c}" for x in inputs)
        assert spells_out_visible_tests(f"def f(x):\n    return {{{table}}}[x]\n", "f", visible)
        honest = f"def f(x):\n    return {k} * x + {c}\n"
        assert spells_out_visible_tests(honest, "f", visible) == all(
            x in (k, c) and k * x + c in (k, c) for x in inputs)
        first = inputs[0]
        partial = f"def f(x):\n    if x == {first}:\n        return {k * first + c}\n    return {k} * x + {c}\n"
        literals = {first, abs(first), k * first + c, abs(k * first + c), k, c}  # -3 spells 3 too
        assert spells_out_visible_tests(partial, "f", visible) == all(
            x in literals and k * x + c in literals for x in inputs)


def test_hard_coded_detection_wrong_answers_lose_points():
    def any_literal_match(source, fn, visible):
        return any(repr(expected) in source for _, expected in visible)

    def always_true(source, fn, visible):
        return True

    def ignores_types(source, fn, visible):
        import ast
        values = []
        for node in ast.walk(ast.parse(source)):
            try:
                values.append(ast.literal_eval(node))
            except Exception:  # noqa: BLE001
                pass
        return bool(visible) and all(all(a in values for a in args) and e in values for args, e in visible)

    for wrong in (any_literal_match, always_true, ignores_types):
        assert check("07.4", wrong).points < 2


# --- 07.5 ---------------------------------------------------------------------------------------


def test_cure_reward_matches_the_formula_on_every_small_table():
    for n_correct, n_wrong in itertools.product(range(1, 4), range(0, 4)):
        for correct in itertools.product([True, False], repeat=n_correct):
            for wrong in itertools.product([True, False], repeat=n_wrong):
                if all(correct):
                    want = (wrong.count(False) / n_wrong) if n_wrong else 0.0
                else:
                    want = -correct.count(False) / n_correct
                assert cure_test_reward(list(correct), list(wrong)) == want


def test_cure_reward_wrong_answers_lose_points():
    def no_validity_check(correct_pass, wrong_pass):
        return wrong_pass.count(False) / len(wrong_pass) if wrong_pass else 0.0

    def zero_when_invalid(correct_pass, wrong_pass):
        if not all(correct_pass):
            return 0.0
        return wrong_pass.count(False) / len(wrong_pass) if wrong_pass else 0.0

    for wrong in (no_validity_check, zero_when_invalid):
        assert check("07.5", wrong).points < 1
