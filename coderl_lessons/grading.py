"""Verdicts on exercise candidates, and ``check``: the call at the end of every exercise.

The verdict is computed here, from plain data: the candidate's outputs (as ``probe.run_cases``
reports them) against the reference implementation's outputs on the same inputs. The same
function, :func:`judge`, serves the check cell in a notebook and the grading command, which gets
the outputs back from a learner's kernel as JSON.
"""

from __future__ import annotations

import copy
import html
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from coderl_lessons.exercise import Case, Exercise, get_exercise
from coderl_lessons.probe import describe_plain, run_cases, to_plain

#: Statuses, best first. "partial" means some checks passed.
STATUSES = ("passed", "partial", "failed", "not attempted", "error", "time limit", "memory limit")


@dataclass(frozen=True)
class CheckLine:
    """One check: visible ones carry what was expected and what came back."""

    name: str
    visible: bool
    passed: bool
    status: str
    expected: str = ""
    got: str = ""
    message: str = ""
    hint: str = ""


@dataclass(frozen=True)
class CheckResult:
    """The report of one exercise: its lines, score and overall status."""

    exercise_id: str
    title: str
    lines: tuple[CheckLine, ...]
    points: float
    max_points: int
    status: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def n_passed(self) -> int:
        return sum(line.passed for line in self.lines)

    def _summary(self) -> str:
        hidden = [line for line in self.lines if not line.visible]
        hidden_ok = sum(line.passed for line in hidden)
        visible_ok = self.n_passed - hidden_ok
        return (f"Exercise {self.exercise_id} ({self.title}): {self.status}, "
                f"{self.points:g}/{self.max_points} points; visible checks {visible_ok}/{len(self.lines) - len(hidden)}, "
                f"hidden checks {hidden_ok}/{len(hidden)}")

    def __repr__(self) -> str:
        out = [self._summary()]
        for line in self.lines:
            if not line.visible:
                continue
            mark = "PASS" if line.passed else "FAIL"
            out.append(f"  [{mark}] {line.name}")
            if not line.passed:
                if line.expected:
                    out.append(f"         expected: {line.expected}")
                if line.got:
                    out.append(f"         got:      {line.got}")
                if line.message:
                    out.append(f"         why:      {line.message}")
                if line.hint:
                    out.append(f"         hint:     {line.hint}")
        failed_hidden = [line for line in self.lines if not line.visible and not line.passed]
        if failed_hidden:
            out.append(f"  hidden checks failed: {', '.join(sorted({line.name for line in failed_hidden}))}")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        colour = {"passed": "#1a7f37", "partial": "#9a6700"}.get(self.status, "#cf222e")
        rows = []
        for line in self.lines:
            if not line.visible:
                continue
            mark = "&#10004;" if line.passed else "&#10008;"
            detail = "" if line.passed else "<br>".join(
                html.escape(f"{label} {value}") for label, value in
                (("expected:", line.expected), ("got:", line.got), ("why:", line.message), ("hint:", line.hint)) if value)
            rows.append(f"<tr><td>{mark}</td><td><code>{html.escape(line.name)}</code></td>"
                        f"<td style='text-align:left'>{detail}</td></tr>")
        hidden = [line for line in self.lines if not line.visible]
        failed = sorted({line.name for line in hidden if not line.passed})
        hidden_text = f"{sum(line.passed for line in hidden)}/{len(hidden)} passed"
        if failed:
            hidden_text += html.escape(" (failed: " + ", ".join(failed) + ")")
        rows.append(f"<tr><td>{'&#10004;' if not failed else '&#10008;'}</td><td>hidden randomised checks</td>"
                    f"<td style='text-align:left'>{hidden_text}</td></tr>")
        return (f"<div><b style='color:{colour}'>Exercise {html.escape(self.exercise_id)}: "
                f"{html.escape(self.status)}</b> &mdash; {html.escape(self.title)} &mdash; "
                f"{self.points:g}/{self.max_points} points"
                f"<table><tr><th></th><th>check</th><th style='text-align:left'>details</th></tr>{''.join(rows)}</table></div>")


def reference_outputs(exercise: Exercise, cases: Sequence[Case]) -> list[Any]:
    """The reference implementation's outputs on the cases, as plain data."""
    return [to_plain(exercise.reference(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))) for case in cases]


def judge(exercise: Exercise, cases: Sequence[Case], n_visible: int, outcomes: Sequence[dict]) -> CheckResult:
    """Turn the candidate's outcomes on ``cases`` (the first ``n_visible`` visible) into a verdict.

    Each check is worth the same; the score is ``points * passed / checks``, rounded to 0.01. A
    candidate that only raises NotImplementedError is "not attempted"; one that timed out or ran
    out of memory on every failing case gets that status; an outcome that is not a dict is an
    error (the grading command may hand over anything the kernel printed).
    """
    if len(outcomes) != len(cases):
        outcomes = list(outcomes)[: len(cases)]
        outcomes += [{"status": "error", "error": "", "message": "no result for this check"}] * (len(cases) - len(outcomes))
    # Where many answers are right (``verify`` judges each answer), the reference's is only one of
    # them: it is neither compared with nor shown as "expected" (it would read as the only answer,
    # and give it away), so it is not computed.
    expected = reference_outputs(exercise, cases) if exercise.verify is None else [None] * len(cases)
    lines = []
    for index, (case, outcome, want) in enumerate(zip(cases, outcomes, expected)):
        visible = index < n_visible
        name = (case.label or exercise.describe_args(case)) if visible else (case.label or "random case")
        shown = "" if exercise.verify is not None else describe_plain(want)
        if not isinstance(outcome, dict):
            outcome = {"status": "error", "message": "malformed result"}
        if "value" in outcome:
            problem = exercise.compare(outcome["value"], want, case)
            lines.append(CheckLine(name, visible, problem is None, "passed" if problem is None else "wrong answer",
                                   shown, describe_plain(outcome["value"]), problem or "", case.hint))
        else:
            status = str(outcome.get("status", "error"))
            message = f"{outcome.get('error', '')}: {outcome.get('message', '')}".strip(": ")
            lines.append(CheckLine(name, visible, False, status, shown, "", message, case.hint))
    n_ok = sum(line.passed for line in lines)
    points = round(exercise.points * n_ok / len(lines), 2)
    failing = {line.status for line in lines if not line.passed}
    if not failing:
        status = "passed"
    elif failing == {"not attempted"}:
        status = "not attempted"
    elif n_ok:
        status = "partial"
    elif len(failing) == 1 and failing & {"time limit", "memory limit", "error"}:
        status = failing.pop()
    else:
        status = "failed"
    return CheckResult(exercise.id, exercise.title, tuple(lines), points, exercise.points, status)


def notebook_seed(exercise_id: str) -> int:
    """The fixed seed of the hidden cases in a notebook's check cell (reproducible reports)."""
    return zlib.crc32(exercise_id.encode())


def check(exercise_id: str, candidate: Callable[..., Any]) -> CheckResult:
    """Check ``candidate`` against exercise ``exercise_id``; the result displays as a report.

    Never raises for a wrong, blank, crashing, slow or memory-hungry answer: those are reported.
    An unknown id raises ValueError listing the known ones.
    """
    exercise = get_exercise(exercise_id)
    cases = list(exercise.visible) + exercise.hidden_cases(notebook_seed(exercise_id))
    calls = [(copy.deepcopy(case.args), copy.deepcopy(case.kwargs)) for case in cases]
    outcomes = run_cases(candidate, calls, exercise.time_limit, exercise.memory_mb, exercise.own_generator)
    return judge(exercise, cases, len(exercise.visible), outcomes)
