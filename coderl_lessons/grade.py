"""Grade submitted exercise notebooks: run each in a fresh, limited kernel; judge outside it.

For every notebook: execute its code cells in order in a new kernel (``coderl_lessons.kernel``:
memory and CPU limits, a clean environment, a fresh working directory), each cell with a time
limit; then, for each exercise of the notebook, send the kernel a probe that calls the learner's
function on visible and freshly randomised hidden inputs and prints the outputs as JSON behind a
random token. The verdict is computed here, by comparing those outputs with the reference
implementation's. What the notebook printed, which ``check`` it called, or what it patched in its
own kernel plays no part.

A notebook that hangs or kills its kernel is graded on the cells it finished: a fresh kernel reruns
the cells before the one that failed, and the reason is given in ``status``.
"""

from __future__ import annotations

import base64
import inspect
import json
import pickle
import secrets
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from coderl_lessons import probe
from coderl_lessons.exercise import Exercise, all_exercises, exercises_for_notebook
from coderl_lessons.grading import judge
from coderl_lessons.kernel import LimitedKernelManager
from coderl_lessons.notebooks import METADATA_KEY


@dataclass(frozen=True)
class GradeRecord:
    """One row of the grade table (and one record of the JSON file)."""

    notebook: str
    exercise: str
    points: float
    max_points: int
    status: str
    detail: str = ""
    seed: int | None = None


@dataclass(frozen=True)
class GradeSettings:
    cell_timeout: float = 60.0
    notebook_timeout: float = 600.0
    memory_mb: int = 4096
    startup_timeout: float = 60.0


class _Interrupted(Exception):
    def __init__(self, reason: str, cell_index: int):
        super().__init__(reason)
        self.reason = reason
        self.cell_index = cell_index


def notebook_stem(nb: nbformat.NotebookNode, path: Path) -> str | None:
    """Which course notebook this is: from its metadata, else from its file name."""
    stem = nb.metadata.get(METADATA_KEY, {}).get("notebook")
    known = sorted({exercise.notebook for exercise in all_exercises().values()}, key=len, reverse=True)
    if stem in known:
        return stem
    return next((name for name in known if name in path.name), None)


def _probe_source(exercise: Exercise, cases: list, token: str) -> str:
    payload = base64.b64encode(pickle.dumps([(case.args, case.kwargs) for case in cases])).decode()
    return "\n".join([
        "def __coderl_probe(__user_ns):",
        "    import base64, json, pickle",
        "    namespace = {'__name__': 'coderl_probe'}",
        f"    exec(compile({inspect.getsource(probe)!r}, 'coderl_probe', 'exec'), namespace)",
        f"    cases = pickle.loads(base64.b64decode({payload!r}))",
        f"    func = __user_ns.get({exercise.entry_point!r})",
        "    if func is None:",
        f"        outcomes = [{{'status': 'error', 'error': 'NameError', 'message': 'the notebook defines no {exercise.entry_point}'}}] * len(cases)",
        # The references live in the installed package: importing one, or calling the exercise's
        # own, is not an answer (a determined disguise is not caught; the README says so).
        "    elif str(getattr(func, '__module__', '')).split('.')[0] == 'coderl_lessons':",
        f"        outcomes = [{{'status': 'error', 'error': 'ImportedFromCourse', 'message': "
        f"'{exercise.entry_point} comes from the course package (' + func.__module__ + '), "
        f"not from this notebook'}}] * len(cases)",
        f"    elif namespace['calls_reference'](func, {exercise.reference.__module__!r}, "
        f"{exercise.reference.__qualname__!r}):",
        f"        outcomes = [{{'status': 'error', 'error': 'CallsReference', 'message': "
        f"'{exercise.entry_point} calls the reference answer ({exercise.reference.__module__}."
        f"{exercise.reference.__qualname__}) of the course package'}}] * len(cases)",
        "    else:",
        f"        outcomes = namespace['run_cases'](func, cases, {exercise.time_limit!r}, {exercise.memory_mb!r}, "
        f"{exercise.own_generator!r})",
        f"    print({token!r} + json.dumps(outcomes))",
        "__coderl_probe(globals())",
        "del __coderl_probe",
    ])


def _read_outcomes(cell: nbformat.NotebookNode, token: str) -> list | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            for line in output.get("text", "").splitlines():
                if line.startswith(token):
                    try:
                        return json.loads(line[len(token):])
                    except json.JSONDecodeError:
                        return None
    return None


class _Session:
    """One kernel that has run the first ``limit`` code cells of a notebook."""

    def __init__(self, nb: nbformat.NotebookNode, workdir: str, settings: GradeSettings, deadline: float):
        self.nb = nb
        self.settings = settings
        self.deadline = deadline
        self.client = NotebookClient(
            nb, timeout=settings.cell_timeout, allow_errors=True, interrupt_on_timeout=False,
            record_timing=False, startup_timeout=int(settings.startup_timeout),
            kernel_manager_class=type("GradingKernelManager", (LimitedKernelManager,), {
                "memory_mb": settings.memory_mb, "cpu_seconds": int(settings.notebook_timeout) + 60}),
            resources={"metadata": {"path": workdir}},
            shutdown_kernel="immediate")

    def _execute(self, cell: nbformat.NotebookNode, index: int, timeout: float) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise _Interrupted("time limit (whole notebook)", index)
        self.client.timeout = min(timeout, remaining)
        try:
            self.client.execute_cell(cell, index)
        except CellTimeoutError:
            raise _Interrupted("time limit", index) from None
        except DeadKernelError:
            raise _Interrupted("kernel died", index) from None

    def run_cells(self, limit: int) -> None:
        for index, cell in enumerate(self.nb.cells[:limit]):
            if cell.cell_type == "code":
                self._execute(cell, index, self.settings.cell_timeout)

    def query(self, exercise: Exercise, cases: list) -> list | None:
        token = secrets.token_hex(16)
        cell = nbformat.v4.new_code_cell(_probe_source(exercise, cases, token))
        self.nb.cells.append(cell)  # nbclient stores outputs by index into the notebook
        self._execute(cell, len(self.nb.cells) - 1, exercise.time_limit + 30.0)
        return _read_outcomes(self.nb.cells[-1], token)


