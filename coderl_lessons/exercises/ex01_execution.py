"""Exercises of notebook 01_execution_feedback: from a staged execution result to a reward, a
failure class and a signal's precision, and tests strong enough to catch a mutant.

The results handed to 01.1 and 01.2 are real :class:`coderl_lessons.execution.ExecutionResult`
objects (made here, not by running anything), so the learner reads the same record the runner
returns. 01.4 has many right answers: its check verifies the learner's tests, which are plain data,
against the course's own function and mutant, both evaluated here (never the learner's code).
"""

from __future__ import annotations

import itertools
import random
from functools import lru_cache
from typing import Any, Callable, Sequence

from coderl_lessons.exercise import Case, Exercise, register
from coderl_lessons.execution import ExecutionResult, TestOutcome
from coderl_lessons.mutation import Mutant, mutants
from coderl_lessons.rewards import SURVEY_STAGE_WEIGHTS, binary_reward, fraction_reward, staged_reward

NOTEBOOK = "01_execution_feedback"

#: How far a job got before its tests (the runner's ``ExecutionResult.stage``).
LOAD_STAGES = ("syntax_error", "load_error", "time_limit", "memory_limit", "crashed")
#: The status of one test (the runner's ``TestOutcome.status``).
TEST_STATUSES = ("passed", "wrong_answer", "error", "time_limit", "memory_limit", "not_run")


# ---------------------------------------------------------------------------------------------
# Reference implementations
# ---------------------------------------------------------------------------------------------


def execution_rewards(result: ExecutionResult, weights: Sequence[float] = SURVEY_STAGE_WEIGHTS) -> dict:
    """Three rewards for one staged result.

    * ``"staged"``: the survey README's shaped reward, ``w_compile * compiled + w_load * loaded +
      w_tests * (every test passed)``, with ``weights = (w_compile, w_load, w_tests)``;
    * ``"sparse"``: DeepCoder's reward, 1.0 only when there was at least one test and all passed;
    * ``"fraction"``: the fraction of tests passed (verl's partial credit), 0.0 with no tests.
    """
    return {
        "staged": staged_reward(result, weights),
        "sparse": binary_reward(result),
        "fraction": fraction_reward(result),
    }


def classify_failure(result: ExecutionResult) -> str:
    """One word for what happened to a job.

    A job that did not load is named by its stage (``"syntax_error"``, ``"load_error"``,
    ``"time_limit"``, ``"memory_limit"``, ``"crashed"``). A job that loaded (stage ``"ran"``) is
    ``"no_tests"`` without tests, ``"passed"`` when every test passed, and otherwise named by its
    *first* test that did not pass (LiveCodeBench stops there too): its status, except that
    ``"error"`` is called ``"runtime_error"``.
    """
    if result.stage != "ran":
        return result.stage
    if not result.tests:
        return "no_tests"
    for outcome in result.tests:
        if outcome.status != "passed":
            return "runtime_error" if outcome.status == "error" else outcome.status
    return "passed"


def precision_recall(signal: Sequence[bool], correct: Sequence[bool]) -> dict:
    """Precision and recall of a yes/no signal against a correctness label, program by program.

    precision = P(correct | signal says yes), recall = P(signal says yes | correct); each is
    ``None`` when its denominator is zero (no program got a yes; no program is correct).
    """
    if len(signal) != len(correct):
        raise ValueError(f"got {len(signal)} signals for {len(correct)} labels")
    both = sum(1 for s, c in zip(signal, correct) if s and c)
    said_yes = sum(1 for s in signal if s)
    are_correct = sum(1 for c in correct if c)
    return {
        "precision": both / said_yes if said_yes else None,
        "recall": both / are_correct if are_correct else None,
    }


# ---------------------------------------------------------------------------------------------
# 01.4: tests that kill a mutant of a small function
# ---------------------------------------------------------------------------------------------

STREAK_SOURCE = '''def longest_streak(statuses):
    """The length of the longest run of consecutive "passed" entries in statuses."""
    best = 0
    current = 0
    for status in statuses:
        if status == "passed":
            current += 1
            if current > best:
                best = current
        else:
            current = 0
    return best
'''


def longest_streak(statuses: list[str]) -> int:
    """The length of the longest run of consecutive "passed" entries in statuses (the function
    whose mutants 01.4 asks to catch; the same code as :data:`STREAK_SOURCE`)."""
    best = 0
    current = 0
    for status in statuses:
        if status == "passed":
            current += 1
            if current > best:
                best = current
        else:
            current = 0
    return best


