"""A reason for every graded cell, beside the score nbgrader's own steps gave it.

The scores and manual-grading flags are nbgrader's: read from the gradebook after its
SaveAutoGrades step wrote them. What this adds is why: the root cause when an earlier
cell stopped a test (causes.py), the diagnoses a test cell handed over as data
(record/cell_report.py), never read back from error text, or the test's own failure.
Written answers, answer cells left unchanged and task cells are nbgrader's to score
(by hand, or 0 when no answer was written) and are said to be so. Every text a
student may read is first checked for quoted hidden test lines (hidden_text.py).
"""
from nbgrader import utils

from autograder.diagnoses import Diagnosis
from autograder.grade.course.assignment import HIDDEN_BLOCK, GradedCell, NotebookCells
from autograder.grade.reasons import hidden_text
from autograder.grade.reasons.causes import UNDEFINED, Causes, own_error
from autograder.record.cell_report import reports_in
from autograder.record.outcome import Cause, CellOutcome
from autograder.record.run import Run, StopKind

WITHHELD = "(this message quoted hidden test code, so it is not shown)"


def explain_notebook(nb, notebook: NotebookCells, grades: dict, hidden_lines: set[str], notes: dict,
                     run: Run) -> list[CellOutcome]:
    """A CellOutcome for every graded cell of the notebook nbgrader scored; `grades` is the
    gradebook's (score, needs manual grading) per grade_id, `run` the run's record."""
    causes = Causes(nb, run)
    visible = "\n".join(HIDDEN_BLOCK.sub("", cell.source) for cell in nb.cells)
    explained, exercise_cell, seen = [], None, set()
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            exercise_cell = index
        grade_id = meta.get("grade_id")
        if not (utils.is_grade(cell) or utils.is_task(cell)) or grade_id not in notebook.graded or grade_id in seen:
            continue
        seen.add(grade_id)
        got, by_hand = grades.get(grade_id, (None, True))
        graded = notebook.graded[grade_id]
        if by_hand or utils.is_task(cell) or cell.cell_type != "code":
            explained.append(not_run_here(cell, graded, got, by_hand, notes.get(grade_id)))
            continue
        why = causes.of_test(index, exercise_cell, visible)
        explained.append(explain(cell, graded, got, hidden_lines, notes.get(grade_id), why, ran=index in run.cells))
    for grade_id in notebook.graded.keys() - seen:  # deleted, and not put back (add_missing_cells)
        got, by_hand = grades.get(grade_id, (None, True))
        explained.append(not_run_here(None, notebook.graded[grade_id], got, by_hand, notes.get(grade_id)))
    return explained


def not_run_here(cell, graded: GradedCell, points, by_hand: bool, note: str | None) -> CellOutcome:
    """A cell nbgrader does not score from outputs: a written answer, an answer cell
    (code or text) the learner left unchanged, a task, a deleted cell left out."""
    if by_hand:
        reason = "left for manual grading: " + ("a task" if graded.task else
                                                "a written answer" if cell is not None and cell.cell_type != "code"
                                                else "an answer nbgrader does not score itself")
    elif cell is not None and utils.is_solution(cell) and \
            cell.metadata.nbgrader.get("checksum") == utils.compute_checksum(cell):
        reason = "no answer written: the answer cell is unchanged"
    else:
        shown = 0.0 if points is None else float(points)
        reason = "passed" if shown >= graded.max_points else f"partial credit: {shown:g} of {graded.max_points:g}"
    if note:
        reason = f"{reason} ({note})"
    return CellOutcome(graded.grade_id, graded.exercise, 0.0 if points is None else float(points), graded.max_points,
                       reason, graded.hidden, message=reason, needs_manual_grade=by_hand)


