"""Mutants: one hand-written expected mutant per operator, the invariants (valid, different,
distinct, seeded) on HumanEval programs and on generated expressions, and bad input."""

from __future__ import annotations

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coderl_lessons.humaneval import get_task, load_humaneval
from coderl_lessons.mutation import OPERATORS, Mutant, mutants, mutate_task

#: operator -> (a solution, one mutant it must produce, written out by hand, and its description)
EXPECTED = {
    "arithmetic": (
        "def f(a, b):\n    return a + b  # sum\n",
        "def f(a, b):\n    return a - b  # sum\n",
        "line 2: `+` -> `-`",
    ),
    "comparison": (
        "def f(a, b):\n    return a < b\n",
        "def f(a, b):\n    return a <= b\n",
        "line 2: `<` -> `<=`",
    ),
    "constant": (
        "def f(a):\n    return a * 3\n",
        "def f(a):\n    return a * 0\n",
        "line 2: `3` -> `0`",
    ),
    "range_bound": (
        "def f(n):\n    return list(range(n))\n",
        "def f(n):\n    return list(range(n + 1))\n",
        "line 2: `range(n)` -> `range(n + 1)`",
    ),
    "subscript": (
        "def f(xs, i):\n    return xs[i]\n",
        "def f(xs, i):\n    return xs[i - 1]\n",
        "line 2: `xs[i]` -> `xs[i - 1]`",
    ),
    "negate_condition": (
        "def f(x):\n    if x > 0:\n        return 1\n    return 2\n",
        "def f(x):\n    if not x > 0:\n        return 1\n    return 2\n",
        "line 2: `x > 0` -> `not x > 0`",
    ),
    "boolean_operator": (
        "def f(a, b):\n    return a and b\n",
        "def f(a, b):\n    return a or b\n",
        "line 2: `and` -> `or`",
    ),
    "return_none": (
        "def f(x):\n    return x\n",
        "def f(x):\n    return None\n",
        "line 2: `return x` -> `return None`",
    ),
    "drop_statement": (
        "def f(x):\n    y = x + 1\n    y *= 2\n    return y\n",
        "def f(x):\n    y = x + 1\n    return y\n",
        "line 3: dropped `y *= 2`",
    ),
    "true_false": (
        "def f():\n    return True\n",
        "def f():\n    return False\n",
        "line 2: `True` -> `False`",
    ),
}


def _dump(source: str) -> str:
    return ast.dump(ast.parse(source))


def test_every_operator_has_a_check():
    assert set(EXPECTED) == set(OPERATORS)


@pytest.mark.parametrize("operator", OPERATORS)
def test_each_operator_makes_its_mutant(operator):
    source, expected_source, description = EXPECTED[operator]
    found = mutants(source, operators=[operator])
    assert found and all(m.operator == operator for m in found)
    match = [m for m in found if m.source == expected_source]
    assert len(match) == 1
    assert match[0].description == description
    assert match[0].lineno == int(description.split()[1].rstrip(":"))


def test_constant_and_subscript_variants():
    constants = {m.source for m in mutants("def f(a):\n    return a * 3\n", operators=["constant"])}
    assert constants == {f"def f(a):\n    return a * {c}\n" for c in (4, 2, 0)}
    found = mutants("def f(s):\n    return s[1:]\n", operators=["subscript"])
    slices = {m.description for m in found}
    assert slices == {"line 2: `s[1:]` -> `s[1 + 1:]`", "line 2: `s[1:]` -> `s[1 - 1:]`"}


def test_text_before_the_change_may_be_non_ascii():  # ast's offsets count UTF-8 bytes
    found = mutants('def f(x):\n    return ("➞ é", x * 2)  # ✓\n', operators=["arithmetic"])
    sources = {m.source for m in found}
    assert 'def f(x):\n    return ("➞ é", x + 2)  # ✓\n' in sources
    assert len(sources) == 5


def test_dropping_the_only_statement_leaves_pass():
    (dropped,) = mutants("def f(x):\n    print(x)\n", operators=["drop_statement"])
    assert dropped.source == "def f(x):\n    pass\n"


def test_brackets_are_added_where_precedence_needs_them():
    source = (
        "def f(a, b, c):\n    if a - b * c:\n        # positive\n        return 1\n    return 0\n"
    )
    found = mutants(source, operators=["arithmetic"])
    plus = next(m for m in found if m.description == "line 2: `*` -> `+`")
    assert plus.source == source.replace("b * c", "(b + c)")  # the comment inside the `if` stays
    namespace: dict = {}
    exec(plus.source, namespace)  # noqa: S102 - our own snippet
    assert namespace["f"](3, 2, 1) == 0


