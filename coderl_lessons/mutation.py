"""Seeded AST mutants of a solution: small, plausible bugs for measuring how strong tests are.

A mutant is the solution with one small change of the kind a programmer (or a model) makes: a
wrong operator, an off-by-one, a negated condition, a forgotten statement. Running a test suite on
the mutants shows what it can tell apart: a mutant that passes HumanEval's visible examples but
fails the full tests is a concrete picture of why rewarding visible tests invites wrong programs.

Only function bodies change, never signatures, docstrings or the module's other lines, and the
rest of the source keeps its text: the change is spliced into the original, so a mutant diffs
against the solution in one place. Every mutant parses, differs from the original in its AST (not
just in formatting), and appears once; which ones you get for ``max_mutants`` depends on ``seed``
alone. A mutant may still behave like the original (``x * 1`` -> ``x // 1`` on ints): equivalent
mutants are a known limit of mutation testing, not filtered here.
"""

from __future__ import annotations

import ast
import copy
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

if TYPE_CHECKING:
    from coderl_lessons.humaneval import HumanEvalTask

OPERATORS = (
    "arithmetic",
    "comparison",
    "constant",
    "range_bound",
    "subscript",
    "negate_condition",
    "boolean_operator",
    "return_none",
    "drop_statement",
    "true_false",
)

_ARITHMETIC = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
}
_COMPARISON = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
}
#: Fields that annotate rather than compute: mutating them changes nothing at run time.
_SKIPPED_FIELDS = ("annotation", "returns", "type_comment")


@dataclass(frozen=True)
class Mutant:
    """One mutated program; ``lineno`` and ``description`` refer to the original source's lines."""

    source: str
    operator: str
    description: str
    lineno: int


@dataclass(frozen=True)
class _Slot:
    """Where a node sits, ``parent.field`` or ``parent.field[index]``, and the innermost statement
    around that place (``owner``), which is rewritten whole when the node alone cannot be."""

    parent: ast.AST
    field: str
    index: int | None
    owner: ast.stmt


#: A replacement builder gets a private copy of the node and returns what goes in its place
#: (``None``: drop the statement).
_Build = Callable[[ast.AST], "ast.AST | None"]
_Edit = tuple[str, _Build]  # (the change in words, the builder)


def mutants(
    source: str,
    *,
    seed: int = 0,
    max_mutants: int | None = None,
    operators: Sequence[str] | None = None,
    function: str | None = None,
    first_line: int = 1,
) -> list[Mutant]:
    """All distinct mutants of ``source``, shuffled by ``seed``, the first ``max_mutants`` kept.

    ``operators`` picks from :data:`OPERATORS` (all by default). ``function`` names the top-level
    function whose body is mutated; by default every function's body is (module-level code such
    as imports is given, not the solution). Code that starts before line ``first_line`` is left
    alone, which is how :func:`mutate_task` keeps a prompt's own statements.
    """
    chosen = _check_operators(operators)
    if not isinstance(source, str):
        raise TypeError(f"source must be a program's text (str), got {type(source).__name__}")
    for name, value, low in (("max_mutants", max_mutants, 0), ("seed", seed, None), ("first_line", first_line, 1)):
        if value is None and name == "max_mutants":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low):
            raise ValueError(f"expected {name}{f' >= {low}' if low is not None else ''} (an int), got {value!r}")
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ValueError(f"expected source that parses as Python: {error}") from None
    lines = source.splitlines(keepends=True)
    seen = {_key(ast.unparse(tree))}
    found: list[Mutant] = []
    for node, slot in list(_sites(_targets(tree, function))):
        if node.lineno < first_line:
            continue
        for operator in chosen:
            for change, build in _OPERATOR_EDITS[operator](node, slot):
                replacement = build(copy.deepcopy(node))
                module = _apply(tree, slot, replacement, tree)
                key = _key(module)
                if key in seen:
                    continue
                seen.add(key)
                text = next(
                    (
                        candidate
                        for candidate in _splices(lines, tree, node, slot, replacement)
                        if _parses_to(candidate, key)
                    ),
                    module,
                )
                found.append(Mutant(text, operator, f"line {node.lineno}: {change}", node.lineno))
    random.Random(seed).shuffle(found)
    return found if max_mutants is None else found[:max_mutants]


