"""The verification paradox, measured: tests that accept wrong programs, and stronger tests.

A reward computed by running tests is only as good as the tests. This module measures how good
they are on HumanEval's real programs and builds stronger ones, in four parts:

1. **Differential tests** (EvalPlus's idea, Liu et al. 2023, arXiv:2305.01210). Start from the
   inputs the problem's own tests use (the docstring examples' arguments and the literal
   arguments of ``candidate(...)`` calls in HumanEval's ``check``, read with ``ast.literal_eval``,
   never run), grow many more by *type-aware mutation* (ints and floats nudged within the range the
   seeds span and with their sign, strings edited with characters the seeds use, lists with items
   inserted, deleted, duplicated, swapped or mutated, recursively), run the canonical solution on
   each in the sandboxed runner, keep the inputs it accepts (it returns plain data, raises nothing,
   finishes within :data:`STEP_LIMIT` steps), and make its outputs the expected values:
   :func:`differential_tests`. Deterministic for a seed (``random.Random`` seeded with the seed and
   the task id).
2. **Test-suite strength**: the mutation score of a suite over a solution's mutants
   (:mod:`coderl_lessons.mutation`), killed / (total - equivalent), with the survivors listed:
   :func:`mutation_score`, :func:`kill_table_score`. A mutant that no suite of any strength kills
   is *likely equivalent* (it may compute the same function); it is reported, not guessed at.
3. **The false-pass measurement** over all 164 problems: for each, a few mutants of the canonical
   solution run against three suites (the visible docstring examples, HumanEval's ``check``, the
   differential tests); a *false pass* is a mutant that a suite accepts and a stronger one rejects:
   :func:`false_pass_report`.
4. **A test-generator reward in CURE's spirit** (Wang et al. 2025, arXiv:2506.03136): a generated
   test that some correct program fails is harmful (negative reward); one that every correct
   program passes earns the fraction of wrong programs it rejects: :func:`cure_test_reward`,
   :func:`score_tests`.

Every program, the canonical one included, runs in :mod:`coderl_lessons.execution`'s sandbox, never
in this process, and where a verdict must not depend on the machine's load it runs behind a step
counter (:func:`bounded_program`: loop iterations and calls are counted, not seconds). Two kinds of expected values are not plain data, by design: a :class:`Close`
(floats compared with a tolerance, as HumanEval's own checks do with ``abs(a - b) < 1e-6``) and the
private capture used to read the canonical solution's return values. The runner compares a
returned plain value with ``expected`` using ``==`` in the caller's process, so both work there.
"""

from __future__ import annotations

import ast
import builtins
import functools
import math
import random
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from coderl_lessons.execution import CallTest, CheckTest, ExecutionResult, run_many
from coderl_lessons.humaneval import HumanEvalTask, check_task, load_humaneval
from coderl_lessons.mutation import Mutant, mutate_task

__all__ = [
    "Close", "literal_calls", "seed_inputs", "mutate_inputs", "reference_outputs", "DifferentialSuite",
    "differential_tests", "differential_suites", "raises_test", "kill_table_score", "MutationScore",
    "mutation_score", "MutantRecord", "FalsePassRow", "FalsePassReport", "false_pass_report",
    "cure_test_reward", "TestReward", "score_tests", "find_killing_test", "check_killing_test",
    "disagreements", "bounded_program", "BOUNDED", "STEP_LIMIT", "humaneval_inputs",
    "spells_out_visible_tests", "SUITES",
]

#: The three suites of the false-pass report, weakest first.
SUITES = ("visible", "humaneval", "differential")

#: Work is bounded by counting, not timing, so that which inputs are kept and which mutants hang
#: does not depend on the machine's load: :func:`bounded_program` rewrites a program so that every
#: loop iteration (``for``, ``while``, comprehension) and every function call is a *step*, and
#: a step past the budget raises ``StepLimitExceeded``. The canonical solution gets
#: ``STEP_LIMIT`` steps per generated input (slower inputs are dropped); a mutant gets
#: ``MUTANT_STEP_FACTOR`` times what the canonical solution used on the same suite, plus
#: ``STEP_SLACK``. The wall-clock limits are only a backstop for work no step counts (one huge
#: builtin call, arithmetic on ever-growing integers).
STEP_LIMIT = 100_000
MUTANT_STEP_FACTOR = 10
STEP_SLACK = 10_000
CANONICAL_TIMEOUT = 10.0
MUTANT_TIMEOUT = 10.0
_CHUNK = 32  # generated inputs per job of the canonical solution
BOUNDED = "__coderl_steps__"
_USED = "__coderl_steps_used__"
_TICK = "__coderl_tick__"
_EACH = "__coderl_each__"

_GUARD = """
# ---- added by coderl_lessons.verification: a step counter (not part of the program) ----
class StepLimitExceeded(BaseException):
    pass


__coderl_left__ = [{per_job}]
__coderl_total__ = [0]


def {tick}():
    left = __coderl_left__
    left[0] -= 1
    if left[0] < 0:
        raise StepLimitExceeded("the step budget is spent")


def {each}(iterable):
    left = __coderl_left__
    for item in iterable:
        left[0] -= 1
        if left[0] < 0:
            raise StepLimitExceeded("the step budget is spent")
        yield item


def {bounded}(*args):
    left = __coderl_left__
    job = left[0]
    if job <= 0:
        raise StepLimitExceeded("the job's step budget ({per_job} steps) is spent")
    call = min({per_call}, job)
    left[0] = call
    try:
        return globals()[{entry!r}](*args)
    finally:
        used = call - max(left[0], 0)
        left[0] = job - used
        __coderl_total__[0] += used


def {used}():
    return __coderl_total__[0]

# ---- end of the step counter ----
"""


class _Counter(ast.NodeTransformer):
    """Put a step at the top of every function and loop body, and around every comprehension's
    iterable."""

    @staticmethod
    def _tick() -> list[ast.stmt]:
        return ast.parse(f"__coderl_left__[0] -= 1\nif __coderl_left__[0] < 0:\n    {_TICK}()").body

    def _body(self, node: Any) -> Any:
        self.generic_visit(node)
        body = node.body
        at = 1 if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and body
                   and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                   and isinstance(body[0].value.value, str)) else 0
        node.body = body[:at] + self._tick() + body[at:]
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_For = visit_AsyncFor = visit_While = _body

    def visit_comprehension(self, node: ast.comprehension) -> ast.comprehension:
        self.generic_visit(node)
        if not node.is_async:
            node.iter = ast.Call(ast.Name(_EACH, ast.Load()), [node.iter], [])
        return node


def bounded_program(program: str, entry_point: str, *, per_call: int = STEP_LIMIT, per_job: int | None = None) -> str:
    """``program`` rewritten to count its steps, with a wrapper of ``entry_point`` named :data:`BOUNDED`.

    A step is one loop iteration (``for``, ``while``, each item a comprehension draws) or one
    function call. Calling :data:`BOUNDED` instead of ``entry_point`` allows at most ``per_call``
    steps, and all calls of one job together at most ``per_job``; past either it raises
    ``StepLimitExceeded``, a ``BaseException`` (``except Exception`` in the program does not
    swallow it). The rewrite is done here on the syntax tree; the program runs in the sandbox.
    Counting is deterministic where a time limit depends on the machine's load. A program that
    does not parse is returned with the counter appended (it fails to load anyway).
    """
    if not isinstance(program, str):
        raise ValueError(f"program must be a str, got {type(program).__name__}")
    _check_names(entry_point)
    _check_count("per_call", per_call, 1)
    per_job = per_call if per_job is None else _check_count("per_job", per_job, 1)
    guard = _GUARD.format(entry=entry_point, bounded=BOUNDED, used=_USED, tick=_TICK, each=_EACH,
                          per_call=per_call, per_job=per_job)
    head, rest = _instrumented(program)
    return (head + "\n" if head else "") + guard + "\n" + rest + "\n"


