"""Exercises of notebook 07_verification_paradox: measuring how strong tests are, and beating weak ones.

07.1 scores a test suite from a kill table (mutation score, equivalent mutants left out). 07.2 is a
differential tester: where does a candidate disagree with a reference? 07.3 writes a test that a
surviving mutant fails and the original passes (many right answers: the check runs both programs
in the course's sandbox on the learner's test). 07.4 spots a program that spells out its visible
tests (a lookup table of the examples). 07.5 is the CURE-style reward of a generated test.

Every argument is plain data (program sources are strings); every reference is the tested
implementation in :mod:`coderl_lessons.verification`, whose programs run in the sandbox.
"""

from __future__ import annotations

import random
from typing import Any, Callable

from coderl_lessons import verification
from coderl_lessons.exercise import Case, Exercise, register

NOTEBOOK = "07_verification_paradox"


# ---------------------------------------------------------------------------------------------
# 07.1 mutation score from a kill table
# ---------------------------------------------------------------------------------------------


def _hidden_tables(rng: random.Random) -> list[Case]:
    cases = [
        Case(([], []), label="no mutants at all"),
        Case(([[False, False], [True, False]], [0, 1]), label="every mutant declared equivalent"),
        Case(([[], [], []], []), label="mutants but no tests: all survive"),
        Case(([[True, True, True], [False, False, False], [False, True, False]], [0]),
             label="an equivalent mutant that a test kills is still left out"),
    ]
    for _ in range(10):
        n, m = rng.randint(1, 12), rng.randint(0, 6)
        density = rng.choice([0.05, 0.2, 0.5, 0.9])
        kills = [[rng.random() < density for _ in range(m)] for _ in range(n)]
        equivalent = sorted(rng.sample(range(n), rng.randint(0, min(3, n))))
        rng.shuffle(equivalent)  # any order is allowed
        cases.append(Case((kills, equivalent)))
    return cases


register(Exercise(
    id="07.1",
    title="mutation score from a kill table",
    notebook=NOTEBOOK,
    entry_point="mutation_score",
    signature="mutation_score(kills: list[list[bool]], equivalent: list[int]) -> tuple[float, list[int]]",
    reference=verification.kill_table_score,
    visible=(
        Case(([[True, False], [False, False], [False, True]], []),
             hint="A mutant is killed when at least one test (one True in its row) kills it: 2 of 3, "
                  "score 0.6667; the survivor is mutant 1."),
        Case(([[True], [False], [False]], [2]),
             hint="Leave the equivalent mutants out of both counts: 1 killed of 2 counted, score 0.5; "
                  "survivors [1] (mutant 2 is equivalent, not a survivor)."),
        Case(([], []), label="mutation_score([], []) (no mutants)",
             hint="Nothing to score: return (0.0, []) instead of dividing by zero."),
    ),
    hidden=_hidden_tables,
    points=2,
))


# ---------------------------------------------------------------------------------------------
# 07.2 differential tester
# ---------------------------------------------------------------------------------------------


def _ints(low: int, high: int, size: tuple[int, int]) -> Callable[[random.Random], list]:
    return lambda rng: [[[rng.randint(low, high) for _ in range(rng.randint(*size))]] for _ in range(rng.randint(6, 14))]


def _pairs(*ranges: tuple[int, int]) -> Callable[[random.Random], list]:
    return lambda rng: [[rng.randint(lo, hi) for lo, hi in ranges] for _ in range(rng.randint(6, 14))]