#: Inputs used to tell a mutant from the original: every list of statuses of length 0 to 4.
_PROBES = tuple(list(p) for n in range(5) for p in itertools.product(TEST_STATUSES, repeat=n))
MAX_TESTS = 50
MAX_LIST = 1000


@lru_cache(maxsize=None)
def _function(source: str) -> Callable[[list], Any]:
    """The ``longest_streak`` that ``source`` defines (course-made source only: the original or a
    mutant of it, a pure function of one list, run here in-process)."""
    namespace: dict = {}
    exec(compile(source, "<longest_streak mutant>", "exec"), namespace)  # noqa: S102 - trusted course code
    return namespace["longest_streak"]


def _outcome(function: Callable[[list], Any], statuses: list) -> tuple[bool, Any]:
    """(returned normally, value or exception name)."""
    try:
        return True, function(list(statuses))
    except Exception as error:  # noqa: BLE001 - a mutant may raise; that is a failed test
        return False, type(error).__name__


def _same(ok: bool, value: Any, expected: Any) -> bool:
    return ok and type(value) is type(expected) and value == expected


@lru_cache(maxsize=1)
def killable_mutants() -> tuple[Mutant, ...]:
    """Mutants of :data:`STREAK_SOURCE` that behave differently from it on some probe input
    (the rest are equivalent mutants: no test can catch them, so no exercise asks for it)."""
    out = []
    for mutant in mutants(STREAK_SOURCE, seed=0):
        function = _function(mutant.source)
        if any(not _same(*_outcome(function, probe), longest_streak(probe)) for probe in _PROBES):
            out.append(mutant)
    return tuple(out)


def tests_that_kill(mutant_source: str) -> list[tuple[tuple, int]]:
    """One right answer to 01.4: search the probe inputs, shortest first, for one where the mutant
    and ``longest_streak`` differ (differential testing), and return it as a one-test suite."""
    mutant = _function(mutant_source)
    for probe in _PROBES:
        want = longest_streak(probe)
        if not _same(*_outcome(mutant, probe), want):
            return [((probe,), want)]
    return []


def verify_tests(case: Case, got: Any) -> str | None:
    """None when ``got`` is a list of ``(args, expected)`` tests that all pass on
    ``longest_streak`` and at least one of which fails on the case's mutant; else why not."""
    if not isinstance(got, list) or not got:
        return "expected a non-empty list of (args, expected) pairs"
    if len(got) > MAX_TESTS:
        return f"expected at most {MAX_TESTS} tests, got {len(got)}"
    tests = []
    for index, test in enumerate(got):
        if not (isinstance(test, list) and len(test) == 2):
            return f"test {index}: expected an (args, expected) pair, got {test!r:.80}"
        args, expected = test
        if not (isinstance(args, list) and len(args) == 1 and isinstance(args[0], list)):
            return (f"test {index}: args must be a tuple with one list of statuses, like "
                    f"([\"passed\", \"error\"],), got {args!r:.80}")
        statuses = args[0]
        if len(statuses) > MAX_LIST or not all(isinstance(s, str) for s in statuses):
            return f"test {index}: the statuses must be at most {MAX_LIST} strings"
        if type(expected) is not int:
            return f"test {index}: the expected value must be an int, got {expected!r:.40}"
        want = longest_streak(statuses)
        if expected != want:
            return (f"test {index} fails on the correct function: longest_streak({statuses!r:.60}) "
                    f"is {want}, not {expected}")
        tests.append((statuses, expected))
    mutant = _function(case.args[0])
    if any(not _same(*_outcome(mutant, statuses), expected) for statuses, expected in tests):
        return None
    return "every one of your tests passes on this mutant too: none of them catches it"


def _mutant_case(mutant: Mutant, hint: str = "") -> Case:
    return Case((mutant.source,), label=f"mutant with {mutant.description}", hint=hint)


def _visible_mutants() -> tuple[Case, ...]:
    by_description = {m.description: m for m in killable_mutants()}
    chosen = (
        ("line 3: `0` -> `1`",
         "An empty list has no streak at all: include the test (([],), 0)."),
        ("line 11: dropped `current = 0`",
         "This mutant forgets to reset the streak after a failure: include a list where a failure "
         "splits two runs of 'passed'."),
        ("line 6: `==` -> `>=`",
         "'wrong_answer' >= 'passed' is True for strings: a failure status that sorts after "
         "'passed' (e.g. 'wrong_answer', 'time_limit') catches it; 'error' does not."),
    )
    return tuple(_mutant_case(by_description[text], hint) for text, hint in chosen)