def mutate_task(task: HumanEvalTask, seed: int = 0, max_mutants: int | None = None) -> list[Mutant]:
    """Mutants of a HumanEval task's canonical program: the prompt as given, the body mutated."""
    from coderl_lessons.humaneval import check_task  # at call time, as the type hint's import

    task = check_task(task)
    return mutants(
        task.program,
        seed=seed,
        max_mutants=max_mutants,
        function=task.entry_point,
        first_line=task.prompt.count("\n") + 1,
    )


def _check_operators(operators: Sequence[str] | None) -> tuple[str, ...]:
    if operators is None:
        return OPERATORS
    if isinstance(operators, str):
        raise ValueError(f"expected a sequence of operator names from {OPERATORS}, got a string")
    unknown = [name for name in operators if name not in OPERATORS]
    if unknown:
        raise ValueError(f"unknown operator(s) {unknown}; expected names from {OPERATORS}")
    return tuple(dict.fromkeys(operators))


def _key(source: str) -> str:
    """A program's AST with formatting normalised away: equal keys, equal programs."""
    return ast.dump(ast.parse(source))


def _parses_to(source: str, key: str) -> bool:
    try:
        return _key(source) == key
    except SyntaxError:
        return False


def _targets(
    tree: ast.Module, function: str | None
) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The outermost function definitions to mutate (nested ones are part of their body)."""
    if function is not None:
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
                return [node]
        raise ValueError(f"expected the source to define a top-level function named {function!r}")

    def outermost(node: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield child
            else:
                yield from outermost(child)

    return list(outermost(tree))


def _is_docstring(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _is_elif(node: ast.AST, parent: ast.AST | None) -> bool:
    """An ``elif`` is an ``if`` alone in its parent's ``else``, starting in the parent's column;
    its text starts with ``elif``, so it cannot be rewritten on its own as an ``if``."""
    return (
        isinstance(node, ast.If)
        and isinstance(parent, ast.If)
        and parent.orelse == [node]
        and node.col_offset == parent.col_offset
    )


def _sites(
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef],
) -> Iterator[tuple[ast.AST, _Slot]]:
    """Every statement and expression of the functions' bodies with its slot, depth first."""

    def walk(
        parent: ast.AST, fields: Sequence[str], above: ast.AST | None, owner: ast.stmt
    ) -> Iterator[tuple[ast.AST, _Slot]]:
        if isinstance(parent, ast.stmt) and not _is_elif(parent, above):
            owner = parent
        for field in fields:
            value = getattr(parent, field)
            children = enumerate(value) if isinstance(value, list) else [(None, value)]
            for index, child in children:
                if not isinstance(child, ast.AST) or _is_docstring(child):
                    continue
                if isinstance(child, (ast.stmt, ast.expr)):  # not operators, contexts, ...
                    yield child, _Slot(parent, field, index, owner)
                fields_below = [f for f in child._fields if f not in _SKIPPED_FIELDS]
                yield from walk(child, fields_below, parent, owner)

    for function in functions:
        yield from walk(function, ["body"], None, function)


def _apply(tree: ast.Module, slot: _Slot, replacement: ast.AST | None, part: ast.AST) -> str:
    """The source of ``part`` of the tree with ``replacement`` in ``slot``; the tree itself is left
    unchanged, so one parse serves every mutant."""
    old = getattr(slot.parent, slot.field)
    if slot.index is None:
        new = replacement
    else:
        new = list(old)
        if replacement is None:
            del new[slot.index]
            new = new or [ast.Pass()]
        else:
            new[slot.index] = replacement
    setattr(slot.parent, slot.field, new)
    try:
        return ast.unparse(part)
    finally:
        setattr(slot.parent, slot.field, old)


