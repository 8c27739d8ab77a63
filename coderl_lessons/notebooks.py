"""Exercise notebooks are generated from solution notebooks, never edited by hand.

nbgrader's markers delimit the answer in a solution notebook::

    def group_mean_std(rewards):
        ### BEGIN SOLUTION
        ...
        ### END SOLUTION

In the exercise notebook each such region becomes a stub that raises NotImplementedError (so the
check cell reports "not attempted"), every output is cleared, and the notebook is tagged with the
name the grader uses to find its exercises.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
METADATA_KEY = "coderl_lessons"
_BEGIN_LINE = re.compile(r"^(?P<indent>[ \t]*)" + re.escape(BEGIN) + r"\s*$")


def strip_solutions(source: str) -> str:
    """Replace every solution region of a cell's source by the stub, at the marker's indentation.

    Raises ValueError for an unclosed or nested region, which would otherwise leak the solution.
    """
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.splitlines(), start=1):
        match = _BEGIN_LINE.match(line)
        if match:
            if inside:
                raise ValueError(f"line {number}: {BEGIN} inside another solution region")
            inside = True
            out.extend(match.group("indent") + stub for stub in STUB)
        elif line.strip() == END:
            if not inside:
                raise ValueError(f"line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"a {BEGIN} region is not closed by {END}")
    return "\n".join(out)


def make_exercise(solution: nbformat.NotebookNode, stem: str) -> nbformat.NotebookNode:
    """The learner's version of a solution notebook: stubs instead of answers, no outputs."""
    nb = nbformat.from_dict(solution)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source)
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    nb.metadata[METADATA_KEY] = {"notebook": stem}
    return nb


def exercise_text(solution_path: Path) -> str:
    """The exact text the exercise notebook for ``solution_path`` must have."""
    solution = nbformat.read(solution_path, as_version=4)
    return nbformat.writes(make_exercise(solution, solution_path.stem)) + "\n"


def regenerate(solutions_dir: Path, exercises_dir: Path) -> list[Path]:
    """Write ``exercises_dir/NAME.ipynb`` for every ``solutions_dir/NAME.ipynb``; returns the paths."""
    exercises_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for solution_path in sorted(solutions_dir.glob("*.ipynb")):
        target = exercises_dir / solution_path.name
        target.write_text(exercise_text(solution_path))
        written.append(target)
    return written


def execute_in_place(path: Path, timeout: float = 600.0) -> None:
    """Run a lesson or solution notebook top to bottom in a fresh kernel of this environment and
    store it with its outputs (what strict nbval compares against). Stops on the first error."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    path.write_text(nbformat.writes(nb) + "\n")
