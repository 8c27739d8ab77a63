"""The notebooks' structure: generated exercises, full-mark solutions, blank exercises at zero,
outputs stored in order for strict nbval, and no ignored output without an assertion after it."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from coderl_lessons.exercise import all_exercises
from coderl_lessons.grade import GradeSettings, grade_notebook
from coderl_lessons.notebooks import exercise_text, make_exercise, strip_solutions

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))
STORED = LESSONS + SOLUTIONS
SETTINGS = GradeSettings(cell_timeout=300, notebook_timeout=900)


def ids(paths):
    return [p.name for p in paths]


def test_there_is_a_notebook_of_each_kind():
    assert LESSONS and SOLUTIONS and EXERCISES
    assert (ROOT / "notebooks" / "00_welcome.ipynb") in LESSONS


@pytest.mark.parametrize("solution", SOLUTIONS, ids=ids(SOLUTIONS))
def test_committed_exercise_is_generated_from_solution(solution):
    exercise = ROOT / "exercises" / solution.name
    assert exercise.exists(), f"run `make exercises`: {exercise.name} is missing"
    assert exercise.read_text() == exercise_text(solution), f"run `make exercises`: {exercise.name} is stale"


def test_no_exercise_without_a_solution():
    assert {p.name for p in EXERCISES} == {p.name for p in SOLUTIONS}


@pytest.mark.parametrize("solution", SOLUTIONS, ids=ids(SOLUTIONS))
def test_solution_scores_full_marks(solution):
    records = grade_notebook(solution, SETTINGS)
    assert records and all(r.exercise != "-" for r in records)
    assert [(r.exercise, r.points) for r in records] == [(r.exercise, r.max_points) for r in records]


@pytest.mark.parametrize("exercise", EXERCISES, ids=ids(EXERCISES))
def test_blank_exercise_scores_zero(exercise):
    records = grade_notebook(exercise, SETTINGS)
    assert records and all(r.points == 0 for r in records), [(r.exercise, r.status) for r in records]
    assert {r.status for r in records} == {"not attempted"}


def test_every_registered_exercise_is_in_a_notebook():
    stems = {p.stem for p in SOLUTIONS}
    missing = [e.id for e in all_exercises().values() if e.notebook not in stems]
    assert not missing, f"exercises without a notebook: {missing}"


@pytest.mark.parametrize("path", STORED, ids=ids(STORED))
def test_stored_notebook_is_executed_in_order(path):
    nb = nbformat.read(path, as_version=4)
    counts = [cell.execution_count for cell in nb.cells if cell.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), "re-run with `coderl-lessons run-notebooks`"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not any(o.get("output_type") == "error" for o in cell.outputs), cell.source[:80]


def _ignored(cell) -> bool:
    return "nbval-ignore-output" in cell.metadata.get("tags", []) or "NBVAL_IGNORE_OUTPUT" in cell.source


@pytest.mark.parametrize("path", STORED, ids=ids(STORED))
def test_ignored_output_is_followed_by_an_assertion(path):
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    for index, cell in enumerate(cells):
        if _ignored(cell):
            following = cells[index + 1].source if index + 1 < len(cells) else ""
            assert "assert" in following, f"cell {index} ignores its output and no assertion follows:\n{cell.source[:200]}"


@pytest.mark.parametrize("path", LESSONS, ids=ids(LESSONS))
def test_lesson_ends_with_a_pointer_to_exercises(path):
    nb = nbformat.read(path, as_version=4)
    last = next(c for c in reversed(nb.cells) if c.cell_type == "markdown")
    assert "exercises/" in last.source


def test_strip_solutions_keeps_indentation_and_rejects_broken_regions():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n\nprint(1)"
    assert strip_solutions(source) == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\nprint(1)"
    for broken in ("### BEGIN SOLUTION\nx = 1", "x = 1\n### END SOLUTION",
                   "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"):
        with pytest.raises(ValueError):
            strip_solutions(broken)


def test_make_exercise_clears_outputs_and_tags_notebook():
    nb = nbformat.read(SOLUTIONS[0], as_version=4)
    exercise = make_exercise(nb, SOLUTIONS[0].stem)
    assert all(not c.outputs and c.execution_count is None for c in exercise.cells if c.cell_type == "code")
    assert exercise.metadata["coderl_lessons"]["notebook"] == SOLUTIONS[0].stem
    assert not any("### BEGIN SOLUTION" in c.source for c in exercise.cells)