def _splices(
    lines: list[str], tree: ast.Module, node: ast.AST, slot: _Slot, replacement: ast.AST | None
) -> Iterator[str]:
    """Candidate texts of the mutant that keep the original's text outside the change, best first.

    First only ``node``'s span is rewritten: removed or made ``pass`` for a dropped statement,
    else the new code, bare and then bracketed (``a - b * c`` with ``*`` -> ``+`` needs brackets).
    Then the whole owner statement, for what a span cannot express (dropping an ``elif``). The
    caller keeps the first candidate that parses to the mutated AST.
    """
    if replacement is None:
        first, last = node.lineno - 1, node.end_lineno - 1
        alone = not _head(lines, node).strip() and _tail(lines, node).strip() in ("", ";")
        if alone and len(getattr(slot.parent, slot.field)) > 1:
            yield "".join(lines[:first] + lines[last + 1 :])
        yield _replace_span(lines, node, "pass")
    else:
        text = ast.unparse(replacement)
        yield _replace_span(lines, node, text)
        if isinstance(replacement, ast.expr):
            yield _replace_span(lines, node, f"({text})")
    indent = _head(lines, slot.owner)
    if not indent.strip():
        owner = _apply(tree, slot, replacement, slot.owner)
        yield _replace_span(lines, slot.owner, owner.replace("\n", "\n" + indent))


def _head(lines: list[str], node: ast.AST) -> str:
    """The text before ``node`` on its first line (``ast`` offsets count UTF-8 bytes)."""
    return lines[node.lineno - 1].encode()[: node.col_offset].decode()


def _tail(lines: list[str], node: ast.AST) -> str:
    return lines[node.end_lineno - 1].encode()[node.end_col_offset :].decode()


def _replace_span(lines: list[str], node: ast.AST, text: str) -> str:
    first, last = node.lineno - 1, node.end_lineno - 1
    middle = _head(lines, node) + text + _tail(lines, node)
    return "".join(lines[:first] + [middle] + lines[last + 1 :])


def _short(text: str, limit: int = 48) -> str:
    text = text.splitlines()[0] if text else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _change(node: ast.AST, build: _Build) -> _Edit:
    """An edit described by the code before and after (``xs[i]`` -> ``xs[i + 1]``)."""
    after = build(copy.deepcopy(node))
    return f"`{_short(ast.unparse(node))}` -> `{_short(ast.unparse(after))}`", build


def _plus(node: ast.expr, delta: int) -> ast.expr:
    return ast.BinOp(node, ast.Add() if delta > 0 else ast.Sub(), ast.Constant(abs(delta)))


def _arithmetic(node: ast.AST, slot: _Slot) -> list[_Edit]:
    if not isinstance(node, (ast.BinOp, ast.AugAssign)) or type(node.op) not in _ARITHMETIC:
        return []
    return [
        (f"`{_ARITHMETIC[type(node.op)]}` -> `{symbol}`", _with_op(op))
        for op, symbol in _ARITHMETIC.items()
        if op is not type(node.op)
    ]


def _comparison(node: ast.AST, slot: _Slot) -> list[_Edit]:
    if not isinstance(node, ast.Compare):
        return []
    edits = []
    for position, old in enumerate(node.ops):
        if type(old) not in _COMPARISON:
            continue
        for op, symbol in _COMPARISON.items():
            if op is not type(old):
                edits.append((f"`{_COMPARISON[type(old)]}` -> `{symbol}`", _op_at(position, op)))
    return edits


def _with_op(op: type[ast.AST]) -> _Build:
    def build(node: ast.AST) -> ast.AST:
        node.op = op()  # type: ignore[attr-defined]
        return node

    return build


def _op_at(position: int, op: type[ast.cmpop]) -> _Build:
    def build(node: ast.AST) -> ast.AST:
        assert isinstance(node, ast.Compare)
        node.ops[position] = op()
        return node

    return build