def _hidden_mutants(rng: random.Random) -> list[Case]:
    pool = list(killable_mutants())
    # "Hard" mutants get [] and ["passed"] right: a suite of only the obvious cases misses them.
    hard = [m for m in pool if all(_same(*_outcome(_function(m.source), statuses), longest_streak(statuses))
                                   for statuses in ([], ["passed"]))]
    chosen = rng.sample(hard, min(4, len(hard)))
    chosen += rng.sample([m for m in pool if m not in chosen], 6)
    return [_mutant_case(m) for m in chosen]


# ---------------------------------------------------------------------------------------------
# Random execution results for 01.1 and 01.2
# ---------------------------------------------------------------------------------------------


def make_result(stage: str, statuses: Sequence[str] = ()) -> ExecutionResult:
    """An ExecutionResult with this stage and one TestOutcome per status (plausible details)."""
    details = {
        "wrong_answer": dict(expected="3", got="2"),
        "error": dict(error_type="ZeroDivisionError", message="division by zero"),
        "time_limit": dict(error_type="TimeLimitExceeded", message="the program ran past its time limit"),
        "memory_limit": dict(error_type="MemoryError", message=""),
    }
    tests = tuple(TestOutcome(s, **details.get(s, {}), seconds=0.001 if s != "not_run" else 0.0) for s in statuses)
    errors = {
        "syntax_error": ("SyntaxError", "invalid syntax (<string>, line 3)"),
        "load_error": ("NameError", "name 'check' is not defined"),
        "time_limit": ("TimeLimitExceeded", "the program ran past its time limit"),
        "memory_limit": ("MemoryError", ""),
        "crashed": ("WorkerDied", "the sandbox worker died or stopped answering"),
    }
    error_type, message = errors.get(stage, (None, None))
    return ExecutionResult(stage, tests, error_type, message, 0.01)


def _random_result(rng: random.Random) -> ExecutionResult:
    n = rng.choice([0, 1, 1, 2, 3, 4, 5, 8])
    if rng.random() < 0.3:
        return make_result(rng.choice(LOAD_STAGES), ["not_run"] * n)
    if rng.random() < 0.3:
        return make_result("ran", ["passed"] * n)
    statuses = [rng.choice(TEST_STATUSES[:5]) if rng.random() < 0.5 else "passed" for _ in range(n)]
    for i, status in enumerate(statuses):  # a job's time is shared: after a time limit, nothing runs
        if status == "time_limit":
            statuses[i + 1:] = ["not_run"] * (n - i - 1)
            break
    return make_result("ran", statuses)


def _describe(result: ExecutionResult) -> str:
    tests = ", ".join(t.status for t in result.tests) or "none"
    return f"stage {result.stage!r}, tests: {tests}"


def _random_weights(rng: random.Random) -> tuple[float, float, float]:
    if rng.random() < 0.3:
        return SURVEY_STAGE_WEIGHTS
    a, b = sorted(rng.randint(0, 20) for _ in range(2))
    return (a / 20, (b - a) / 20, (20 - b) / 20)


def _hidden_rewards(rng: random.Random) -> list[Case]:
    survey = SURVEY_STAGE_WEIGHTS
    cases = [
        Case((make_result("ran", []), survey), label="loaded, but there were no tests"),
        Case((make_result("time_limit", ["not_run"] * 3), survey), label="timed out while loading"),
        Case((make_result("ran", ["passed", "passed", "time_limit"]), (0.3, 0.1, 0.6)),
             label="the survey README's other weights: 0.3 compile, 0.1 runtime, 0.6 unit tests"),
    ]
    cases += [Case((_random_result(rng), _random_weights(rng))) for _ in range(14)]
    return cases


def _hidden_classes(rng: random.Random) -> list[Case]:
    cases = [
        Case((make_result("ran", []),), label="loaded, no tests"),
        Case((make_result("crashed", ["not_run"] * 2),), label="the worker crashed"),
        Case((make_result("ran", ["passed", "memory_limit", "error"]),), label="first failure decides"),
        Case((make_result("ran", ["passed", "time_limit", "not_run"]),), label="a test timed out"),
    ]
    cases += [Case((_random_result(rng),)) for _ in range(14)]
    return cases