def test_dropping_an_elif_keeps_the_text_around_the_if():
    head = "def grade(x):\n    # a comment\n"
    source = head + (
        "    if x > 2:\n        return 'a'\n"
        "    elif x > 1:\n        return 'b'\n"
        "    elif x > 0:\n        return 'c'\n"
        "    return 'd'\n"
    )
    found = {m.description: m for m in mutants(source, operators=["drop_statement"])}
    for description, grades in [
        ("line 5: dropped `if x > 1:`", ["a", "d", "d", "d"]),  # drops the rest of the chain
        ("line 7: dropped `if x > 0:`", ["a", "b", "d", "d"]),
    ]:
        assert found[description].source.startswith(head)
        assert found[description].source.endswith("    return 'd'\n")
        namespace: dict = {}
        exec(found[description].source, namespace)  # noqa: S102 - our own snippet
        assert [namespace["grade"](x) for x in (3, 1.5, 0.5, -1)] == grades


def test_docstrings_signatures_and_module_code_are_not_mutated():
    source = (
        "LIMIT = 3\n\n\ndef f(x, y=1):\n"
        '    """Add 1 and compare with LIMIT < 10."""\n'
        "    return x + 1 < LIMIT\n"
    )
    found = mutants(source)
    assert found
    original = source.splitlines()
    for mutant in found:
        lines = mutant.source.splitlines()
        assert lines[:5] == original[:5], mutant.description
        assert mutant.lineno == 6


def test_function_picks_one_body():
    source = "def g(x):\n    return x + 1\n\n\ndef f(x):\n    return x * 2\n"
    assert {m.lineno for m in mutants(source, function="f")} == {6}
    assert {m.lineno for m in mutants(source)} == {2, 6}


SAMPLE = [get_task(i) for i in range(0, 164, 9)]


@pytest.mark.parametrize("task", SAMPLE, ids=lambda task: task.task_id)
def test_task_mutants_are_valid_distinct_programs_that_keep_the_prompt(task):
    found = mutate_task(task)
    assert found
    original = _dump(task.program)
    dumps = [_dump(m.source) for m in found]  # every mutant parses...
    for mutant in found:
        compile(mutant.source, mutant.description, "exec")  # ...and compiles
    assert original not in dumps
    assert len(set(dumps)) == len(dumps)
    prompt_lines = task.prompt.count("\n")
    for mutant in found:
        assert isinstance(mutant, Mutant) and mutant.operator in OPERATORS
        assert mutant.source.startswith(task.prompt)
        assert mutant.lineno > prompt_lines
        assert mutant.description.startswith(f"line {mutant.lineno}: ")


def test_seeds_shuffle_the_same_mutants_and_max_mutants_truncates():
    task = get_task("HumanEval/0")
    first, again = mutate_task(task, seed=1), mutate_task(task, seed=1)
    other = mutate_task(task, seed=2)
    assert first == again
    assert first != other
    assert sorted(m.source for m in first) == sorted(m.source for m in other)
    assert mutate_task(task, seed=1, max_mutants=5) == first[:5]
    assert mutate_task(task, max_mutants=0) == []


def test_every_operator_occurs_across_humaneval():
    operators = {m.operator for task in load_humaneval()[:40] for m in mutate_task(task)}
    assert operators == set(OPERATORS)


_NAMES = st.sampled_from(["a", "b", "c"])
_EXPRESSIONS = st.recursive(
    _NAMES | st.integers(0, 9).map(str),
    lambda inner: st.builds(
        "({} {} {})".format,
        inner,
        st.sampled_from(["+", "-", "*", "//", "%", "<", "==", "and"]),
        inner,
    )
    | st.builds("{}[{}]".format, _NAMES, inner),
    max_leaves=6,
)


@settings(max_examples=60, deadline=None)
@given(_EXPRESSIONS, st.integers(0, 3))
def test_generated_expressions(expression, seed):
    source = f"def f(a, b, c):\n    # keep me\n    return {expression}\n"
    found = mutants(source, seed=seed)
    dumps = [_dump(m.source) for m in found]
    assert _dump(source) not in dumps
    assert len(set(dumps)) == len(dumps)
    for mutant in found:
        assert mutant.source.startswith("def f(a, b, c):\n    # keep me\n")
    assert [m.source for m in mutants(source, seed=seed)] == [m.source for m in found]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": "def f(:\n"}, "expected source that parses"),
        ({"source": "def f(x):\n    return x\n", "operators": ["swap"]}, "expected names from"),
        ({"source": "def f(x):\n    return x\n", "operators": "arithmetic"}, "got a string"),
        ({"source": "def f(x):\n    return x\n", "max_mutants": -1}, "max_mutants >= 0"),
        ({"source": "def f(x):\n    return x\n", "function": "g"}, "function named 'g'"),
    ],
)
def test_bad_input(kwargs, message):
    source = kwargs.pop("source")
    with pytest.raises(ValueError, match=message):
        mutants(source, **kwargs)


def test_a_task_id_where_a_task_is_expected_says_how_to_get_the_task():
    with pytest.raises(TypeError, match=r"get_task\('HumanEval/0'\)"):
        mutate_task("HumanEval/0")


def test_mutants_refuse_a_source_or_count_of_the_wrong_type():
    with pytest.raises(TypeError, match="source must be a program's text"):
        mutants(None)
    for bad in ("3", 2.5, -1):
        with pytest.raises(ValueError, match=r"max_mutants >= 0 \(an int\)"):
            mutants("def f(x):\n    return x + 1\n", max_mutants=bad)
