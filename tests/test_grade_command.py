"""The grading command on real notebooks: blank, solved, hostile, broken, missing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from coderl_lessons.cli import main
from coderl_lessons.exercise import get_exercise
from coderl_lessons.grade import GradeSettings, _probe_source, grade_notebook

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = ROOT / "exercises" / "00_warmup.ipynb"
FAST = GradeSettings(cell_timeout=8, notebook_timeout=90, memory_mb=2048)
GOOD_00_1 = """def group_mean_std(rewards):
    n = len(rewards); m = sum(rewards) / n
    return m, (0.0 if n == 1 else (sum((r - m) ** 2 for r in rewards) / (n - 1)) ** 0.5)"""
GOOD_00_2 = """def fraction_passed(statuses):
    return sum(s == "passed" for s in statuses) / len(statuses) if statuses else 0.0"""


def submission(tmp_path: Path, name: str, extra_cells: list[str], replace: dict[str, str] | None = None) -> Path:
    """The blank exercise notebook, with cells replaced (by the function they define) and cells added."""
    nb = nbformat.read(EXERCISE, as_version=4)
    for cell in nb.cells:
        for entry, source in (replace or {}).items():
            if cell.cell_type == "code" and f"def {entry}(" in cell.source:
                cell.source = source
    nb.cells.extend(nbformat.v4.new_code_cell(source) for source in extra_cells)
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def by_exercise(records):
    return {r.exercise: r for r in records}


def test_solved_submission_gets_full_points(tmp_path):
    path = submission(tmp_path, "good.ipynb", [], {"group_mean_std": GOOD_00_1, "fraction_passed": GOOD_00_2})
    records = by_exercise(grade_notebook(path, FAST))
    assert records["00.1"].points == 2 and records["00.1"].status == "passed"
    assert records["00.2"].points == 1 and records["00.2"].status == "passed"


def test_fake_success_report_and_patched_grader_earn_nothing(tmp_path):
    path = submission(tmp_path, "cheat.ipynb", [
        "print('00.1 passed 18/18  00.2 passed 17/17  total: 3/3 points')",
        "import coderl_lessons.grading as g, coderl_lessons.exercise as e\n"
        "g.judge = lambda *a, **k: None\n"
        "e.compare_plain = lambda *a, **k: None\n"
        "g.check = lambda *a, **k: 'all passed'",
        "import coderl_lessons.probe as p\np.run_cases = lambda f, cases, s, m: [{'value': 0.0}] * len(list(cases))",
    ])
    records = by_exercise(grade_notebook(path, FAST))
    assert records["00.1"].points == 0 and records["00.2"].points == 0
    assert records["00.1"].status == "not attempted"


def test_a_reference_imported_from_the_package_earns_nothing(tmp_path):
    imported = submission(tmp_path, "imported.ipynb",
                          ["from coderl_lessons.exercises.ex00_warmup import group_mean_std, fraction_passed"])
    records = by_exercise(grade_notebook(imported, FAST))
    for exercise in ("00.1", "00.2"):
        assert records[exercise].points == 0 and records[exercise].status == "error"
        assert "comes from the course package (coderl_lessons.exercises.ex00_warmup)" in records[exercise].detail


def test_a_wrapper_around_the_reference_earns_nothing(tmp_path):
    wrapped = submission(tmp_path, "wrapped.ipynb", [], {
        "group_mean_std": "from coderl_lessons.exercises import ex00_warmup as course\n\n"
                          "def group_mean_std(rewards):\n    return course.group_mean_std(list(rewards))",
        "fraction_passed": GOOD_00_2})
    records = by_exercise(grade_notebook(wrapped, FAST))
    assert records["00.1"].points == 0 and records["00.1"].status == "error"
    assert "calls the reference answer (coderl_lessons.exercises.ex00_warmup.group_mean_std)" in records["00.1"].detail
    assert records["00.2"].status == "passed"  # an honest answer beside it is unaffected


def test_early_exit_is_graded_on_what_finished(tmp_path):
    path = submission(tmp_path, "exit.ipynb", ["import os\nos._exit(0)"], {"group_mean_std": GOOD_00_1})
    records = by_exercise(grade_notebook(path, FAST))
    assert records["00.1"].points == 2 and records["00.1"].status == "passed"
    assert records["00.2"].points == 0 and records["00.2"].status == "kernel died"


def test_hanging_cell_is_a_time_limit_and_the_rest_is_graded(tmp_path):
    hang = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    path = submission(tmp_path, "hang.ipynb", [hang], {"fraction_passed": GOOD_00_2})
    records = by_exercise(grade_notebook(path, GradeSettings(cell_timeout=3, notebook_timeout=90)))
    assert records["00.2"].points == 1
    assert records["00.1"].status == "time limit" and records["00.1"].points == 0
    assert "cell" in records["00.1"].detail


def test_hard_coded_visible_examples_get_partial_credit(tmp_path):
    cheat = """def fraction_passed(statuses):
    return {("passed", "wrong_answer", "passed", "error"): 0.5}.get(tuple(statuses), 0.0)"""
    records = by_exercise(grade_notebook(submission(tmp_path, "hard.ipynb", [], {"fraction_passed": cheat}), FAST))
    assert 0 < records["00.2"].points < 1 and records["00.2"].status == "partial"


def test_memory_bomb_in_candidate_is_contained(tmp_path):
    bomb = "def fraction_passed(statuses):\n    return len(bytearray(8 * 1024**3))"
    records = by_exercise(grade_notebook(submission(tmp_path, "bomb.ipynb", [], {"fraction_passed": bomb}), FAST))
    assert records["00.2"].points == 0 and records["00.2"].status == "memory limit"


def test_kernel_sees_none_of_the_graders_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CODERL_SECRET_TOKEN", "s3cret")
    leak = """import os