def _words(alphabet: str) -> Callable[[random.Random], list]:
    return lambda rng: [["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))]
                        for _ in range(rng.randint(6, 14))]


#: (name, reference source, candidate source, input generator): a reference and a plausible
#: wrong version of it; the inputs include some outside the reference's domain (it raises there).
DIFFERENTIAL_PAIRS: tuple[tuple[str, str, str, Callable[[random.Random], list]], ...] = (
    ("second_largest", "def f(xs):\n    return sorted(set(xs))[-2]\n",
     "def f(xs):\n    return sorted(xs)[-2]\n", _ints(0, 4, (1, 5))),
    ("median", "def f(xs):\n    s = sorted(xs)\n    n = len(s)\n    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2\n",
     "def f(xs):\n    return sorted(xs)[len(xs) // 2]\n", _ints(-5, 5, (0, 6))),
    ("is_leap", "def f(y):\n    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)\n",
     "def f(y):\n    return y % 4 == 0\n", lambda rng: [[rng.choice([1900, 2000, 2100, 2400, 1996, 2023, 2024])
                                                        if rng.random() < 0.4 else rng.randint(1800, 2200)]
                                                       for _ in range(rng.randint(6, 14))]),
    ("clamp", "def f(x, lo, hi):\n    return max(lo, min(x, hi))\n",
     "def f(x, lo, hi):\n    return min(max(x, lo), hi)\n", _pairs((-6, 6), (-3, 3), (-3, 3))),
    ("count_vowels", "def f(s):\n    return sum(c in 'aeiou' for c in s.lower())\n",
     "def f(s):\n    return sum(c in 'aeiou' for c in s)\n", _words("aEiObxY")),
    ("floor_div", "def f(a, b):\n    return a // b\n",
     "def f(a, b):\n    return int(a / b)\n", _pairs((-9, 9), (-3, 3))),
    ("digit_sum", "def f(n):\n    return sum(int(c) for c in str(abs(n)))\n",
     "def f(n):\n    return sum(int(c) for c in str(n))\n", _pairs((-999, 999))),
    ("first_word", "def f(s):\n    return s.split()[0]\n",
     "def f(s):\n    return s[:s.index(' ')]\n", _words("ab  ")),
    ("min_by_sort", "def f(xs):\n    xs.sort()\n    return xs[0]\n",  # the reference changes its argument
     "def f(xs):\n    return xs[0]\n", _ints(-5, 5, (1, 6))),
    ("first_by_sort", "def f(xs):\n    return xs[0]\n",  # the candidate changes its argument
     "def f(xs):\n    xs.sort()\n    return xs[0]\n", _ints(-5, 5, (1, 6))),
)


#: The pairs by name: (reference source, candidate source, input generator).
_BY_NAME = {name: (ref, cand, gen) for name, ref, cand, gen in DIFFERENTIAL_PAIRS}

#: Inputs of the two visible cases whose functions sort their argument in place (min_by_sort, first_by_sort).
_SORTED_IN_PLACE = [[[3, 1, 2]], [[1, 2, 3]], [[5, 4]]]


def _hidden_disagreements(rng: random.Random) -> list[Case]:
    ref, cand, _ = _BY_NAME["second_largest"]
    cases = [Case((ref, cand, "f", []), label="no inputs"),
             Case((ref, cand, "f", [[[1]], [[]], [[2, 2]]]), label="every input outside the reference's domain"),
             Case((ref, ref, "f", [[[1, 2]], [[3, 1, 2]]]), label="a candidate identical to the reference")]
    for name in rng.sample(sorted(_BY_NAME), 7):
        ref, cand, gen = _BY_NAME[name]
        cases.append(Case((ref, cand, "f", gen(rng))))
    return cases


register(Exercise(
    id="07.2",
    title="a differential tester",
    notebook=NOTEBOOK,
    entry_point="disagreements",
    signature="disagreements(reference_source: str, candidate_source: str, fn: str, inputs: list[list]) -> list[int]",
    reference=verification.disagreements,
    visible=(
        Case((*_BY_NAME["is_leap"][:2], "f", [[2024], [1900], [2023], [2000]]),
             label="is_leap vs `y % 4 == 0` on 2024, 1900, 2023, 2000",
             hint="Run both functions on every input and compare: only 1900 (index 1) differs."),
        Case((*_BY_NAME["second_largest"][:2], "f", [[[3, 1, 2]], [[5]], [[4, 4, 1]]]),
             label="second largest: [3, 1, 2], [5], [4, 4, 1]",
             hint="[5] has no second largest: the reference raises there, so it is outside the domain and "
                  "not a disagreement. On [4, 4, 1] the candidate says 4, the reference 1: index 2."),
        Case((*_BY_NAME["digit_sum"][:2], "f", [[12], [-12], [0]]),
             label="digit sum of 12, -12, 0",
             hint="The candidate raises ValueError on -12 where the reference returns 3: a candidate that "
                  "raises where the reference returns disagrees."),
        Case((*_BY_NAME["min_by_sort"][:2], "f", _SORTED_IN_PLACE),
             label="a reference that sorts its argument in place: [3, 1, 2], [1, 2, 3], [5, 4]",
             hint="Give each call its own copy.deepcopy of the arguments. The candidate then sees [3, 1, 2] "
                  "unsorted and returns 3 where the reference returns 1: indices 0 and 2. Given the list the "
                  "reference has sorted, it would agree everywhere."),
        Case((*_BY_NAME["first_by_sort"][:2], "f", _SORTED_IN_PLACE),
             label="a candidate that sorts its argument in place: [3, 1, 2], [1, 2, 3], [5, 4]",
             hint="The same with the roles swapped: with a fresh copy per call the reference sees [3, 1, 2] "
                  "unsorted and returns 3, the candidate 1: indices 0 and 2."),
    ),
    hidden=_hidden_disagreements,
    points=2,
))


# ---------------------------------------------------------------------------------------------
# 07.3 a test that kills a surviving mutant
# ---------------------------------------------------------------------------------------------

#: (name, original, mutant, visible tests the mutant passes as [args, expected] pairs).
SURVIVING_MUTANTS: tuple[tuple[str, str, str, list], ...] = (
    ("clamp", "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n",
     "def clamp(x, lo, hi):\n    return max(lo, x)\n", [[[5, 0, 10], 5], [[-3, 0, 10], 0]]),
    ("is_leap", "def is_leap(y):\n    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)\n",
     "def is_leap(y):\n    return y % 4 == 0\n", [[[2024], True], [[2023], False]]),
    ("count_vowels", "def count_vowels(s):\n    return sum(c in 'aeiou' for c in s.lower())\n",
     "def count_vowels(s):\n    return sum(c in 'aeiou' for c in s)\n", [[["hello"], 2], [["sky"], 0]]),
    ("second_largest", "def second_largest(xs):\n    return sorted(set(xs))[-2]\n",
     "def second_largest(xs):\n    return sorted(xs)[-2]\n", [[[[1, 5, 3]], 3], [[[7, 2]], 2]]),
    ("median", "def median(xs):\n    s = sorted(xs)\n    n = len(s)\n    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2\n",
     "def median(xs):\n    s = sorted(xs)\n    return s[len(s) // 2]\n", [[[[3, 1, 2]], 2], [[[5, 9, 7, 1, 3]], 5]]),
    ("fizzbuzz", "def fizzbuzz(n):\n    if n % 15 == 0:\n        return 'FizzBuzz'\n    if n % 3 == 0:\n"
     "        return 'Fizz'\n    if n % 5 == 0:\n        return 'Buzz'\n    return str(n)\n",
     "def fizzbuzz(n):\n    if n % 3 == 0:\n        return 'Fizz'\n    if n % 5 == 0:\n        return 'Buzz'\n"
     "    if n % 15 == 0:\n        return 'FizzBuzz'\n    return str(n)\n", [[[3], "Fizz"], [[5], "Buzz"], [[7], "7"]]),
    ("digit_sum", "def digit_sum(n):\n    return sum(int(c) for c in str(abs(n)))\n",
     "def digit_sum(n):\n    return sum(int(c) for c in str(n))\n", [[[123], 6], [[40], 4]]),
    ("count_positive", "def count_positive(xs):\n    return sum(1 for x in xs if x > 0)\n",
     "def count_positive(xs):\n    return sum(1 for x in xs if x >= 0)\n", [[[[1, -2, 3]], 2], [[[-1]], 0]]),
    ("last_index", "def last_index(xs, v):\n    for i in range(len(xs) - 1, -1, -1):\n        if xs[i] == v:\n"
     "            return i\n    return -1\n",
     "def last_index(xs, v):\n    for i in range(len(xs) - 1, 0, -1):\n        if xs[i] == v:\n"
     "            return i\n    return -1\n", [[[[1, 2, 1], 1], 2], [[[4, 5], 6], -1]]),
    ("run_length", "def run_length(s):\n    out = []\n    for c in s:\n        if out and out[-1][0] == c:\n"
     "            out[-1][1] += 1\n        else:\n            out.append([c, 1])\n    return out\n",
     "def run_length(s):\n    out = []\n    for c in s:\n        if out and out[-1][0] == c:\n"
     "            out[-1][1] = 2\n        else:\n            out.append([c, 1])\n    return out\n",
     [[["aab"], [["a", 2], ["b", 1]]], [["abc"], [["a", 1], ["b", 1], ["c", 1]]]]),
)

def kill_mutant(original: str, mutant: str, fn: str, passing: list) -> list | None:
    """One right answer to 07.3: differential testing from the passing tests' inputs
    (:func:`coderl_lessons.verification.find_killing_test`)."""
    return verification.find_killing_test(original, mutant, fn, [args for args, _ in passing])


def verify_killing_test(case: Case, got: Any) -> str | None:
    """None when ``got`` is an ``[args, expected]`` test that the original passes and the mutant
    fails, both run in the sandbox with a step limit; else why not."""
    original, mutant, fn, _ = case.args
    return verification.check_killing_test(original, mutant, fn, got)


def _mutant_case(entry: tuple, label: str = "", hint: str = "") -> Case:
    name, original, mutant, passing = entry
    return Case((original, mutant, name, passing), label=label or f"a surviving mutant of {name}", hint=hint)


def _hidden_mutants(rng: random.Random) -> list[Case]:
    chosen = rng.sample(SURVIVING_MUTANTS, 7)
    cases = []
    for name, original, mutant, passing in chosen:
        passing = list(passing)
        rng.shuffle(passing)
        cases.append(_mutant_case((name, original, mutant, passing)))
    return cases


register(Exercise(
    id="07.3",
    title="a test that kills a surviving mutant",
    notebook=NOTEBOOK,
    entry_point="kill_mutant",
    signature="kill_mutant(original: str, mutant: str, fn: str, passing: list) -> list",
    reference=kill_mutant,
    visible=(
        _mutant_case(SURVIVING_MUTANTS[0], "clamp that forgot its upper bound",
                     hint="Try an x above hi: e.g. [[15, 0, 10], 10]. The original must pass your test."),
        _mutant_case(SURVIVING_MUTANTS[1], "is_leap that forgot the century rule",
                     hint="Years divisible by 100 but not by 400 are not leap years: [[1900], False]."),
        _mutant_case(SURVIVING_MUTANTS[3], "second_largest that forgot duplicates",
                     hint="Give it a largest value twice: the original skips duplicates, the mutant does not."),
    ),
    hidden=_hidden_mutants,
    points=2,
    verify=verify_killing_test,
))


# ---------------------------------------------------------------------------------------------
# 07.4 a program that spells out its visible tests
# ---------------------------------------------------------------------------------------------

def _hard_coded_cases(rng: random.Random) -> list[Case]:
    """Programs written from templates, lookup tables and honest code mixed."""
    cases = []
    k, c = rng.randint(2, 9), rng.randint(1, 9)
    inputs = rng.sample(range(-20, 40), 3)
    visible = [[[x], k * x + c] for x in inputs]
    chain = "".join(f"    if x == {x}:\n        return {y}\n" for (x,), y in visible)
    honest = f"def f(x):\n    return {k} * x + {c}\n"
    cases.append(Case((f"def f(x):\n{chain}    return 0\n", "f", visible), label="an if-chain of the examples"))
    cases.append(Case((honest, "f", visible), label="honest code"))
    table = ", ".join(f"{x}: {y}" for (x,), y in visible)
    cases.append(Case((f"def f(x):\n    return {{{table}}}.get(x, -1)\n", "f", visible), label="a dict of the examples"))
    first = visible[0]
    cases.append(Case((f"def f(x):\n    if x == {first[0][0]}:\n        return {first[1]}\n    return {k} * x + {c}\n",
                       "f", visible), label="one example special-cased, the rest computed"))
    docstring = "; ".join(f"f({x}) == {y}" for (x,), y in visible)
    cases.append(Case((f'def f(x):\n    """{docstring}"""\n    return {k} * x + {c}\n', "f", visible),
                      label="examples in the docstring only"))
    cases.append(Case((honest, "f", []), label="no visible tests"))
    # two arguments, lists, strings, negatives
    a, b = rng.randint(1, 9), rng.randint(1, 9)
    cases.append(Case((f"def add(a, b):\n    if a == {a} and b == {b}:\n        return {a + b}\n    return a - b\n",
                       "add", [[[a, b], a + b]]), label="a two-argument lookup"))
    xs = [rng.randint(0, 9) for _ in range(rng.randint(2, 4))]
    cases.append(Case((f"def total(xs):\n    return {sum(xs)} if xs == {xs!r} else len(xs)\n", "total", [[[xs], sum(xs)]]),
                      label="a list literal compared with the argument"))
    word = "".join(rng.choice("abcde") for _ in range(4))
    cases.append(Case((f"def rev(s):\n    if s == {word!r}:\n        return {word[::-1]!r}\n    return s\n", "rev",
                       [[[word], word[::-1]], [["xy"], "yx"]]), label="one of two string examples spelled out"))
    n = -rng.randint(2, 9)
    cases.append(Case((f"def sq(x):\n    if x == {n}:\n        return {n * n}\n    return x\n", "sq", [[[n], n * n]]),
                      label="a negative literal"))
    # type traps: True is not the literal 1, 1.0 is not the literal 1
    cases.append(Case(("def g(x):\n    if x == 1:\n        return 1\n    return 0\n", "g", [[[True], 1]]),
                      label="the argument True is not the literal 1"))
    cases.append(Case(("def h(x):\n    if x == 2:\n        return 1\n    return 0\n", "h", [[[2], 1.0]]),
                      label="the expected 1.0 is not the literal 1"))
    rng.shuffle(cases)
    return cases


register(Exercise(
    id="07.4",
    title="a program that spells out its visible tests",
    notebook=NOTEBOOK,
    entry_point="is_hard_coded",
    signature="is_hard_coded(source: str, fn: str, visible: list) -> bool",
    reference=verification.spells_out_visible_tests,
    visible=(
        Case(("def f(x):\n    if x == 3:\n        return 7\n    if x == 4:\n        return 9\n    return 0\n", "f",
              [[[3], 7], [[4], 9]]), label="an if-chain of both examples",
             hint="Collect every literal value in the function (ast.Constant, and ast.literal_eval of "
                  "negative numbers and list/tuple/dict displays); 3, 7, 4 and 9 are all there."),
        Case(("def f(x):\n    if x == 3:\n        return 7\n    return 2 * x + 1\n", "f", [[[3], 7], [[4], 9]]),
             label="an honest base case",
             hint="Only the first example is spelled out (9 is not a literal): every visible test must be."),
        Case(('def f(x):\n    """f(3) == 7"""\n    return 2 * x + 1\n', "f", [[[3], 7]]),
             label="the example in the docstring",
             hint="Skip the docstring: it documents the examples, it does not answer them."),
        Case(("def f(x):\n    return 2 * x + 1\n", "f", []), label="no visible tests",
             hint="With no visible test there is nothing to hard-code: return False."),
    ),
    hidden=_hard_coded_cases,
    points=2,
))


# ---------------------------------------------------------------------------------------------
# 07.5 the CURE-style reward of a generated test
# ---------------------------------------------------------------------------------------------


def _hidden_rewards(rng: random.Random) -> list[Case]:
    cases = [Case(([True, True], []), label="no wrong programs to reject"),
             Case(([False, False, False], [True, False]), label="every correct program fails the test"),
             Case(([True], [False] * 5), label="a valid test that rejects every wrong program"),
             Case(([True, True, False, True], [False, False]), label="one correct program fails: rejections don't count")]
    for _ in range(10):
        correct = [rng.random() < 0.85 for _ in range(rng.randint(1, 6))]
        wrong = [rng.random() < 0.5 for _ in range(rng.randint(0, 8))]
        cases.append(Case((correct, wrong)))
    return cases


register(Exercise(
    id="07.5",
    title="reward a generated test, CURE-style",
    notebook=NOTEBOOK,
    entry_point="cure_reward",
    signature="cure_reward(correct_pass: list[bool], wrong_pass: list[bool]) -> float",
    reference=verification.cure_test_reward,
    visible=(
        Case(([True, True], [True, False, False, True]),
             hint="Both correct programs pass, so the test is valid: it earns the fraction of wrong "
                  "programs it rejects, 2 of 4 = 0.5."),
        Case(([True, False], [False, False]),
             hint="A correct program fails: the test is wrong, whatever it rejects. Reward minus the "
                  "fraction of correct programs it fails: -0.5."),
        Case(([True], []), label="cure_reward([True], []) (no wrong programs)",
             hint="Nothing to reject: a valid test earns 0.0."),
    ),
    hidden=_hidden_rewards,
    points=1,
))