@functools.lru_cache(maxsize=8192)
def _instrumented(program: str) -> tuple[str, str]:
    """(what must stay first: module docstring and ``__future__`` imports, the rest with steps)."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return "", program
    tree = ast.fix_missing_locations(_Counter().visit(tree))
    body = tree.body
    split = 0
    while split < len(body) and (isinstance(body[split], ast.ImportFrom) and body[split].module == "__future__"
                                 or split == 0 and isinstance(body[0], ast.Expr)
                                 and isinstance(body[0].value, ast.Constant)):
        split += 1
    head = ast.unparse(ast.Module(body[:split], [])) if split else ""
    return head, ast.unparse(ast.Module(body[split:], []))


def _bounded_test(test: Any, entry_point: str) -> Any:
    """The same test, calling the bounded wrapper instead of ``entry_point``."""
    if isinstance(test, CallTest) and test.fn == entry_point:
        return CallTest(BOUNDED, test.args, test.expected)
    if isinstance(test, CheckTest) and test.entry_point == entry_point:
        return CheckTest(test.code, BOUNDED, test.helpers)
    return test


# ---------------------------------------------------------------------------------------------
# Expected values: exact, or close for floats
# ---------------------------------------------------------------------------------------------


class Close:
    """An expected value that compares floats with a tolerance and everything else exactly.

    ``Close(v) == got`` holds when ``got`` has ``v``'s shape (a list where ``v`` has a list, the
    same dict keys...) and every float is within ``abs_tol`` or ``rel_tol`` of ``v``'s (NaN
    matches NaN); ints and bools compare as Python's ``==`` does. The default tolerance is
    HumanEval's ``1e-6``.
    """

    __slots__ = ("value", "rel_tol", "abs_tol")

    def __init__(self, value: Any, rel_tol: float = 1e-9, abs_tol: float = 1e-6) -> None:
        for name, tol in (("rel_tol", rel_tol), ("abs_tol", abs_tol)):  # a bad one fails every comparison
            if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 <= tol < math.inf:
                raise ValueError(f"Close's {name} must be a finite number >= 0, got {tol!r}")
        self.value, self.rel_tol, self.abs_tol = value, rel_tol, abs_tol

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, Close):
            other = other.value
        return _close(other, self.value, self.rel_tol, self.abs_tol)

    def __ne__(self, other: Any) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Close({self.value!r})"


def _close(got: Any, want: Any, rel: float, tol: float) -> bool:
    if type(want) is float or (type(got) is float and type(want) is int):
        if type(got) not in (int, float):
            return False
        if math.isnan(want) or math.isnan(got):
            return math.isnan(want) and math.isnan(got)
        return math.isclose(got, want, rel_tol=rel, abs_tol=tol)
    if type(want) in (list, tuple):
        return (type(got) is type(want) and len(got) == len(want)
                and all(_close(g, w, rel, tol) for g, w in zip(got, want)))
    if type(want) is dict:
        return (type(got) is dict and got.keys() == want.keys()
                and all(_close(got[k], want[k], rel, tol) for k in want))
    try:
        return bool(got == want)
    except Exception:  # noqa: BLE001
        return False


def _has_float(value: Any) -> bool:
    if type(value) is float:
        return True
    if type(value) in (list, tuple, set, frozenset):
        return any(_has_float(v) for v in value)
    if type(value) is dict:
        return any(_has_float(v) for v in value.values()) or any(_has_float(k) for k in value)
    return False


def _expected(value: Any) -> Any:
    """The expected value of a test built from an output: plain, or :class:`Close` with floats."""
    return Close(value) if _has_float(value) else value


class _Capture:
    """An expected value that records the plain value the runner compares it with."""

    __slots__ = ("value", "seen")

    def __init__(self) -> None:
        self.value: Any = None
        self.seen = False

    def __eq__(self, other: Any) -> bool:
        self.value, self.seen = other, True
        return True

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "<any value>"


# ---------------------------------------------------------------------------------------------
# Seed inputs
# ---------------------------------------------------------------------------------------------


def literal_calls(test_source: str, name: str = "candidate") -> list[tuple]:
    """The argument tuples of every ``name(...)`` call in ``test_source`` whose arguments are all
    literals (read with ``ast.literal_eval``; nothing is run), in source order, each once.

    Calls with keywords, ``*args`` or a non-literal argument (a variable of a loop) are skipped.
    """
    if not isinstance(test_source, str):
        raise ValueError(f"expected test source code as a str, got {type(test_source).__name__}")
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"expected a function name, got {name!r}")
    try:
        tree = ast.parse(test_source)
    except SyntaxError as error:
        raise ValueError(f"expected test code that parses as Python: {error}") from None
    calls = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
                and not node.keywords):
            try:
                args = tuple(ast.literal_eval(arg) for arg in node.args)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            calls.append(((node.lineno, node.col_offset), args))
    found: dict[str, tuple] = {}
    for _, args in sorted(calls, key=lambda item: item[0]):
        found.setdefault(_key(args), args)
    return list(found.values())


def seed_inputs(task: HumanEvalTask) -> list[tuple]:
    """A HumanEval task's seed inputs: its visible examples' arguments, then the literal arguments
    of HumanEval's ``check`` (see :func:`literal_calls`), each once. A task with neither (three
    checks draw random inputs in a loop) gets one input built from the signature's annotations."""
    task = check_task(task)
    found: dict[str, tuple] = {}
    for test in task.visible_tests:
        found.setdefault(_key(test.args), test.args)
    for args in literal_calls(task.test):
        found.setdefault(_key(args), args)
    if not found:
        args = _annotated_defaults(task.prompt, task.entry_point)
        found[_key(args)] = args
    return list(found.values())


_DEFAULTS = {"int": 3, "float": 1.5, "str": "abc", "bool": True, "list": [1, 2, 3], "dict": {"a": 1},
             "tuple": (1, 2)}


def _annotated_defaults(prompt: str, entry_point: str) -> tuple:
    function = next(node for node in ast.parse(prompt).body
                    if isinstance(node, ast.FunctionDef) and node.name == entry_point)
    return tuple(_default(arg.annotation) for arg in function.args.args)


def _default(annotation: ast.expr | None) -> Any:
    if isinstance(annotation, ast.Name):
        name = annotation.id.lower()
        return _DEFAULTS.get(name, 3)
    if isinstance(annotation, ast.Subscript) and isinstance(annotation.value, ast.Name):
        outer = annotation.value.id.lower()
        inner = annotation.slice
        if outer in ("list", "sequence"):
            item = _default(inner)
            return [item, item if not isinstance(item, (int, float)) else item * 2]
        if outer == "tuple" and isinstance(inner, ast.Tuple):
            return tuple(_default(e) for e in inner.elts)
    return 3


def _key(value: Any) -> str:
    """A text that tells plain values apart exactly (1, 1.0 and True differ; sets sorted)."""
    kind = type(value)
    if kind in (list, tuple):
        inner = ",".join(_key(v) for v in value)
        return f"{kind.__name__}[{inner}]"
    if kind in (set, frozenset):
        return f"{kind.__name__}{{{','.join(sorted(_key(v) for v in value))}}}"
    if kind is dict:
        return "dict{" + ",".join(f"{_key(k)}:{_key(v)}" for k, v in value.items()) + "}"
    return f"{kind.__name__}:{value!r}"


# ---------------------------------------------------------------------------------------------
# Type-aware mutation of inputs
# ---------------------------------------------------------------------------------------------


@dataclass
class _Domain:
    """What the seeds put at one argument position, which bounds what mutation produces there."""

    int_low: int = 0
    int_high: int = 10
    float_low: float = -10.0
    float_high: float = 10.0
    alphabet: str = "abcdefghijklmnopqrstuvwxyz"
    max_len: int = 12
    max_items: int = 12
    items: list = field(default_factory=list)  # list items seen (to fill an empty list)
    keys: list = field(default_factory=list)
    wide: bool = False