def _hidden_signals(rng: random.Random) -> list[Case]:
    cases = [
        Case(([False, False, False], [True, False, True]), label="the signal never says yes"),
        Case(([True, True], [False, False]), label="no program is correct"),
        Case(([], []), label="no programs at all"),
        Case(([True] * 6, [True, False, False, True, False, False]), label="a signal that always says yes"),
    ]
    for _ in range(10):
        n = rng.randint(1, 40)
        correct = [rng.random() < rng.random() for _ in range(n)]
        signal = [c or rng.random() < 0.4 if rng.random() < 0.9 else not c for c in correct]
        cases.append(Case((signal, correct)))
    return cases


# ---------------------------------------------------------------------------------------------
# The exercises
# ---------------------------------------------------------------------------------------------

register(Exercise(
    id="01.1",
    title="staged, sparse and partial-credit rewards from one execution result",
    notebook=NOTEBOOK,
    entry_point="execution_rewards",
    signature="execution_rewards(result: ExecutionResult, weights: tuple[float, float, float]) -> dict",
    reference=execution_rewards,
    visible=(
        Case((make_result("ran", ["passed", "wrong_answer", "passed"]), SURVEY_STAGE_WEIGHTS),
             label="loaded, 2 of 3 tests passed, weights (0.3, 0.3, 0.4)",
             hint="It compiled (0.3) and loaded (0.3) but not every test passed: staged 0.6, sparse 0.0, "
                  "fraction 2/3."),
        Case((make_result("syntax_error", ["not_run", "not_run"]), SURVEY_STAGE_WEIGHTS),
             label="syntax error, weights (0.3, 0.3, 0.4)",
             hint="A program that does not compile earns nothing under any of the three rewards."),
        Case((make_result("load_error", ["not_run"]), (0.5, 0.25, 0.25)),
             label="raised while loading, weights (0.5, 0.25, 0.25)",
             hint="A load error still compiled: every stage except 'syntax_error' counts as compiled; only "
                  "'ran' counts as loaded."),
        Case((make_result("ran", []), SURVEY_STAGE_WEIGHTS),
             label="loaded, but there were no tests",
             hint="No tests is no evidence: the test part of the staged reward, the sparse reward and the "
                  "fraction are all 0.0 (a harness that lost its tests must not pay out)."),
    ),
    hidden=_hidden_rewards,
    points=2,
))

register(Exercise(
    id="01.2",
    title="name a job's failure",
    notebook=NOTEBOOK,
    entry_point="classify_failure",
    signature="classify_failure(result: ExecutionResult) -> str",
    reference=classify_failure,
    visible=(
        Case((make_result("syntax_error", ["not_run"]),), label="stage 'syntax_error'",
             hint="A job that did not load is named by its stage."),
        Case((make_result("ran", ["passed", "error", "wrong_answer"]),),
             label="loaded; tests: passed, error, wrong_answer",
             hint="The first test that did not pass decides, and a test 'error' is called 'runtime_error'."),
        Case((make_result("ran", ["passed", "passed"]),), label="loaded; tests: passed, passed",
             hint="Every test passed."),
        Case((make_result("ran", []),), label="loaded; no tests",
             hint="A job with no tests has not passed anything: call it 'no_tests'."),
    ),
    hidden=_hidden_classes,
    points=2,
))

register(Exercise(
    id="01.3",
    title="precision and recall of an execution signal",
    notebook=NOTEBOOK,
    entry_point="precision_recall",
    signature="precision_recall(signal: list[bool], correct: list[bool]) -> dict",
    reference=precision_recall,
    visible=(
        Case(([True, True, True, False], [True, False, True, False]),
             hint="3 programs got a yes and 2 of them are correct: precision 2/3; both correct programs got "
                  "a yes: recall 1.0."),
        Case(([True, False, False, False], [True, True, False, False]),
             hint="precision 1/1, recall 1/2: a strict signal misses correct programs."),
        Case(([False, False], [True, False]), label="precision_recall([False, False], [True, False])",
             hint="No program got a yes: precision is undefined, return None for it (recall is 0.0)."),
    ),
    hidden=_hidden_signals,
    points=1,
))

register(Exercise(
    id="01.4",
    title="call-based tests that catch a mutant",
    notebook=NOTEBOOK,
    entry_point="tests_that_kill",
    signature="tests_that_kill(mutant_source: str) -> list[tuple[tuple, int]]",
    reference=tests_that_kill,
    visible=_visible_mutants(),
    hidden=_hidden_mutants,
    points=2,
    verify=verify_tests,
))