def _grade_exercises(nb: nbformat.NotebookNode, exercises: list[Exercise], settings: GradeSettings,
                     seed: int) -> tuple[dict[str, tuple], str]:
    """Run the notebook and query each exercise; returns verdicts by id and the interruption, if any."""
    verdicts: dict[str, tuple] = {}
    limit = len(nb.cells)
    interruption = ""
    deadline = time.monotonic() + settings.notebook_timeout
    pending = list(exercises)
    for _attempt in range(len(exercises) + 3):
        if not pending:
            break
        with tempfile.TemporaryDirectory(prefix="coderl-grade-") as workdir:
            session = _Session(nbformat.from_dict(json.loads(json.dumps(nb))), workdir, settings, deadline)
            try:
                with session.client.setup_kernel():
                    try:
                        session.run_cells(limit)
                    except _Interrupted as stop:
                        interruption = f"{stop.reason} in cell {stop.cell_index}"
                        limit = stop.cell_index
                        continue
                    while pending:
                        exercise = pending[0]
                        cases = list(exercise.visible) + exercise.hidden_cases(seed)
                        try:
                            outcomes = session.query(exercise, cases)
                        except _Interrupted as stop:
                            pending.pop(0)
                            verdicts[exercise.id] = (0.0, stop.reason, f"the checks themselves hit: {stop.reason}")
                            break
                        pending.pop(0)
                        if outcomes is None:
                            verdicts[exercise.id] = (0.0, "error", "the kernel returned no readable result")
                            continue
                        result = judge(exercise, cases, len(exercise.visible), outcomes)
                        detail = f"{result.n_passed}/{len(result.lines)} checks passed"
                        why = {line.message for line in result.lines if not line.passed}
                        if len(why) == 1 and "" not in why and not result.n_passed:  # one reason for all: say it
                            detail += f"; {why.pop()}"
                        verdicts[exercise.id] = (result.points, result.status, detail)
            except RuntimeError as exc:  # the kernel could not start
                for exercise in pending:
                    verdicts[exercise.id] = (0.0, "error", f"could not start a kernel: {exc}")
                pending = []
    for exercise in pending:
        verdicts[exercise.id] = (0.0, "time limit", "the notebook ran out of time before grading finished")
    return verdicts, interruption


def grade_notebook(path: str | Path, settings: GradeSettings = GradeSettings(), seed: int | None = None) -> list[GradeRecord]:
    """Grade one notebook; a file that cannot be graded gives a single record with status "error"."""
    shown = str(path)
    path = Path(path)
    if not path.is_file():
        return [GradeRecord(shown, "-", 0.0, 0, "error", "file not found")]
    if path.suffix != ".ipynb":
        return [GradeRecord(shown, "-", 0.0, 0, "error", "not a notebook (expected a .ipynb file)")]
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several types for corrupt files
        return [GradeRecord(shown, "-", 0.0, 0, "error", f"not a readable notebook: {type(exc).__name__}")]
    stem = notebook_stem(nb, path)
    if stem is None:
        return [GradeRecord(shown, "-", 0.0, 0, "error", "no course exercises in this notebook")]
    exercises = exercises_for_notebook(stem)
    seed = secrets.randbits(32) if seed is None else seed
    verdicts, interruption = _grade_exercises(nb, exercises, settings, seed)
    records = []
    for exercise in exercises:
        points, status, detail = verdicts[exercise.id]
        if interruption and status != "passed":
            detail = f"{status}, {detail}; graded on the cells before the {interruption}"
            status = interruption.split(" in cell")[0]
        records.append(GradeRecord(shown, exercise.id, points, exercise.points, status, detail, seed))
    return records


def expand_paths(paths: Iterable[str]) -> list[str]:
    """Folders stand for the notebooks in them (sorted); other paths are kept as given."""
    out: list[str] = []
    for item in paths:
        folder = Path(item)
        if folder.is_dir():
            out.extend(str(p) for p in sorted(folder.glob("*.ipynb")))
        else:
            out.append(item)
    return out


def format_table(records: list[GradeRecord]) -> str:
    """A plain-text table: notebook, exercise, points, status."""
    rows = [("notebook", "exercise", "points", "status")]
    rows += [(r.notebook, r.exercise, f"{r.points:g}/{r.max_points}", r.status) for r in records]
    total = sum(r.points for r in records)
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.append(f"total: {total:g}/{sum(r.max_points for r in records)} points")
    return "\n".join(lines)


def grade_paths(paths: Iterable[str], settings: GradeSettings = GradeSettings(), seed: int | None = None,
                json_path: str | None = None) -> tuple[list[GradeRecord], bool]:
    """Grade every path; returns the records and whether everything could be graded."""
    records: list[GradeRecord] = []
    for path in expand_paths(paths):
        records.extend(grade_notebook(path, settings, seed))
    if json_path:
        Path(json_path).write_text(json.dumps([asdict(r) for r in records], indent=2) + "\n")
    ok = all(r.exercise != "-" for r in records) and bool(records)
    return records, ok