def _domain(values: Sequence[Any], wide: bool = False) -> _Domain:
    ints: list[int] = []
    floats: list[float] = []
    chars: set[str] = set()
    lengths = [0]
    sizes = [0]
    items: list = []
    keys: list = []

    def visit(value: Any) -> None:
        kind = type(value)
        if kind is bool or value is None:
            return
        if kind is int:
            ints.append(value)
        elif kind is float:
            if math.isfinite(value):
                floats.append(value)
        elif kind is str:
            chars.update(value)
            lengths.append(len(value))
        elif kind in (list, tuple, set, frozenset):
            sizes.append(len(value))
            if kind is list:
                items.extend(value)
            for item in sorted(value, key=_key) if kind in (set, frozenset) else value:
                visit(item)
        elif kind is dict:
            sizes.append(len(value))
            keys.extend(value)
            for k, v in value.items():
                visit(k)
                visit(v)

    for value in values:
        visit(value)
    domain = _Domain(wide=wide)
    if ints:
        low, high = min(ints), max(ints)
        if wide:  # both signs, ten times the magnitude
            span = max(100, 10 * max(abs(low), abs(high)))
            domain.int_low, domain.int_high = low - span, high + span
        else:
            span = max(5, (high - low) // 2)
            domain.int_low = low - span if low < 0 else max(0, low - span)
            domain.int_high = high + span
    if floats:
        low, high = min(floats), max(floats)
        if wide:
            span = max(10.0, 10 * max(abs(low), abs(high)))
            domain.float_low, domain.float_high = low - span, high + span
        else:
            span = max(1.0, (high - low) / 2)
            domain.float_low = low - span if low < 0 else max(0.0, low - span)
            domain.float_high = high + span
    if chars:
        domain.alphabet = "".join(sorted(chars))
    if wide:  # the other case of every letter, digits, a space and punctuation
        domain.alphabet = "".join(sorted(set(domain.alphabet) | set(domain.alphabet.swapcase()) | set("09 !-")))
    domain.max_len = max(2 * max(lengths), 10)
    domain.max_items = max(2 * max(sizes), 8)
    domain.items = items[:200]
    domain.keys = keys[:200]
    return domain


def _mutate(value: Any, domain: _Domain, rng: random.Random, depth: int = 0) -> Any:
    """One type-preserving change of ``value`` (it may come out equal; the caller retries)."""
    kind = type(value)
    if kind is bool:
        return not value
    if kind is int:
        return _mutate_int(value, domain, rng)
    if kind is float:
        return _mutate_float(value, domain, rng)
    if kind is str:
        return _mutate_str(value, domain, rng)
    if kind is list:
        return _mutate_list(value, domain, rng, depth)
    if kind is tuple:
        if not value:
            return value
        i = rng.randrange(len(value))
        return value[:i] + (_mutate(value[i], domain, rng, depth + 1),) + value[i + 1 :]
    if kind in (set, frozenset):
        return kind(_mutate_list(sorted(value, key=_key), domain, rng, depth))
    if kind is dict:
        return _mutate_dict(value, domain, rng, depth)
    return value  # None and anything else stays


def _clamp(x: Any, low: Any, high: Any) -> Any:
    return min(max(x, low), high)


def _mutate_int(value: int, domain: _Domain, rng: random.Random) -> int:
    low, high = min(domain.int_low, value), max(domain.int_high, value)
    choice = rng.randrange(9 if domain.wide else 7)
    if choice == 7:  # a round number near it
        step = 10 ** rng.randint(1, 3)
        new = value // step * step
    elif choice == 8:
        new = value + rng.choice([-1, 1]) * 10 ** rng.randint(1, 3)
    elif choice == 0:
        new = value + 1
    elif choice == 1:
        new = value - 1
    elif choice == 2:
        new = value + rng.randint(-5, 5)
    elif choice == 3:
        new = value * 2
    elif choice == 4:
        new = value // 2
    elif choice == 5:
        new = -value
    else:
        new = rng.randint(low, high)
    return _clamp(new, low, high)


def _mutate_float(value: float, domain: _Domain, rng: random.Random) -> float:
    low, high = min(domain.float_low, value), max(domain.float_high, value)
    choice = rng.randrange(6)
    if choice == 0:
        new = value + rng.uniform(-1.0, 1.0)
    elif choice == 1:
        new = value * 2
    elif choice == 2:
        new = value / 2
    elif choice == 3:
        new = -value
    elif choice == 4:
        new = float(round(value))
    else:
        new = rng.uniform(low, high)
    return round(_clamp(new, low, high), 3)


def _mutate_str(value: str, domain: _Domain, rng: random.Random) -> str:
    alphabet = domain.alphabet
    n = len(value)
    choice = rng.randrange(6) if n else 0
    if choice == 0 and n < domain.max_len:  # insert a character
        i = rng.randint(0, n)
        return value[:i] + rng.choice(alphabet) + value[i:]
    if choice == 1:  # delete one
        i = rng.randrange(n)
        return value[:i] + value[i + 1 :]
    if choice == 2:  # replace one
        i = rng.randrange(n)
        return value[:i] + rng.choice(alphabet) + value[i + 1 :]
    if choice == 3 and n >= 2:  # swap two neighbours
        i = rng.randrange(n - 1)
        return value[:i] + value[i + 1] + value[i] + value[i + 2 :]
    if choice == 4 and 2 * n <= domain.max_len:  # repeat a piece
        i, j = sorted(rng.sample(range(n + 1), 2)) if n >= 1 else (0, 0)
        return value[:j] + value[i:j] + value[j:]
    if n:  # cut the tail
        return value[: rng.randrange(n)]
    return rng.choice(alphabet)


def _mutate_list(value: list, domain: _Domain, rng: random.Random, depth: int) -> list:
    items = list(value)
    n = len(items)
    choice = rng.randrange(7) if n else 0
    if choice == 0 and n < domain.max_items:  # insert a (mutated) item
        pool = items or domain.items
        if not pool:
            return items
        item = rng.choice(pool)
        if rng.random() < 0.7:
            item = _mutate(item, domain, rng, depth + 1)
        items.insert(rng.randint(0, n), item)
    elif choice == 1:  # delete one
        del items[rng.randrange(n)]
    elif choice == 2 and n < domain.max_items:  # duplicate one
        items.insert(rng.randint(0, n), items[rng.randrange(n)])
    elif choice in (3, 4):  # mutate one
        i = rng.randrange(n)
        items[i] = _mutate(items[i], domain, rng, depth + 1)
    elif choice == 5 and n >= 2:  # swap two
        i, j = rng.sample(range(n), 2)
        items[i], items[j] = items[j], items[i]
    else:  # reverse, or sort when the items allow it
        try:
            items = sorted(items) if rng.random() < 0.5 else items[::-1]
        except TypeError:
            items = items[::-1]
    return items


def _mutate_dict(value: dict, domain: _Domain, rng: random.Random, depth: int) -> dict:
    out = dict(value)
    keys = list(out)
    choice = rng.randrange(3) if keys else 2
    if choice == 0:
        k = rng.choice(keys)
        out[k] = _mutate(out[k], domain, rng, depth + 1)
    elif choice == 1:
        del out[rng.choice(keys)]
    else:
        pool = keys or domain.keys
        if pool:
            k = _mutate(rng.choice(pool), domain, rng, depth + 1)
            values = list(out.values()) or [1]
            out[k] = rng.choice(values)
    return out


def _rng(seed: int, salt: str) -> random.Random:
    return random.Random(f"coderl-verification:{seed}:{salt}")


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return seed


def _check_count(name: str, value: Any, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return value


def mutate_inputs(seeds: Sequence[tuple], n: int, seed: int = 0, *, salt: str = "", wide: bool = False) -> list[tuple]:
    """``n`` new argument tuples grown from ``seeds`` by type-aware mutation (EvalPlus-style).

    A pool starts as the seeds; each step picks a pool member, changes one argument (sometimes
    two) with a mutation that keeps its type, and adds the result to the pool if it is new, so
    changes accumulate. Numbers stay within the range the seeds span at that position (widened by
    half, at least 5) and keep their sign when the seeds do; strings use the seeds' characters;
    lengths stay under twice the seeds'. Fewer than ``n`` come back when the seeds leave little
    room. ``wide`` explores further, for hunting a bug rather than staying in a task's domain:
    numbers of either sign up to ten times the seeds' magnitude and round numbers near them,
    strings with both cases, digits, spaces and punctuation. Deterministic for (``seeds``, ``n``,
    ``seed``, ``salt``, ``wide``).
    """
    _check_seed(seed)
    _check_count("n", n)
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence):
        raise ValueError(f"seeds must be a sequence of argument tuples, got {type(seeds).__name__}")
    seeds = [tuple(s) if isinstance(s, list) else s for s in seeds]
    if not seeds:
        raise ValueError("mutate_inputs needs at least one seed input")
    if any(not isinstance(s, tuple) for s in seeds):
        raise ValueError("each seed input must be a tuple of arguments")
    arity = len(seeds[0])
    if any(len(s) != arity for s in seeds):
        raise ValueError("every seed input must have the same number of arguments")
    if arity == 0 or n == 0:
        return []
    rng = _rng(seed, salt)
    domains = [_domain([s[i] for s in seeds], wide) for i in range(arity)]
    pool = list(seeds)
    seen = {_key(s) for s in seeds}
    out: list[tuple] = []
    tries = 0
    while len(out) < n and tries < 40 * n + 200:
        tries += 1
        new = list(rng.choice(pool))
        positions = [rng.randrange(arity)]
        if arity > 1 and rng.random() < 0.3:
            positions.append(rng.randrange(arity))
        for i in positions:
            new[i] = _mutate(new[i], domains[i], rng)
        args = tuple(new)
        key = _key(args)
        if key in seen:
            continue
        seen.add(key)
        pool.append(args)
        out.append(args)
    return out


# ---------------------------------------------------------------------------------------------
# The canonical solution as the oracle
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Output:
    args: tuple
    ok: bool
    value: Any = None
    status: str = ""


def reference_outputs(program: str, fn: str, inputs: Sequence[tuple], *, step_limit: int = STEP_LIMIT,
                      timeout: float = CANONICAL_TIMEOUT, workers: int | None = None) -> list[tuple[bool, Any]]:
    """Run ``fn`` of ``program`` on each input in the sandbox, at most ``step_limit`` steps each
    (see :func:`bounded_program`): ``(True, plain output)`` or ``(False, why)`` per input
    (``"error: ValueError"``, ``"step_limit"``...). Nothing runs in this process."""
    _check_names(fn)
    if not isinstance(program, str):
        raise ValueError(f"program must be a str, got {type(program).__name__}")
    _check_defines(program, fn, "program")
    args = [_args(item, i) for i, item in enumerate(inputs)]
    outs = _outputs_many([(program, fn, args)], timeout, workers, step_limit)[0]
    return [(o.ok, o.value if o.ok else o.status) for o in outs]


def _args(item: Any, index: int) -> tuple:
    if isinstance(item, list):
        item = tuple(item)
    if not isinstance(item, tuple):
        raise ValueError(f"input {index} must be a tuple (or list) of arguments, got {type(item).__name__}")
    return item


def _outputs_many(jobs: Sequence[tuple[str, str, list[tuple]]], timeout: float, workers: int | None,
                  step_limit: int = STEP_LIMIT) -> list[list[_Output]]:
    """For each (program, fn, inputs): the program's output on every input, ``step_limit`` steps
    each, run in chunks of :data:`_CHUNK` inputs; a chunk stopped by a crash or the wall-clock
    backstop is resumed after the input that stopped it."""
    results: list[list[_Output | None]] = [[None] * len(inputs) for _, _, inputs in jobs]
    programs = [bounded_program(program, fn, per_call=step_limit, per_job=step_limit * _CHUNK)
                for program, fn, _ in jobs]
    pending = []  # (job index, start, stop)
    for j, (_, _, inputs) in enumerate(jobs):
        pending += [(j, i, min(i + _CHUNK, len(inputs))) for i in range(0, len(inputs), _CHUNK)]
    for _ in range(100):
        if not pending:
            break
        batch, captures = [], []
        for j, start, stop in pending:
            inputs = jobs[j][2]
            caps = [_Capture() for _ in range(start, stop)]
            captures.append(caps)
            batch.append((programs[j], [CallTest(BOUNDED, inputs[i], cap) for i, cap in zip(range(start, stop), caps)]))
        verdicts = run_many(batch, timeout=timeout, workers=workers, cache=False)
        again = []
        for (j, start, stop), caps, result in zip(pending, captures, verdicts):
            inputs = jobs[j][2]
            if result.stage != "ran":  # the program itself does not load: nothing is accepted
                for i in range(start, stop):
                    results[j][i] = _Output(inputs[i], False, status=result.stage)
                continue
            for offset, (cap, outcome) in enumerate(zip(caps, result.tests)):
                i = start + offset
                if outcome.status == "passed":
                    if not cap.seen:
                        raise RuntimeError("the runner did not compare a return value with its expected value "
                                           "using ==; verification cannot read the reference outputs")
                    results[j][i] = _Output(inputs[i], True, cap.value)
                elif outcome.status == "not_run":
                    again.append((j, i, stop))
                    break
                else:
                    results[j][i] = _Output(inputs[i], False, status=_status(outcome))
                    if outcome.status in ("time_limit", "memory_limit") and i + 1 < stop:
                        again.append((j, i + 1, stop))
                        break
        pending = again
    for j, row in enumerate(results):
        for i, out in enumerate(row):
            if out is None:
                row[i] = _Output(jobs[j][2][i], False, status="not_run")
    return results  # type: ignore[return-value]


def _status(outcome: Any) -> str:
    if outcome.status == "error":
        return "step_limit" if outcome.error_type == "StepLimitExceeded" else f"error: {outcome.error_type}"
    return outcome.status


@dataclass(frozen=True)
class DifferentialSuite:
    """Differential tests of one task: the canonical solution's outputs on seed and generated inputs.

    ``tests`` holds the accepted seed inputs first, then the generated ones, each a
    :class:`CallTest` whose expected value is the canonical output (a :class:`Close` when it
    contains floats). ``generated`` inputs were tried; ``rejected`` of them (and of the seeds)
    made the canonical solution raise, run out of time or return something that is not plain data.
    """

    task_id: str
    entry_point: str
    seed: int
    seeds: tuple[tuple, ...]
    tests: tuple[CallTest, ...]
    generated: int
    rejected: int
    rejected_why: tuple[tuple[str, int], ...] = ()

    def __len__(self) -> int:
        return len(self.tests)

    @property
    def inputs(self) -> list[tuple]:
        return [t.args for t in self.tests]


def differential_tests(task: HumanEvalTask, n_inputs: int = 100, seed: int = 0, *,
                       timeout: float = CANONICAL_TIMEOUT, workers: int | None = None) -> DifferentialSuite:
    """The differential suite of one HumanEval task (see :func:`differential_suites`)."""
    return differential_suites([task], n_inputs, seed, timeout=timeout, workers=workers)[0]


def differential_suites(tasks: Sequence[HumanEvalTask], n_inputs: int = 100, seed: int = 0, *,
                        timeout: float = CANONICAL_TIMEOUT, workers: int | None = None) -> list[DifferentialSuite]:
    """Differential suites of many tasks in one batch on every core.

    For each task: its seed inputs (:func:`seed_inputs`) plus up to ``n_inputs`` generated ones
    that the canonical solution accepts. Twice ``n_inputs`` candidates are generated (for the
    ones it rejects) and the first ``n_inputs`` accepted, in generation order, are kept, so the
    suite depends on ``seed`` alone.
    """
    _check_seed(seed)
    _check_count("n_inputs", n_inputs)
    tasks = _check_tasks(tasks)
    plans = []
    for task in tasks:
        seeds = seed_inputs(task)
        generated = mutate_inputs(seeds, 2 * n_inputs, seed, salt=task.task_id) if n_inputs else []
        plans.append((task, seeds, generated))
    outputs = _outputs_many([(t.program, t.entry_point, s + g) for t, s, g in plans], timeout, workers)
    suites = []
    for (task, seeds, generated), outs in zip(plans, outputs):
        kept_seeds = [o for o in outs[: len(seeds)] if o.ok]
        kept_generated: list[_Output] = []
        tried = len(seeds)
        for o in outs[len(seeds):]:
            if len(kept_generated) == n_inputs:
                break
            tried += 1
            if o.ok:
                kept_generated.append(o)
        rejected = [o for o in outs[:tried] if not o.ok]
        why: dict[str, int] = {}
        for o in rejected:
            why[o.status] = why.get(o.status, 0) + 1
        tests = tuple(CallTest(task.entry_point, o.args, _expected(o.value)) for o in kept_seeds + kept_generated)
        suites.append(DifferentialSuite(task.task_id, task.entry_point, seed, tuple(seeds), tests,
                                        tried - len(seeds), len(rejected), tuple(sorted(why.items()))))
    return suites


def _check_tasks(tasks: Any) -> list:
    if isinstance(tasks, HumanEvalTask):
        return [tasks]
    if isinstance(tasks, (str, bytes)) or not isinstance(tasks, Iterable):
        raise ValueError(f"expected a sequence of HumanEval tasks, got {type(tasks).__name__}")
    tasks = list(tasks)
    for task in tasks:
        if not isinstance(task, HumanEvalTask):
            raise ValueError(f"expected HumanEvalTask items, got {type(task).__name__}")
    return tasks


def raises_test(fn: str, args: tuple, exception: str) -> CheckTest:
    """A test that passes iff ``fn(*args)`` raises the builtin exception named ``exception``.

    A CallTest can only expect a return value; "raises ZeroDivisionError" is a property of the
    call, so it is a ``check(candidate)`` run in the judge: the candidate's exception comes back
    as the builtin of the same name, and the check catches exactly that type.
    """
    if not isinstance(fn, str) or not fn.isidentifier():
        raise ValueError(f"fn must be a function name, got {fn!r}")
    if not isinstance(args, tuple):
        raise ValueError(f"args must be a tuple of arguments, got {type(args).__name__}")
    kind = getattr(builtins, exception, None) if isinstance(exception, str) else None
    if not (isinstance(kind, type) and issubclass(kind, Exception)) or kind is Exception:
        raise ValueError(f"exception must name a specific builtin exception (e.g. 'ZeroDivisionError'), "
                         f"got {exception!r}")
    try:
        ast.literal_eval(repr(args))
    except (ValueError, SyntaxError):
        raise ValueError("args must be literal plain data (ints, floats, str, lists...)") from None
    code = (
        "def check(candidate):\n"
        "    try:\n"
        f"        got = candidate(*{args!r})\n"
        f"    except {exception}:\n"
        "        return\n"
        f"    raise AssertionError('expected {fn}{_call_text(args)} to raise {exception}, it returned ' + repr(got))\n"
    )
    return CheckTest(code=code, entry_point=fn)


def _call_text(args: tuple) -> str:
    return "(" + ", ".join(repr(a) for a in args) + ")"


# ---------------------------------------------------------------------------------------------
# Mutation score
# ---------------------------------------------------------------------------------------------


def kill_table_score(kills: Sequence[Sequence[bool]], equivalent: Sequence[int] = ()) -> tuple[float, list[int]]:
    """Mutation score from a kill table: ``kills[i][j]`` is True when test ``j`` kills mutant ``i``.

    Returns (score, survivors): score = killed / (mutants - equivalent), where a mutant is killed
    when at least one test kills it and the mutants listed in ``equivalent`` (indices) are left out
    of both counts; survivors are the indices of the non-equivalent mutants no test kills, in
    order. With no non-equivalent mutant the score is 0.0 (no evidence of strength).
    """
    if isinstance(kills, (str, bytes)) or not isinstance(kills, Sequence):
        raise ValueError("kills must be a list of rows of booleans (one row per mutant)")
    rows = []
    for i, row in enumerate(kills):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
            raise ValueError(f"row {i} of kills must be a list of booleans")
        if any(not isinstance(x, bool) for x in row):
            raise ValueError(f"row {i} of kills must hold booleans only")
        rows.append(row)
    skip = set()
    for index in equivalent:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(rows):
            raise ValueError(f"equivalent must hold mutant indices in 0..{len(rows) - 1}, got {index!r}")
        skip.add(index)
    counted = [i for i in range(len(rows)) if i not in skip]
    survivors = [i for i in counted if not any(rows[i])]
    if not counted:
        return 0.0, []
    return (len(counted) - len(survivors)) / len(counted), survivors


@dataclass(frozen=True)
class MutationScore:
    """How many of a solution's mutants a suite kills. ``killed_by[i]``: mutant i failed the suite."""

    killed: int
    total: int
    equivalent: tuple[int, ...]
    survivors: tuple[int, ...]
    killed_by: tuple[bool, ...]

    @property
    def score(self) -> float:
        counted = self.total - len(self.equivalent)
        return self.killed / counted if counted else 0.0

    def __str__(self) -> str:
        return (f"mutation score {self.score:.3f}: killed {self.killed} of {self.total - len(self.equivalent)} "
                f"mutants ({len(self.equivalent)} equivalent left out), survivors {list(self.survivors)}")


def mutation_score(mutants: Sequence[Mutant | str], tests: Sequence[Any], *, equivalent: Sequence[int] = (),
                   entry_point: str | None = None, steps: int = 1_000_000, timeout: float = 3.0,
                   workers: int | None = None) -> MutationScore:
    """Run every mutant (a :class:`~coderl_lessons.mutation.Mutant` or a program's source) against
    ``tests`` in the sandbox; a mutant is killed when it does not pass them all (a wrong answer,
    an error, a time limit). See :func:`kill_table_score` for the score and ``equivalent``.

    With ``entry_point``, each mutant runs behind the step counter (:func:`bounded_program`)
    with ``steps`` steps in all, so a mutant that loops forever is killed by counting, the same
    way on every machine, instead of by the ``timeout`` backstop.
    """
    sources = _sources(mutants, "mutant")
    if isinstance(tests, (str, bytes, CallTest, CheckTest)) or not isinstance(tests, Iterable):
        raise TypeError(f"tests must be a list of tests, got {type(tests).__name__}")
    tests = list(tests)
    if not tests:
        raise ValueError("a mutation score needs at least one test")
    if entry_point is not None and sources and not any(_defines(source, entry_point) for source in sources):
        raise ValueError(f"no mutant defines a top-level function {entry_point!r}")
    results = _run(sources, [tests] * len(sources), entry_point, steps, timeout, workers)
    killed_by = tuple(not r.passed for r in results)
    score, survivors = kill_table_score([[k] for k in killed_by], list(equivalent))
    skip = set(equivalent)
    killed = sum(k for i, k in enumerate(killed_by) if i not in skip)
    return MutationScore(killed, len(sources), tuple(sorted(skip)), tuple(survivors), killed_by)


def _sources(programs: Any, what: str) -> list[str]:
    if isinstance(programs, (str, bytes)) or not isinstance(programs, Iterable):
        raise ValueError(f"expected a list of {what}s, got {type(programs).__name__}")
    out = []
    for i, m in enumerate(programs):
        if isinstance(m, Mutant):
            out.append(m.source)
        elif isinstance(m, str):
            out.append(m)
        else:
            raise ValueError(f"{what} {i} must be a Mutant or a program's source, got {type(m).__name__}")
    return out


def _run(programs: Sequence[str], tests: Sequence[Sequence[Any]], entry_point: str | None, steps: int,
         timeout: float, workers: int | None) -> list[ExecutionResult]:
    """Each program against its tests: behind the step counter when ``entry_point`` is given."""
    if entry_point is None:
        return run_many(list(zip(programs, tests)), timeout=timeout, workers=workers)
    _check_names(entry_point)
    _check_count("steps", steps, 1)
    return _run_bounded([(p, entry_point, t, steps) for p, t in zip(programs, tests)], max(timeout, _backstop(steps)),
                        workers)


# ---------------------------------------------------------------------------------------------
# The false-pass report
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MutantRecord:
    """One mutant's verdicts: ``passed[suite]`` for each of :data:`SUITES` (None: the task has no
    valid visible example), and the fraction of differential tests it passed."""

    task_id: str
    index: int
    description: str
    source: str
    passed: dict
    differential_fraction: float
    first_failure: tuple | None = None  # (args, expected, got) of its first failed differential test

    @property
    def wrong(self) -> bool:
        """Rejected by HumanEval's tests or by the differential tests: wrong by our best oracle."""
        return not (self.passed["humaneval"] and self.passed["differential"])


@dataclass(frozen=True)
class FalsePassRow:
    """One task's counts: mutants, suite sizes, how many mutants each suite accepts, false passes."""

    task_id: str
    mutants: int
    visible_tests: int
    humaneval_inputs: int
    differential_tests: int
    pass_visible: int
    pass_humaneval: int
    pass_differential: int
    false_pass_visible: int
    false_pass_humaneval: int
    survive_all: int


@dataclass(frozen=True)
class FalsePassReport:
    """Mutants of every task's canonical solution against three suites (see :func:`false_pass_report`).

    A suite *accepts* a mutant when the mutant passes all of its tests. A mutant is *wrong* when
    HumanEval's tests or the differential tests reject it (the canonical solution passes both);
    one that passes both is *likely equivalent* (no test we have tells it apart). A *false pass*
    of a suite is a wrong mutant it accepts. Visible-example figures count only the tasks whose
    docstring has at least one example that the canonical solution passes.
    """

    seed: int
    mutants_per_task: int
    inputs_per_task: int
    rows: tuple[FalsePassRow, ...]
    records: tuple[MutantRecord, ...]
    suites: tuple[DifferentialSuite, ...] = ()

    # --- totals ------------------------------------------------------------------------------
    @property
    def tasks(self) -> int:
        return len(self.rows)

    @property
    def mutants(self) -> int:
        return sum(r.mutants for r in self.rows)

    def _records(self, suite: str) -> list[MutantRecord]:
        _check_suite(suite)
        return [m for m in self.records if m.passed[suite] is not None]

    def accepted(self, suite: str) -> int:
        """Mutants the suite accepts."""
        return sum(bool(m.passed[suite]) for m in self._records(suite))

    def false_passes(self, suite: str) -> int:
        """Wrong mutants the suite accepts."""
        return sum(bool(m.passed[suite]) and m.wrong for m in self._records(suite))

    def false_pass_rate(self, suite: str) -> float:
        """Of the mutants the suite accepts, the fraction that is wrong (0.0 if it accepts none).

        For HumanEval's suite this is the relative drop of the pass rate when the differential
        tests are added (accepted by both / accepted by HumanEval = 1 - this), the quantity
        EvalPlus reports for LLM samples."""
        accepted = self.accepted(suite)
        return self.false_passes(suite) / accepted if accepted else 0.0

    def mutation_score(self, suite: str) -> float:
        """Killed / non-equivalent mutants, where non-equivalent = wrong (see the class doc)."""
        records = self._records(suite)
        wrong = [m for m in records if m.wrong]
        return sum(not m.passed[suite] for m in wrong) / len(wrong) if wrong else 0.0

    @property
    def likely_equivalent(self) -> int:
        return sum(not m.wrong for m in self.records)

    def tests_per_task(self, suite: str) -> float:
        _check_suite(suite)
        field_name = {"visible": "visible_tests", "humaneval": "humaneval_inputs",
                      "differential": "differential_tests"}[suite]
        return sum(getattr(r, field_name) for r in self.rows) / len(self.rows) if self.rows else 0.0

    def tasks_with_false_passes(self, suite: str = "humaneval") -> list[str]:
        key = {"visible": "false_pass_visible", "humaneval": "false_pass_humaneval"}.get(suite)
        if key is None:
            raise ValueError("false passes are counted for the 'visible' and 'humaneval' suites")
        return [r.task_id for r in self.rows if getattr(r, key)]

    def examples(self, suite: str = "humaneval") -> list[MutantRecord]:
        """The false passes of ``suite``, in task order."""
        return [m for m in self._records(suite) if m.passed[suite] and m.wrong]

    def summary(self) -> str:
        lines = [f"{self.tasks} tasks, {self.mutants} mutants (seed {self.seed}, up to {self.mutants_per_task} "
                 f"mutants and {self.inputs_per_task} generated inputs per task)",
                 f"{'suite':<14}{'tests/task':>11}{'accepted':>10}{'false passes':>14}{'false-pass rate':>17}"
                 f"{'mutation score':>16}"]
        for suite in SUITES:
            lines.append(f"{suite:<14}{self.tests_per_task(suite):>11.1f}{self.accepted(suite):>10}"
                         f"{self.false_passes(suite):>14}{self.false_pass_rate(suite):>17.3f}"
                         f"{self.mutation_score(suite):>16.3f}")
        lines.append(f"likely equivalent (pass HumanEval's and the differential tests): {self.likely_equivalent}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _check_suite(suite: str) -> None:
    if suite not in SUITES:
        raise ValueError(f"suite must be one of {SUITES}, got {suite!r}")


def humaneval_inputs(task: HumanEvalTask) -> int:
    """How many inputs HumanEval's check spells out as literal ``candidate(...)`` calls (a check
    that loops over random inputs counts as what it writes out, not what it draws)."""
    return len(literal_calls(check_task(task).test))


def false_pass_report(seed: int = 0, *, mutants_per_task: int = 10, inputs_per_task: int = 50,
                      tasks: Sequence[HumanEvalTask] | None = None, timeout: float = MUTANT_TIMEOUT,
                      workers: int | None = None) -> FalsePassReport:
    """Mutants of HumanEval's canonical solutions against three suites of increasing strength.

    For every task (all 164 by default): up to ``mutants_per_task`` mutants of the canonical
    program (:func:`~coderl_lessons.mutation.mutate_task`, seeded), and three suites: the visible
    examples that the canonical solution passes (a few docstrings are wrong), HumanEval's
    ``check``, and the differential suite with up to ``inputs_per_task`` generated inputs
    (:func:`differential_suites`). Each mutant runs against each suite as its own sandboxed job,
    with a step budget of :data:`MUTANT_STEP_FACTOR` times what the canonical solution used on
    that suite plus :data:`STEP_SLACK` (see :func:`bounded_program`): a mutant that loops forever
    fails the same way on every machine. Deterministic for a seed.
    """
    _check_seed(seed)
    _check_count("mutants_per_task", mutants_per_task, 1)
    _check_count("inputs_per_task", inputs_per_task, 0)
    tasks = list(load_humaneval()) if tasks is None else _check_tasks(tasks)
    if not tasks:
        raise ValueError("false_pass_report needs at least one task")
    suites = differential_suites(tasks, inputs_per_task, seed, workers=workers)
    # the visible examples that the canonical solution passes (the others are wrong examples)
    examples = [(t.program, t.entry_point, [v], STEP_LIMIT) for t in tasks for v in t.visible_tests]
    verdicts = iter(_run_bounded(examples, CANONICAL_TIMEOUT, workers))
    visible = [tuple(v for v in t.visible_tests if next(verdicts).passed) for t in tasks]
    # each suite, and the steps the canonical solution takes on it
    suite_tests: dict[tuple[int, str], tuple] = {}
    for k, (task, suite, vis) in enumerate(zip(tasks, suites, visible)):
        if vis:
            suite_tests[(k, "visible")] = vis
        suite_tests[(k, "humaneval")] = task.full_tests
        if suite.tests:
            suite_tests[(k, "differential")] = suite.tests
    keys = list(suite_tests)
    steps = dict(zip(keys, _steps_used([(tasks[k].program, tasks[k].entry_point, suite_tests[(k, name)])
                                        for k, name in keys], workers)))
    all_mutants = [_mutants(t, seed, mutants_per_task) for t in tasks]
    # each mutant against each suite as its own job, with its own step budget: a loop that never
    # ends decides only that suite, whatever order the runner makes the calls of a job in
    jobs, where = [], []
    for k, ms in enumerate(all_mutants):
        for name in SUITES:
            if (k, name) not in suite_tests:
                continue
            budget = MUTANT_STEP_FACTOR * steps[(k, name)] + STEP_SLACK
            for i, m in enumerate(ms):
                jobs.append((m.source, tasks[k].entry_point, suite_tests[(k, name)], budget))
                where.append((k, i, name))
    verdict = {key: _part(result) for key, result in zip(where, _run_bounded(jobs, timeout, workers))}
    records, rows = [], []
    for k, (task, suite, vis, ms) in enumerate(zip(tasks, suites, visible, all_mutants)):
        task_records = []
        for i, m in enumerate(ms):
            passed: dict[str, bool | None] = {}
            passed["visible"] = verdict[(k, i, "visible")][0] if vis else None
            passed["humaneval"] = verdict[(k, i, "humaneval")][0]
            diff = verdict.get((k, i, "differential"))
            passed["differential"] = diff[0] if diff is not None else True
            fraction = diff[1] if diff is not None else 1.0
            failure = _first_failure(suite, diff[2]) if diff is not None and not diff[0] else None
            task_records.append(MutantRecord(task.task_id, i, m.description, m.source, passed, fraction, failure))
        records += task_records
        rows.append(FalsePassRow(
            task_id=task.task_id, mutants=len(ms), visible_tests=len(vis), humaneval_inputs=humaneval_inputs(task),
            differential_tests=len(suite.tests),
            pass_visible=sum(bool(r.passed["visible"]) for r in task_records),
            pass_humaneval=sum(bool(r.passed["humaneval"]) for r in task_records),
            pass_differential=sum(bool(r.passed["differential"]) for r in task_records),
            false_pass_visible=sum(bool(r.passed["visible"]) and r.wrong for r in task_records),
            false_pass_humaneval=sum(bool(r.passed["humaneval"]) and r.wrong for r in task_records),
            survive_all=sum(not r.wrong for r in task_records),
        ))
    return FalsePassReport(seed, mutants_per_task, inputs_per_task, tuple(rows), tuple(records), tuple(suites))


def _run_bounded(jobs: Sequence[tuple[str, str, Sequence[Any], int]], timeout: float,
                 workers: int | None) -> list[ExecutionResult]:
    """Run (program, entry point, tests, step budget) jobs with the step counter in place."""
    return _run_grouped([(bounded_program(program, entry, per_call=budget, per_job=budget),
                          [_bounded_test(t, entry) for t in tests], min(timeout, _backstop(budget)))
                         for program, entry, tests, budget in jobs], timeout, workers)


def _backstop(steps: int) -> float:
    """The wall-clock limit of a job allowed ``steps`` steps: far above what counting lets it do
    (a step costs well under a microsecond here), so it only ends work that no step counts."""
    for limit in (3.0, 5.0, 10.0, 20.0, 40.0):
        if 1.0 + 2e-6 * steps <= limit:
            return limit
    return 60.0


def _run_grouped(jobs: Sequence[tuple[str, Sequence[Any], float]], timeout: float,
                 workers: int | None) -> list[ExecutionResult]:
    """run_many over (program, tests, backstop) jobs, one batch per distinct backstop."""
    results: list[ExecutionResult | None] = [None] * len(jobs)
    groups: dict[float, list[int]] = {}
    for i, (_, _, limit) in enumerate(jobs):
        groups.setdefault(min(limit, timeout), []).append(i)
    for limit, indices in sorted(groups.items()):
        for i, result in zip(indices, run_many([(jobs[i][0], jobs[i][1]) for i in indices], timeout=limit,
                                               workers=workers)):
            results[i] = result
    return results  # type: ignore[return-value]


def _part(result: ExecutionResult) -> tuple[bool, float, tuple]:
    """(passed, fraction passed, (stage, outcomes)) of one suite's job."""
    return result.passed, result.fraction_passed, (result.stage, result.tests)


_MUTANTS: dict[tuple[str, str, int, int], tuple[Mutant, ...]] = {}


def _mutants(task: HumanEvalTask, seed: int, k: int) -> tuple[Mutant, ...]:
    """The task's mutants, made once per process (making them is the slow part of a report)."""
    key = (task.task_id, task.program, seed, k)
    if key not in _MUTANTS:
        if len(_MUTANTS) > 2048:
            _MUTANTS.clear()
        _MUTANTS[key] = tuple(mutate_task(task, seed=seed, max_mutants=k))
    return _MUTANTS[key]


def _steps_used(jobs: Sequence[tuple[str, str, Sequence[Any]]], workers: int | None) -> list[int]:
    """Steps each program takes on its tests, read back from the counter by a last check that
    asks for it live (after every call the tests make, batched or not) and fails with it."""
    reader = CheckTest(code=f"def check(candidate):\n    used = {_USED}(*())\n    assert False, used\n",
                       entry_point=BOUNDED)
    batch = [(bounded_program(program, entry, per_call=10**9, per_job=10**9),
              [_bounded_test(t, entry) for t in tests] + [reader]) for program, entry, tests in jobs]
    results = run_many(batch, timeout=CANONICAL_TIMEOUT, workers=workers, cache=False)
    out = []
    for result in results:
        last = result.tests[-1] if result.stage == "ran" and result.tests else None
        message = (last.message or "") if last is not None else ""
        out.append(int(message) if message.isdigit() else 10**6)
    return out


def _first_failure(suite: DifferentialSuite, part: tuple) -> tuple | None:
    """(args, expected, got) of the first differential test a mutant failed."""
    stage, outcomes = part
    if stage != "ran":
        return (None, None, stage)
    for test, outcome in zip(suite.tests, outcomes):
        if outcome.status != "passed":
            expected = test.expected.value if isinstance(test.expected, Close) else test.expected
            got = outcome.got if outcome.status == "wrong_answer" else _status(outcome)
            return (test.args, expected, got)
    return None


# ---------------------------------------------------------------------------------------------
# Scoring generated tests, CURE-style
# ---------------------------------------------------------------------------------------------


def cure_test_reward(correct_pass: Sequence[bool], wrong_pass: Sequence[bool], *, normalise: bool = True) -> float:
    """The reward of one generated test from who passes it.

    ``correct_pass[i]``: correct program i passes the test; ``wrong_pass[j]``: wrong program j
    passes it. A test that some correct program fails is harmful: its reward is minus the number
    of correct programs it fails. Otherwise it earns the number of wrong programs it rejects.
    ``normalise`` divides by the group sizes, so the reward lies in [-1, 1]: -1 for a test every
    correct program fails, 1 for a valid test that rejects every wrong program, 0 for a valid test
    that rejects none (or when there are no wrong programs). At least one correct program is
    needed: without one, the validity of a test is unknown.
    """
    correct = _bools("correct_pass", correct_pass)
    wrong = _bools("wrong_pass", wrong_pass)
    if not correct:
        raise ValueError("cure_test_reward needs at least one correct program to judge a test's validity")
    failed = sum(not p for p in correct)
    if failed:
        return -failed / len(correct) if normalise else float(-failed)
    rejected = sum(not p for p in wrong)
    if not wrong:
        return 0.0
    return rejected / len(wrong) if normalise else float(rejected)


def _bools(name: str, values: Any) -> list[bool]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValueError(f"{name} must be a list of booleans")
    if any(not isinstance(v, bool) for v in values):
        raise ValueError(f"{name} must hold booleans only")
    return list(values)


@dataclass(frozen=True)
class TestReward:
    """A generated test, its CURE-style reward and the evidence behind it."""

    __test__ = False  # not a pytest test class

    test: Any
    reward: float
    correct_failed: int
    wrong_rejected: int
    n_correct: int
    n_wrong: int


def score_tests(tests: Sequence[Any], correct_programs: Sequence[str], wrong_programs: Sequence[str], *,
                entry_point: str | None = None, steps: int = 1_000_000, timeout: float = 3.0,
                workers: int | None = None) -> list[TestReward]:
    """Run every program against every test (one sandboxed job per pair, so a test that hangs a
    program decides only that pair) and reward each test with :func:`cure_test_reward`.
    ``entry_point`` and ``steps`` bound each pair's work by counting, as in :func:`mutation_score`."""
    tests = list(tests)
    if not tests:
        raise ValueError("score_tests needs at least one test")
    correct_programs = _sources(correct_programs, "correct program")
    wrong_programs = _sources(wrong_programs, "wrong program")
    if not correct_programs:
        raise ValueError("score_tests needs at least one correct program")
    programs = correct_programs + wrong_programs
    pairs = [(p, [t]) for p in programs for t in tests]
    results = _run([p for p, _ in pairs], [t for _, t in pairs], entry_point, steps, timeout, workers)
    passes = [[results[i * len(tests) + j].passed for j in range(len(tests))] for i in range(len(programs))]
    n_correct = len(correct_programs)
    out = []
    for j, test in enumerate(tests):
        correct = [passes[i][j] for i in range(n_correct)]
        wrong = [passes[i][j] for i in range(n_correct, len(programs))]
        out.append(TestReward(test, cure_test_reward(correct, wrong), sum(not p for p in correct),
                              sum(not p for p in wrong), len(correct), len(wrong)))
    return out


# ---------------------------------------------------------------------------------------------
# Killing a surviving mutant; two functions' disagreements; spotting hard-coded examples
# ---------------------------------------------------------------------------------------------


def find_killing_test(original: str, mutant: str, fn: str, seeds: Sequence[Sequence], *, seed: int = 0,
                      n_inputs: int = 300, timeout: float = CANONICAL_TIMEOUT) -> list | None:
    """A call-based test ``[args, expected]`` that ``original`` passes and ``mutant`` fails, found
    by differential testing on ``seeds`` (argument lists) and inputs mutated from them (``wide``,
    see :func:`mutate_inputs`); None if
    none was found (the mutant may be equivalent). Both programs run in the sandbox, the
    original with :data:`STEP_LIMIT` steps per input, the mutant with ten times that; "fails"
    means it raises or returns a value ``!=`` the original's (a :class:`CallTest`'s verdict),
    not that it is slower."""
    _check_names(fn)
    for name, source in (("original", original), ("mutant", mutant)):
        if not isinstance(source, str):
            raise ValueError(f"{name} must be a program's source (str)")
    _check_defines(original, fn, "original")
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or not seeds:
        raise ValueError("seeds must be a non-empty list of argument lists")
    seeds = [_args(list(s) if isinstance(s, (list, tuple)) else s, i) for i, s in enumerate(seeds)]
    inputs = seeds + mutate_inputs(seeds, n_inputs, seed, salt="kill:" + fn, wide=True)
    ref = _outputs_many([(original, fn, inputs)], timeout, None)[0]
    mut = _outputs_many([(mutant, fn, inputs)], timeout, None, 10 * STEP_LIMIT)[0]
    for r, m in zip(ref, mut):
        if not r.ok or m.status == "step_limit":
            continue
        if not m.ok or not _plain_eq_loose(m.value, r.value):
            return [list(r.args), r.value]
    return None


def check_killing_test(original: str, mutant: str, fn: str, test: Any, *, max_chars: int = 10_000) -> str | None:
    """None when ``test`` (an ``[args, expected]`` pair, plain data) is passed by ``original`` and
    failed by ``mutant``; otherwise why not. Both run in the sandbox behind the step counter
    (:data:`STEP_LIMIT` steps for the original, ten times that for the mutant, so a mutant that
    loops forever on the test fails it the same way on every machine)."""
    _check_names(fn)
    if not (isinstance(test, (list, tuple)) and len(test) == 2 and isinstance(test[0], (list, tuple))):
        return f"expected an [args, expected] pair with args a list of arguments, got {test!r:.80}"
    args, expected = tuple(test[0]), test[1]
    try:
        text = repr((args, expected))
        CallTest(fn, args, expected)
        ast.literal_eval(text)
    except (TypeError, ValueError, SyntaxError, MemoryError, RecursionError):
        return "the arguments and the expected value must be plain data (numbers, strings, lists...)"
    if len(text) > max_chars:
        return f"the test is too large (over {max_chars} characters): a small input will do"
    results = _run_bounded([(original, fn, [CallTest(fn, args, expected)], STEP_LIMIT),
                            (mutant, fn, [CallTest(fn, args, expected)], 10 * STEP_LIMIT)], CANONICAL_TIMEOUT, None)
    on_original, on_mutant = (r.tests[0] if r.stage == "ran" and r.tests else None for r in results)
    if on_original is None or on_original.status != "passed":
        if on_original is not None and on_original.status == "wrong_answer":
            return f"the original program fails your test: it returns {on_original.got}, not {expected!r:.60}"
        why = _status(on_original) if on_original is not None else results[0].stage
        return f"the original program fails your test ({why}): the input must be one it accepts"
    if on_mutant is not None and on_mutant.status == "passed":
        return "the mutant passes your test too: it does not tell the two programs apart"
    return None


def _check_names(*names: Any) -> None:
    for name in names:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"expected a function name, got {name!r}")


def _defines(program: str, fn: str) -> bool:
    """Does ``program`` bind ``fn`` at its top level (def, class, assignment, import)? A program
    that does not parse is given the benefit of the doubt: running it reports its syntax error."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError):
        return True
    statements = list(tree.body)
    while statements:  # the module's statements, and those nested in if/try/with/loops at its top
        node = statements.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == fn:
                return True
            continue  # what it defines inside is not top level
        for field in ("body", "orelse", "finalbody", "handlers"):
            statements.extend(getattr(node, field, []) or [])
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any((a.asname or a.name) == fn for a in node.names):
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and any(
                isinstance(t, ast.Name) and t.id == fn
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                for t in ast.walk(target)):
            return True
    return False


def _check_defines(program: str, fn: str, what: str) -> None:
    """A misspelled function name would make every run fail alike, and the answer (no
    disagreement, every mutant killed) would look plausible: refuse it up front."""
    if not _defines(program, fn):
        raise ValueError(f"the {what} defines no top-level function {fn!r}")


def disagreements(reference_source: str, candidate_source: str, fn: str, inputs: Sequence[Sequence]) -> list[int]:
    """Indices of the inputs on which ``candidate_source``'s ``fn`` disagrees with the reference's.

    An input counts only if the reference returns on it (an input the reference raises on is
    outside the function's domain). The candidate disagrees when it raises, or returns a value
    ``!=`` the reference's (Python's ``==``, so ``1 == 1.0``). Both programs run in the sandbox.
    """
    _check_names(fn)
    if not isinstance(reference_source, str) or not isinstance(candidate_source, str):
        raise ValueError("the reference and the candidate must be program sources (str)")
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence):
        raise ValueError("inputs must be a list of argument lists")
    _check_defines(reference_source, fn, "reference")
    args = []
    for i, item in enumerate(inputs):
        if isinstance(item, (str, bytes)) or not isinstance(item, Sequence):
            raise ValueError(f"input {i} must be a list of arguments")
        args.append(tuple(item))
    ref, cand = _outputs_many([(reference_source, fn, args), (candidate_source, fn, args)], CANONICAL_TIMEOUT, None)
    out = []
    for i, (r, c) in enumerate(zip(ref, cand)):
        if not r.ok:
            continue
        if not c.ok or not _plain_eq_loose(c.value, r.value):
            out.append(i)
    return out


def _plain_eq_loose(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


def _literal_values(function: ast.AST) -> list[Any]:
    """Every literal value spelled in the function: constants (docstring excluded), negative
    numbers, and list/tuple/set/dict displays of literals (each nested display counts too)."""
    values = []
    body = getattr(function, "body", [])
    docstring = body[0] if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
        and isinstance(body[0].value.value, str) else None
    for node in ast.walk(function):
        if docstring is not None and node is docstring.value:
            continue
        if isinstance(node, (ast.Constant, ast.UnaryOp, ast.List, ast.Tuple, ast.Set, ast.Dict)):
            try:
                values.append(ast.literal_eval(node))
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
    return values


def spells_out_visible_tests(source: str, fn: str, visible: Sequence[Sequence]) -> bool:
    """True when the function ``fn`` in ``source`` spells out every visible test as literals.

    ``visible`` is a list of ``[args, expected]`` pairs (args a list). A test is *spelled out*
    when each of its arguments and its expected value appear as literal values in ``fn``
    (its docstring excluded). The literal values are those of every constant, every negative number
    (``-3`` spells -3, and its constant 3), and every list/tuple/set/dict display made only of
    literals (and each literal inside it); ``set()``, and ``1+2j`` as a whole, which
    ``ast.literal_eval`` also accepts, do not count. They are compared by type and value: ``1``,
    ``1.0`` and ``True`` differ, a list and a tuple differ. The program is flagged when there is at
    least one visible test and every one is spelled out: the fingerprint of a lookup table of the
    examples (``if x == 3: return 7``, ``{3: 7}[x]``). It is a static, syntactic check: an honest
    base case spells out one example, not all of them, and a program that computes its table
    (``3 + 0``) evades it, which is why hidden tests still matter.
    """
    _check_names(fn)
    if not isinstance(source, str):
        raise ValueError("source must be a program's source (str)")
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ValueError(f"source must parse as Python: {error}") from None
    function = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == fn),
                    None)
    if function is None:
        raise ValueError(f"source defines no top-level function named {fn!r}")
    if isinstance(visible, (str, bytes)) or not isinstance(visible, Sequence):
        raise ValueError("visible must be a list of [args, expected] pairs")
    pairs = []
    for i, pair in enumerate(visible):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not isinstance(pair[0], (list, tuple)):
            raise ValueError(f"visible[{i}] must be an [args, expected] pair with args a list")
        pairs.append((list(pair[0]), pair[1]))
    if not pairs:
        return False
    spelled = {_key(v) for v in _literal_values(function)}
    return all(all(_key(a) in spelled for a in args) and _key(expected) in spelled for args, expected in pairs)