def explain(cell, graded: GradedCell, points, hidden_lines: set[str], note: str | None,
            why: Cause | None = None, ran: bool = True) -> CellOutcome:
    """The reason for one test cell's score, and what the learner may read about it.
    `why` is the earlier failure this test could not get past (see causes.py)."""
    hidden, max_points = graded.hidden, graded.max_points
    points = 0.0 if points is None else float(points)
    error = own_error(cell) if ran else None
    stderr = [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"] if ran else []
    found, curves = [], {}
    if why is not None:
        reason = message = why.text if why.kind is StopKind.TAMPERING else _blamed(why, error)
    elif error is not None:
        reason, message, found, curves = _explain_error(error, cell.outputs, hidden, hidden_lines)
    elif stderr:
        reason = "the test cell wrote to stderr (nbgrader scores that 0)"
        message = reason if hidden else f"{reason}: {stderr[0].text.strip()[:300]}"
    elif points < max_points:
        reason = message = f"partial credit: {points:g} of {max_points:g}"
    else:
        reason, message = "passed", "passed"
    if note:
        reason, message = f"{reason} ({note})", f"{message} ({note})"
    cause = None if why is None else Cause(why.kind, why.cell, _safe(why.subject, hidden_lines),
                                           _safe(why.words, hidden_lines), why.signal)
    return CellOutcome(graded.grade_id, graded.exercise, points, max_points, _safe(reason, hidden_lines), hidden,
                       diagnoses=found, message=_safe(message, hidden_lines), cause=cause, **curves)


def _blamed(why: Cause, error) -> str:
    """A test that could not get past an earlier failure: that failure, and the cell."""
    if why.subject.startswith("this test") or why.cell is None and not why.subject:
        return why.text
    name = UNDEFINED.match(str(error.get("evalue", ""))) if error and error.get("ename") == "NameError" else None
    missing = f", so `{name.group(1)}` did not exist for this test" if name and why.cell is not None else ""
    prefix = "not attempted yet: " if why.kind is StopKind.NOT_ATTEMPTED else "could not run: "
    return f"{prefix}{why.text}{missing}"


def _safe(text: str, hidden_lines: set[str]) -> str:
    """Text a student may read: any text quoting a hidden test line is withheld whole
    (learner code can put the calling test's source into its own error message)."""
    if hidden_text.looks_hidden(text, hidden_lines) or "### BEGIN HIDDEN TESTS" in text:
        return WITHHELD
    return text


def _published(outputs, hidden_lines: set[str]) -> tuple[list[dict], dict]:
    """The diagnoses (and loss curves) the test cell handed over as data, made safe to show."""
    reports = reports_in(outputs)
    if not reports:
        return [], {}
    data = reports[-1]
    failing = set(data.get("failing") or [d.get("code") for d in data["diagnoses"]])
    found = []
    for item in data["diagnoses"]:
        try:
            d = Diagnosis.from_dict(item)
        except (KeyError, TypeError, ValueError):
            continue
        if d.code in failing:
            safe = d.to_dict()
            for key in ("message", "fix", "code_line"):
                if safe[key] is not None:
                    safe[key] = _safe(safe[key], hidden_lines)
            if safe["code_line"] == WITHHELD:
                safe["code_line"], safe["line"] = None, None
            found.append(safe)
    curves = {key: [float(x) for x in data.get(key, []) if isinstance(x, (int, float))][:10_000]
              for key in ("curve", "reference_curve")}
    return found, curves


def _explain_error(error, outputs, hidden: bool, hidden_lines: set[str]) -> tuple[str, str, list[dict], dict]:
    """A test cell that failed on its own: the error its code raised."""
    ename, evalue = error.get("ename", "Error"), str(error.get("evalue", ""))
    if ename == "NotImplementedError":
        text = "not attempted yet: the exercise still raises NotImplementedError"
        return text, text, [], {}
    if ename == "AssertionError":
        found, curves = _published(outputs, hidden_lines)
        if found:
            codes = ", ".join(f"[{d['code']}]" for d in found)
            return f"failed: {codes}", f"failed: {codes}", found, curves
        if hidden:
            return "a hidden check failed", "a hidden check failed", [], {}
        first = evalue.strip().splitlines()[0] if evalue.strip() else "an assertion failed"
        return f"failed: {first}", f"failed: {first}", [], {}
    if hidden:
        return f"error in a hidden check: {ename}", f"a hidden check stopped with {ename}", [], {}
    first = evalue.strip().splitlines()[0][:300] if evalue.strip() else ""
    text = f"error: {ename}: {first}" if first else f"error: {ename}"
    return text, text, [], {}


def explain_missing(notebook: NotebookCells, found: list[str]) -> list[CellOutcome]:
    """Every graded cell of a notebook that was not submitted under its name: nbgrader
    scores them 0 (and grades no notebook of another name); `found` are the stray names."""
    strays = ", ".join(f"`{name}`" for name in found)
    words = f"no `{notebook.name}.ipynb` was submitted" + (
        f" (found: {strays}, which nbgrader does not grade: it grades notebooks by their names; "
        "rename it and grade again)" if found else "")
    cause = Cause(StopKind.NO_NOTEBOOK, None, "", words)
    return [CellOutcome(cell.grade_id, cell.exercise, 0.0, cell.max_points, words, cell.hidden, message=words,
                        cause=cause) for cell in notebook.graded.values()]
