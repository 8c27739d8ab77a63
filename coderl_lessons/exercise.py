"""What an exercise is, and the registry that the check cell and the grading command share.

An exercise names the function the learner writes (``entry_point``), the package's reference
implementation of it, a few *visible* cases (shown on failure, each with a hint) and a generator of
*hidden* randomised cases (edge cases included). Hidden cases are drawn from a seeded
``random.Random``: the check cell in a notebook uses a fixed seed so its report is reproducible,
the grading command a fresh one so that an answer fitted to the visible examples cannot pass.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from coderl_lessons.probe import TENSOR_TAG, describe_plain


@dataclass(frozen=True)
class Case:
    """One call of the candidate: positional and keyword arguments, plus what to tell the learner."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    label: str = ""
    hint: str = ""


def compare_plain(got: Any, expected: Any, rtol: float = 1e-5, atol: float = 1e-7) -> str | None:
    """Compare two plain values (see ``probe.to_plain``); return None when they match, else why not.

    Numbers match within ``rtol``/``atol`` (NaN matches NaN); an int where a float is expected is
    fine, a bool is not a number here; tensors must match in shape, and in dtype family (float vs
    integer vs bool) before their values are compared.
    """
    if isinstance(expected, bool) or isinstance(got, bool):
        return None if type(got) is type(expected) and got == expected else "different values"
    if isinstance(expected, (int, float)):
        if not isinstance(got, (int, float)):
            return f"expected a number, got {type(got).__name__}"
        if isinstance(expected, int) and isinstance(got, float) and not float(got).is_integer():
            return "expected an integer"
        if math.isnan(expected) or math.isnan(got):
            return None if math.isnan(expected) and math.isnan(got) else "different values"
        if math.isinf(expected) or math.isinf(got):
            return None if expected == got else "different values"
        return None if abs(got - expected) <= atol + rtol * abs(expected) else "different values"
    if isinstance(expected, dict) and TENSOR_TAG in expected:
        if not (isinstance(got, dict) and TENSOR_TAG in got):
            return f"expected a tensor, got {type(got).__name__}"
        want, have = expected[TENSOR_TAG], got[TENSOR_TAG]
        if want["shape"] != have["shape"]:
            return f"expected shape {tuple(want['shape'])}, got {tuple(have['shape'])}"
        if _dtype_family(want["dtype"]) != _dtype_family(have["dtype"]):
            return f"expected a {_dtype_family(want['dtype'])} tensor, got dtype {have['dtype']}"
        return compare_plain(have["data"], want["data"], rtol, atol)
    if isinstance(expected, list):
        if not isinstance(got, list):
            return f"expected a sequence, got {type(got).__name__}"
        if len(got) != len(expected):
            return f"expected {len(expected)} items, got {len(got)}"
        for index, (item_got, item_expected) in enumerate(zip(got, expected)):
            problem = compare_plain(item_got, item_expected, rtol, atol)
            if problem:
                return f"item {index}: {problem}"
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"expected a dict, got {type(got).__name__}"
        if set(got) != set(expected):
            return f"expected keys {sorted(expected)}, got {sorted(got)}"
        for key in expected:
            problem = compare_plain(got[key], expected[key], rtol, atol)
            if problem:
                return f"key {key!r}: {problem}"
        return None
    return None if type(got) is type(expected) and got == expected else "different values"


def _dtype_family(dtype: str) -> str:
    if dtype == "bool":
        return "bool"
    if "float" in dtype or dtype in ("half", "double"):
        return "float"
    return "integer"


@dataclass(frozen=True)
class Exercise:
    """A graded exercise. ``hidden`` draws randomised cases from the ``random.Random`` it is given."""

    id: str
    title: str
    notebook: str
    entry_point: str
    signature: str
    reference: Callable[..., Any]
    visible: tuple[Case, ...]
    hidden: Callable[[random.Random], Sequence[Case]]
    points: int = 1
    rtol: float = 1e-5
    atol: float = 1e-7
    time_limit: float = 5.0
    memory_mb: int = 1024
    #: For exercises with many right answers (e.g. "write tests that kill this mutant"): judges the
    #: candidate's plain output for a case directly; None means "compare with the reference".
    verify: Callable[[Case, Any], str | None] | None = None
    #: The candidate must leave torch's global random generator as it found it (it is told to draw
    #: from a generator of its own); a case in which it changes fails (``probe.call_limited``).
    own_generator: bool = False

    def compare(self, got: Any, expected: Any, case: Case | None = None) -> str | None:
        if self.verify is not None and case is not None:
            return self.verify(case, got)
        return compare_plain(got, expected, self.rtol, self.atol)

    def hidden_cases(self, seed: int) -> list[Case]:
        cases = list(self.hidden(random.Random(seed)))
        if not cases:
            raise ValueError(f"exercise {self.id} generated no hidden cases")
        return cases

    def describe_args(self, case: Case) -> str:
        parts = [describe_plain(arg, 60) if _is_plain_enough(arg) else type(arg).__name__ for arg in case.args]
        parts += [f"{key}={describe_plain(value, 40)}" for key, value in case.kwargs.items()]
        return f"{self.entry_point}({', '.join(parts)})"


def _is_plain_enough(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str, list, tuple, dict))


_REGISTRY: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    """Add an exercise to the registry (ids are unique)."""
    if exercise.id in _REGISTRY and _REGISTRY[exercise.id] is not exercise:
        raise ValueError(f"exercise id {exercise.id!r} is registered twice")
    if not exercise.visible:
        raise ValueError(f"exercise {exercise.id} needs at least one visible case")
    _REGISTRY[exercise.id] = exercise
    return exercise


def _load_all() -> None:
    import coderl_lessons.exercises as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")


def all_exercises() -> dict[str, Exercise]:
    """Every registered exercise, by id, in id order."""
    _load_all()
    return dict(sorted(_REGISTRY.items(), key=lambda item: [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in item[0].split(".")]))


def get_exercise(exercise_id: str) -> Exercise:
    """The exercise with this id; an unknown id is a ValueError that lists the known ones."""
    exercises = all_exercises()
    if not isinstance(exercise_id, str) or exercise_id not in exercises:
        known = ", ".join(exercises) or "(none)"
        raise ValueError(f"unknown exercise id {exercise_id!r}; known exercises: {known}")
    return exercises[exercise_id]


def exercises_for_notebook(notebook: str) -> list[Exercise]:
    """The exercises that live in the notebook with this stem (e.g. "00_warmup")."""
    return [ex for ex in all_exercises().values() if ex.notebook == notebook]