def fraction_passed(statuses):
    return 1.0 if "CODERL_SECRET_TOKEN" in os.environ else (sum(s == "passed" for s in statuses) / len(statuses) if statuses else 0.0)"""
    records = by_exercise(grade_notebook(submission(tmp_path, "env.ipynb", [], {"fraction_passed": leak}), FAST))
    assert records["00.2"].status == "passed"


def test_command_line_table_json_and_exit_status(tmp_path):
    corrupt = tmp_path / "corrupt.ipynb"
    corrupt.write_text("{ not json")
    not_notebook = tmp_path / "notes.txt"
    not_notebook.write_text("hello")
    out = tmp_path / "grades.json"
    proc = subprocess.run(
        [sys.executable, "-m", "coderl_lessons.cli", "grade", str(EXERCISE), str(ROOT / "solutions" / "00_warmup.ipynb"),
         str(tmp_path / "missing.ipynb"), str(corrupt), str(not_notebook), "--json", str(out)],
        capture_output=True, text=True, timeout=240)
    assert proc.returncode == 1, proc.stderr
    assert "exercise" in proc.stdout and "points" in proc.stdout
    records = json.loads(out.read_text())
    assert {tuple(sorted(r)) for r in records} == {("detail", "exercise", "max_points", "notebook", "points", "seed", "status")}
    solved = [r for r in records if r["notebook"].endswith("solutions/00_warmup.ipynb")]
    blank = [r for r in records if r["notebook"] == str(EXERCISE)]
    assert sum(r["points"] for r in solved) == sum(r["max_points"] for r in solved) == 3
    assert sum(r["points"] for r in blank) == 0 and {r["status"] for r in blank} == {"not attempted"}
    errors = {r["notebook"]: r["detail"] for r in records if r["status"] == "error"}
    assert "file not found" in errors[str(tmp_path / "missing.ipynb")]
    assert "not a readable notebook" in errors[str(corrupt)]
    assert "not a notebook" in errors[str(not_notebook)]
    assert "could not grade" in proc.stderr


def test_folder_of_good_notebooks_exits_zero(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "alice_00_warmup.ipynb").write_text((ROOT / "solutions" / "00_warmup.ipynb").read_text())
    proc = subprocess.run([sys.executable, "-m", "coderl_lessons.cli", "grade", str(folder)],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "alice_00_warmup.ipynb" in proc.stdout and "total: 3/3 points" in proc.stdout


@pytest.mark.parametrize("args", [["grade"], ["nonsense"]])
def test_bad_command_line_is_a_usage_error(args):
    proc = subprocess.run([sys.executable, "-m", "coderl_lessons.cli", *args], capture_output=True, text=True)
    assert proc.returncode == 2 and "usage" in proc.stderr


def test_submission_cannot_write_outside_its_directory(tmp_path):
    from coderl_lessons import sandbox

    target = tmp_path / "escaped.txt"
    escape = f"""def fraction_passed(statuses):
    try:
        open({str(target)!r}, "w").write("x")
    except OSError:
        pass
    return sum(s == "passed" for s in statuses) / len(statuses) if statuses else 0.0"""
    records = by_exercise(grade_notebook(submission(tmp_path, "escape.ipynb", [], {"fraction_passed": escape}), FAST))
    assert records["00.2"].status == "passed"  # the kernel still works under the restriction
    if sandbox.landlock_abi() >= 1:
        assert not target.exists(), "the grading kernel wrote outside its working directory"


def test_memory_limit_setting_reaches_the_kernel(tmp_path):
    probe_cell = """try:
    big = bytearray(3 * 1024**3)
    fits = True
except MemoryError:
    fits = False
big = None"""
    answer = """def fraction_passed(statuses):
    if fits:
        return -1.0
    return sum(s == "passed" for s in statuses) / len(statuses) if statuses else 0.0"""
    path = submission(tmp_path, "mem.ipynb", [], {"fraction_passed": probe_cell + "\n" + answer})
    small = by_exercise(grade_notebook(path, GradeSettings(cell_timeout=20, notebook_timeout=90, memory_mb=2048)))
    large = by_exercise(grade_notebook(path, GradeSettings(cell_timeout=20, notebook_timeout=90, memory_mb=6144)))
    assert small["00.2"].status == "passed", "3 GB fit under a 2 GB kernel limit"
    assert large["00.2"].points == 0, "3 GB did not fit under a 6 GB kernel limit"


def test_the_grading_kernel_watches_the_global_generator_where_the_exercise_says():
    watched, unwatched = get_exercise("04.3"), get_exercise("04.1")
    assert watched.own_generator and not unwatched.own_generator
    assert f"{watched.memory_mb!r}, True)" in _probe_source(watched, list(watched.visible), "tok")
    assert f"{unwatched.memory_mb!r}, False)" in _probe_source(unwatched, list(unwatched.visible), "tok")


def test_an_empty_folder_is_an_error_that_says_why(tmp_path, capsys):
    (tmp_path / "student1").mkdir()
    (tmp_path / "student1" / "work.ipynb").write_text("{}")  # in a subfolder: not looked at
    assert main(["grade", str(tmp_path)]) == 1
    assert "nothing to grade" in capsys.readouterr().err
