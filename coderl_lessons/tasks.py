"""The training task family: tiny functions to write from a short spec, checked by real tests.

Each task asks for ``def f(x):`` that does one small thing to an int or a list of ints ("multiply
by 3, then add 1"; "keep the items greater than 2"). Why this family:

* The programs are real Python, run by the real sandboxed runner (``coderl_lessons.execution``), so
  the reward a policy learns from is an execution result, not a string match.
* The program language is tiny (a few dozen code pieces, ``PROGRAM_PIECES``), so a policy of about
  156k parameters (``policy.Policy``) can learn it on a laptop CPU in minutes.
* Difficulty is spread by program length: level 1 is one operation (``return x + 4``), level 2 two
  operations (``return (x + 2) * 3``), level 3 three or a branch (``if x > 3: return 7`` ...).
* Every task has a few *visible* tests (small inputs, the ones a prompt would show) and more
  *hidden* tests, disjoint from the visible ones: every small input (where this family's
  thresholds lie) plus ``n_hidden`` wider ones. A program that only fits the visible tests, such
  as ``if x == 2: return 7``, is expressible in the same pieces and is caught by the hidden tests:
  the reward-hacking lesson needs both facts.

The expected outputs come from a plain Python function per template (the task's semantics), never
from running the reference program, so "the reference passes its own tests" is a real check.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Literal, Sequence

from coderl_lessons.execution import CallTest

HEADER = "def f(x):\n    "
"""Every program starts with this line; a policy writes only the body that follows it."""

NEWLINE = "\n    "
DIGITS = tuple(str(d) for d in range(10))
PROGRAM_PIECES: tuple[str, ...] = (
    "return ", NEWLINE, "if ", ": ", "x", "v", "(", ")", "[", "]",
    " + ", " - ", " * ", " // ", " % ", " > ", " < ", " == ",
    " for v in x", " if ", "sum(", "len(", "max(", "min(", "sorted(", "[::-1]",
) + DIGITS
"""The code pieces a program body is written in (the policy's vocabulary, less its special tokens)."""

SPEC_WORDS: tuple[str, ...] = (
    "int", "list", "add", "sub", "mul", "div", "mod", "square", "if_gt", "then",
    "sum", "len", "max", "min", "sorted", "reversed", "map", "filter_gt",
) + DIGITS
"""The words a spec is written in; ``Task.spec_tokens`` is what the policy is conditioned on."""

SPEC_LEN = 7
"""The longest spec, in words (``int add 2 mul 3 sub 1``)."""

ArgKind = Literal["int", "list"]
Which = Literal["visible", "hidden", "all"]


@dataclass(frozen=True)
class Task:
    """One function to write. ``body`` is the reference solution's body as code pieces."""

    name: str
    spec: str
    spec_tokens: tuple[str, ...]
    arg_kind: ArgKind
    level: int
    body: tuple[str, ...]
    visible: tuple[CallTest, ...]
    hidden: tuple[CallTest, ...]

    @property
    def reference(self) -> str:
        """The reference solution as a program the runner can execute."""
        return HEADER + "".join(self.body)

    @property
    def prompt(self) -> str:
        """What a code model would be shown: the signature, the spec and the visible tests."""
        examples = "".join(f"\n    >>> f({t.args[0]!r})\n    {t.expected!r}" for t in self.visible)
        return f'def f(x):\n    """{self.spec}{examples}\n    """'

    def tests(self, which: Which = "all") -> tuple[CallTest, ...]:
        """The visible tests, the hidden tests, or both (visible first)."""
        if which == "visible":
            return self.visible
        if which == "hidden":
            return self.hidden
        if which == "all":
            return self.visible + self.hidden
        raise ValueError(f"which must be 'visible', 'hidden' or 'all', got {which!r}")


@dataclass(frozen=True)
class Template:
    """A kind of task: how to draw its constants, and from them its spec, body and semantics."""

    name: str
    arg_kind: ArgKind
    level: int
    constants: tuple[range, ...]
    spec: Callable[..., tuple[str, ...]]
    text: Callable[..., str]
    body: Callable[..., tuple[str, ...]]
    semantics: Callable[..., Callable[[Any], Any]]


def _ret(*pieces: str) -> tuple[str, ...]:
    return ("return ",) + pieces


_C19, _C29, _C05 = range(1, 10), range(2, 10), range(0, 6)
TEMPLATES: tuple[Template, ...] = (
    # level 1: one operation
    Template("add", "int", 1, (_C19,), lambda c: ("int", "add", str(c)), lambda c: f"Return x plus {c}.",
              lambda c: _ret("x", " + ", str(c)), lambda c: lambda x: x + c),
    Template("sub", "int", 1, (_C19,), lambda c: ("int", "sub", str(c)), lambda c: f"Return x minus {c}.",
              lambda c: _ret("x", " - ", str(c)), lambda c: lambda x: x - c),
    Template("mul", "int", 1, (_C29,), lambda c: ("int", "mul", str(c)), lambda c: f"Return x times {c}.",
              lambda c: _ret("x", " * ", str(c)), lambda c: lambda x: x * c),
    Template("div", "int", 1, (_C29,), lambda c: ("int", "div", str(c)),
              lambda c: f"Return x divided by {c}, rounded down.",
              lambda c: _ret("x", " // ", str(c)), lambda c: lambda x: x // c),
    Template("mod", "int", 1, (_C29,), lambda c: ("int", "mod", str(c)),
              lambda c: f"Return the remainder of x divided by {c}.",
              lambda c: _ret("x", " % ", str(c)), lambda c: lambda x: x % c),
    Template("square", "int", 1, (), lambda: ("int", "square"), lambda: "Return x squared.",
              lambda: _ret("x", " * ", "x"), lambda: lambda x: x * x),
    Template("sum", "list", 1, (), lambda: ("list", "sum"), lambda: "Return the sum of the list x.",
              lambda: _ret("sum(", "x", ")"), lambda: sum),
    Template("len", "list", 1, (), lambda: ("list", "len"), lambda: "Return the length of the list x.",
              lambda: _ret("len(", "x", ")"), lambda: len),
    Template("max", "list", 1, (), lambda: ("list", "max"), lambda: "Return the largest item of x.",
              lambda: _ret("max(", "x", ")"), lambda: max),
    Template("min", "list", 1, (), lambda: ("list", "min"), lambda: "Return the smallest item of x.",
              lambda: _ret("min(", "x", ")"), lambda: min),
    Template("sorted", "list", 1, (), lambda: ("list", "sorted"), lambda: "Return x sorted, smallest first.",
              lambda: _ret("sorted(", "x", ")"), lambda: sorted),
    Template("reversed", "list", 1, (), lambda: ("list", "reversed"), lambda: "Return x reversed.",
              lambda: _ret("x", "[::-1]"), lambda: lambda x: x[::-1]),
    # level 2: two operations
    Template("mul_add", "int", 2, (_C29, _C19), lambda a, b: ("int", "mul", str(a), "add", str(b)),
              lambda a, b: f"Return x times {a}, plus {b}.",
              lambda a, b: _ret("x", " * ", str(a), " + ", str(b)), lambda a, b: lambda x: x * a + b),
    Template("mul_sub", "int", 2, (_C29, _C19), lambda a, b: ("int", "mul", str(a), "sub", str(b)),
              lambda a, b: f"Return x times {a}, minus {b}.",
              lambda a, b: _ret("x", " * ", str(a), " - ", str(b)), lambda a, b: lambda x: x * a - b),
    Template("add_mul", "int", 2, (_C19, _C29), lambda a, b: ("int", "add", str(a), "mul", str(b)),
              lambda a, b: f"Add {a} to x, then multiply by {b}.",
              lambda a, b: _ret("(", "x", " + ", str(a), ")", " * ", str(b)), lambda a, b: lambda x: (x + a) * b),
    Template("sub_mul", "int", 2, (_C19, _C29), lambda a, b: ("int", "sub", str(a), "mul", str(b)),
              lambda a, b: f"Subtract {a} from x, then multiply by {b}.",
              lambda a, b: _ret("(", "x", " - ", str(a), ")", " * ", str(b)), lambda a, b: lambda x: (x - a) * b),
    Template("square_add", "int", 2, (_C19,), lambda b: ("int", "square", "add", str(b)),
              lambda b: f"Return x squared, plus {b}.",
              lambda b: _ret("x", " * ", "x", " + ", str(b)), lambda b: lambda x: x * x + b),
    Template("map_mul", "list", 2, (_C29,), lambda c: ("list", "map", "mul", str(c)),
              lambda c: f"Return each item of x times {c}.",
              lambda c: _ret("[", "v", " * ", str(c), " for v in x", "]"), lambda c: lambda x: [v * c for v in x]),
    Template("map_add", "list", 2, (_C19,), lambda c: ("list", "map", "add", str(c)),
              lambda c: f"Return each item of x plus {c}.",
              lambda c: _ret("[", "v", " + ", str(c), " for v in x", "]"), lambda c: lambda x: [v + c for v in x]),
    Template("filter_gt", "list", 2, (_C05,), lambda c: ("list", "filter_gt", str(c)),
              lambda c: f"Return the items of x greater than {c}, in order.",
              lambda c: _ret("[", "v", " for v in x", " if ", "v", " > ", str(c), "]"),
              lambda c: lambda x: [v for v in x if v > c]),
    Template("sum_mul", "list", 2, (_C29,), lambda c: ("list", "sum", "mul", str(c)),
              lambda c: f"Return the sum of x times {c}.",
              lambda c: _ret("sum(", "x", ")", " * ", str(c)), lambda c: lambda x: sum(x) * c),
    # level 3: three operations, or a branch
    Template("if_gt", "int", 3, (_C05, _C19), lambda a, b: ("int", "if_gt", str(a), "then", str(b)),
              lambda a, b: f"Return {b} if x is greater than {a}, else x.",
              lambda a, b: ("if ", "x", " > ", str(a), ": ", "return ", str(b), NEWLINE, "return ", "x"),
              lambda a, b: lambda x: b if x > a else x),
    Template("add_mul_sub", "int", 3, (_C19, _C29, _C19),
              lambda a, b, c: ("int", "add", str(a), "mul", str(b), "sub", str(c)),
              lambda a, b, c: f"Add {a} to x, multiply by {b}, then subtract {c}.",
              lambda a, b, c: _ret("(", "x", " + ", str(a), ")", " * ", str(b), " - ", str(c)),
              lambda a, b, c: lambda x: (x + a) * b - c),
    Template("map_mul_add", "list", 3, (_C29, _C19), lambda a, b: ("list", "map", "mul", str(a), "add", str(b)),
              lambda a, b: f"Return each item of x times {a}, plus {b}.",
              lambda a, b: _ret("[", "v", " * ", str(a), " + ", str(b), " for v in x", "]"),
              lambda a, b: lambda x: [v * a + b for v in x]),
    Template("filter_gt_map_mul", "list", 3, (_C05, _C29),
              lambda a, b: ("list", "filter_gt", str(a), "map", "mul", str(b)),
              lambda a, b: f"Return the items of x greater than {a}, each times {b}.",
              lambda a, b: _ret("[", "v", " * ", str(b), " for v in x", " if ", "v", " > ", str(a), "]"),
              lambda a, b: lambda x: [v * b for v in x if v > a]),
)
"""Every kind of task in the family, level 1 (one operation) to 3 (three, or a branch)."""
LEVELS = (1, 2, 3)


def _inputs(arg_kind: ArgKind, rng: random.Random, n_visible: int, n_hidden: int) -> tuple[list, list]:
    """Visible inputs are small and few (what a docstring would show). Hidden ones are disjoint
    from them: every small input (where the branches and thresholds of this family lie, so that
    ``x > 4`` is told from ``x > 5``) plus ``n_hidden`` wider ones, so that fitting the visible tests
    alone does not pass."""
    if arg_kind == "int":
        visible = rng.sample(range(0, 10), n_visible)
        small = [x for x in range(-3, 10) if x not in visible]
        return visible, small + rng.sample([x for x in range(-40, 41) if x not in small + visible], n_hidden)
    visible = [[rng.randrange(0, 10) for _ in range(rng.randrange(2, 5))] for _ in range(n_visible)]
    every_small = rng.sample(range(-2, 10), 12)
    hidden: list[list[int]] = [every_small]
    while len(hidden) < n_hidden + 1:
        xs = [rng.randrange(-9, 10) for _ in range(rng.randrange(1, 8))]
        if xs not in visible and xs not in hidden:
            hidden.append(xs)
    return visible, hidden


#: The most visible and wide hidden tests a task can have: int tasks draw their visible inputs from
#: 0..9 and their wide hidden ones from -40..40 (less the small inputs), all distinct.
MAX_VISIBLE, MAX_HIDDEN = 10, 60


def _check_rng(rng: object) -> None:
    if not isinstance(rng, random.Random):
        raise TypeError(f"rng must be a random.Random (e.g. random.Random(0)), got {type(rng).__name__}")


def _check_counts(n_visible: object, n_hidden: object) -> None:
    for name, value, most in (("n_visible", n_visible, MAX_VISIBLE), ("n_hidden", n_hidden, MAX_HIDDEN)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
            raise ValueError(f"{name} must be an int from 1 to {most}, got {value!r}")


def make_task(template: Template, constants: tuple[int, ...], rng: random.Random, n_visible: int = 2,
              n_hidden: int = 6) -> Task:
    """The task of ``template`` with ``constants``; its test inputs are drawn with ``rng``."""
    _check_rng(rng)
    _check_counts(n_visible, n_hidden)
    if not isinstance(template, Template):
        raise TypeError(f"template must be one of TEMPLATES, got {type(template).__name__}")
    if not isinstance(constants, tuple) or len(constants) != len(template.constants) \
            or any(c not in r for c, r in zip(constants, template.constants)):
        raise ValueError(f"template {template.name!r} takes constants from {template.constants}, got {constants!r}")
    fn = template.semantics(*constants)
    visible, hidden = _inputs(template.arg_kind, rng, n_visible, n_hidden)
    return Task(
        name="_".join((template.name,) + tuple(str(c) for c in constants)),
        spec=template.text(*constants),
        spec_tokens=template.spec(*constants),
        arg_kind=template.arg_kind,
        level=template.level,
        body=template.body(*constants),
        visible=tuple(CallTest("f", (x,), fn(x)) for x in visible),
        hidden=tuple(CallTest("f", (x,), fn(x)) for x in hidden),
    )


def _draw(rng: random.Random, level: int | None) -> tuple[Template, tuple[int, ...]]:
    _check_rng(rng)
    if level is not None and level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS} or None, got {level!r}")
    template = rng.choice([t for t in TEMPLATES if level is None or t.level == level])
    return template, tuple(rng.choice(r) for r in template.constants)


def random_program(rng: random.Random, level: int | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The spec words and reference body of a random task, without tests (cheap enough to draw
    tens of thousands for a pre-training corpus)."""
    template, constants = _draw(rng, level)
    return template.spec(*constants), template.body(*constants)


def random_task(rng: random.Random, level: int | None = None, *, n_visible: int = 2,
                n_hidden: int = 6) -> Task:
    """One task drawn from the family: a template (of ``level``, or any), then its constants;
    ``n_visible`` visible tests, and the small inputs plus ``n_hidden`` wide ones as hidden tests."""
    template, constants = _draw(rng, level)
    return make_task(template, constants, rng, n_visible, n_hidden)


_PROBES = {"int": list(range(-20, 21)),
           "list": [[3, -1, 4, 1, -5, 9, 2, 6], [0], [7, 7, -2], [-9, 8, 5, 0, 1]]}


def make_tasks(n: int, seed: int, *, levels: Sequence[int] = LEVELS, n_visible: int = 2,
               n_hidden: int = 6) -> list[Task]:
    """``n`` distinct tasks, the same for the same seed, levels taken in turn (an even spread).

    Tasks are distinct in what they compute, not just in name: ``(x - 1) * 2`` and ``x * 2 - 2``
    are the same function, so a draw whose outputs on fixed probe inputs equal an earlier task's is
    redrawn. Then no two tasks of a training set share an answer.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if isinstance(levels, (int, str)) or not isinstance(levels, Sequence):
        raise TypeError(f"levels must be a list of levels, e.g. [1, 2], got {levels!r}")
    if not levels or any(level not in LEVELS for level in levels):
        raise ValueError(f"levels must be a non-empty subset of {LEVELS}, got {levels!r}")
    _check_counts(n_visible, n_hidden)
    for level in levels:
        size = sum(_count(t) for t in TEMPLATES if t.level == level)
        if n > 2 * size * len(levels) // 3:  # keeps redrawing cheap: at most 2/3 of each level used
            raise ValueError(f"n={n} is too many tasks for levels {tuple(levels)} "
                             f"(level {level} holds {size} tasks)")
    rng = random.Random(seed)
    tasks: list[Task] = []
    seen: set[str] = set()
    while len(tasks) < n:
        template, constants = _draw(rng, levels[len(tasks) % len(levels)])
        fn = template.semantics(*constants)
        fingerprint = repr((template.arg_kind, [fn(p) for p in _PROBES[template.arg_kind]]))
        if fingerprint in seen:
            continue
        seen.add(fingerprint)
        tasks.append(make_task(template, constants, rng, n_visible, n_hidden))
    return tasks


def _count(template: Template) -> int:
    count = 1
    for r in template.constants:
        count *= len(r)
    return count