def _constant(node: ast.AST, slot: _Slot) -> list[_Edit]:
    if not isinstance(node, ast.Constant) or type(node.value) not in (int, float):
        return []
    value = node.value
    news = dict.fromkeys(v for v in (value + 1, value - 1, type(value)(0)) if v != value)
    return [(f"`{value!r}` -> `{new!r}`", _constant_builder(new)) for new in news]


def _constant_builder(value: int | float) -> _Build:
    return lambda node: ast.Constant(value)


def _range_bound(node: ast.AST, slot: _Slot) -> list[_Edit]:
    is_range = (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "range"
        and 1 <= len(node.args) <= 3
        and not node.keywords
        and not any(isinstance(arg, ast.Starred) for arg in node.args)
    )
    if not is_range:
        return []
    bounds = [0] if len(node.args) == 1 else [0, 1]
    return [_change(node, _range_builder(i, delta)) for i in bounds for delta in (1, -1)]


def _range_builder(position: int, delta: int) -> _Build:
    def build(node: ast.AST) -> ast.AST:
        assert isinstance(node, ast.Call)
        node.args[position] = _plus(node.args[position], delta)
        return node

    return build


def _subscript(node: ast.AST, slot: _Slot) -> list[_Edit]:
    if not isinstance(node, ast.Subscript) or isinstance(node.slice, ast.Tuple):
        return []
    if isinstance(node.slice, ast.Slice):
        parts = [part for part in ("lower", "upper") if getattr(node.slice, part) is not None]
    else:
        parts = ["index"]
    return [_change(node, _subscript_builder(part, delta)) for part in parts for delta in (1, -1)]


def _subscript_builder(part: str, delta: int) -> _Build:
    def build(node: ast.AST) -> ast.AST:
        assert isinstance(node, ast.Subscript)
        if part == "index":
            node.slice = _plus(node.slice, delta)
        else:
            setattr(node.slice, part, _plus(getattr(node.slice, part), delta))
        return node

    return build


def _negate_condition(node: ast.AST, slot: _Slot) -> list[_Edit]:
    is_test = slot.field == "test" and isinstance(slot.parent, (ast.If, ast.While, ast.IfExp))
    if not (is_test or (slot.field == "ifs" and isinstance(slot.parent, ast.comprehension))):
        return []
    return [_change(node, _negated)]


def _negated(node: ast.AST) -> ast.AST:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return node.operand
    return ast.UnaryOp(ast.Not(), node)


def _boolean_operator(node: ast.AST, slot: _Slot) -> list[_Edit]:
    if not isinstance(node, ast.BoolOp):
        return []
    if isinstance(node.op, ast.And):
        return [("`and` -> `or`", _with_op(ast.Or))]
    return [("`or` -> `and`", _with_op(ast.And))]


def _return_none(node: ast.AST, slot: _Slot) -> list[_Edit]:
    if not isinstance(node, ast.Return) or node.value is None:
        return []
    if isinstance(node.value, ast.Constant) and node.value.value is None:
        return []
    return [_change(node, lambda old: ast.Return(ast.Constant(None)))]


def _drop_statement(node: ast.AST, slot: _Slot) -> list[_Edit]:
    if not isinstance(node, ast.stmt) or isinstance(node, ast.Pass):
        return []
    return [(f"dropped `{_short(ast.unparse(node))}`", lambda old: None)]


def _true_false(node: ast.AST, slot: _Slot) -> list[_Edit]:
    if not isinstance(node, ast.Constant) or not isinstance(node.value, bool):
        return []
    return [(f"`{node.value}` -> `{not node.value}`", _constant_builder(not node.value))]


_OPERATOR_EDITS: dict[str, Callable[[ast.AST, _Slot], list[_Edit]]] = {
    "arithmetic": _arithmetic,
    "comparison": _comparison,
    "constant": _constant,
    "range_bound": _range_bound,
    "subscript": _subscript,
    "negate_condition": _negate_condition,
    "boolean_operator": _boolean_operator,
    "return_none": _return_none,
    "drop_statement": _drop_statement,
    "true_false": _true_false,
}
