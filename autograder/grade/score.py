"""Step 4 (parent process only): score a run with nbgrader's own logic, record it, explain it.

Why nbgrader's own preprocessors: the scores and manual-grading flags must equal
`nbgrader autograde`'s. So the outputs the worker recorded take the place of
nbgrader's execution step, and the rest of the course's configured autograde list
runs on them (nbgrader_steps.py; by default IgnorePattern, ClearMetadata,
LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata), writing the
gradebook from this process only. Written answers, answer cells left unchanged and
task cells are scored exactly as nbgrader scores them (by hand, or 0 when no answer
was written). Before that, what the worker could not record itself becomes an
`error` output, so nbgrader scores it 0:

- the cell in which the process died or was killed (the run was then resumed
  after it, see pipeline.resume_job), and any cell no run reached;
- every test cell at or after the cell where tampering was detected.

Then each test cell gets a reason in plain words and as data: the root cause when
an earlier cell stopped it (causes.py), and the diagnoses its test cell handed over
as data (autograder.handoff), never read back from the error text. The reasons go to
the gradebook as the exercise's comment; everything is kept in
`<notebook>.grading.json` for feedback and the class report.
"""
import json
import shutil

import nbformat
from nbconvert.preprocessors import Preprocessor
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry

from autograder import handoff
from autograder.diagnoses import Diagnosis
from autograder.report import hidden_text
from autograder.grade import causes, nbgrader_steps
from autograder.grade.course import Course
from autograder.grade.outcome import CellOutcome, SubmissionOutcome
from autograder.grade.prepare import HIDDEN_BLOCK, AssignmentInfo, Prepared



def score(course: Course, info: AssignmentInfo, item: Prepared, result: dict | None) -> SubmissionOutcome:
    """Record one notebook's grades; `result` is the worker's answer (None when nothing ran)."""
    outcome = SubmissionOutcome(item.submission.student, item.submission.assignment, item.notebook,
                                notes=list(item.notes), walls=(result or {}).get("walls") or "",
                                seconds=(result or {}).get("seconds", 0.0))
    notebook = info.notebooks[item.notebook]
    if item.nb is None:
        _zero_everything(course, item)
        reason = item.failure or "nothing could be run"
        outcome.notes.append(reason[0].upper() + reason[1:] + ".")
        why = causes.Cause("no-notebook", None, "", reason).to_dict()
        for grade_id, cell in notebook.grade_cells.items():
            outcome.cells.append(CellOutcome(grade_id, cell.exercise, 0.0, cell.max_points,
                                             reason, cell.hidden, message=reason, cause=why))
    else:
        nb, _ = nbgrader_steps.finish(course, item.nb, item.resources, WorkerOutputs(result, item.runs))
        _write_autograded(course, item, nb)
        grades = _grades_from_gradebook(course, item)
        outcome.cells = explain_notebook(nb, notebook, grades, info.hidden_lines, item.cell_notes, result,
                                         course.limits.as_dict())
    _record_comments(course, item, outcome)
    _save(course, item, outcome)
    return outcome


class WorkerOutputs(Preprocessor):
    """Stands in for nbgrader's execution step: the outputs the isolated worker recorded."""

    def __init__(self, result: dict | None, runs: list[int], **kwargs):
        super().__init__(**kwargs)
        self.enabled, self.result, self.runs = True, result, runs

    def preprocess(self, nb, resources):
        return _with_outputs(nb, self.result, self.runs), resources


def _with_outputs(sanitized, result: dict | None, runs: list[int]):
    """The notebook with the worker's outputs in the cells nbgrader would have run
    (`runs`) and failures made explicit."""
    nb = nbformat.from_dict(json.loads(json.dumps(sanitized)))  # a copy: the input stays clean
    result = result or {"cells": {}, "stopped": {"cell": None, "reason": "the notebook was not run"}}
    ran, stopped = result.get("cells", {}), result.get("stopped")
    crashes = {index: f"{causes.subject(nb, index)} {stop['reason']}"
               for index, stop in causes.process_stops(result).items()}
    tampered_at, tampering = None, []
    for index in runs:
        cell = nb.cells[index]
        record = ran.get(str(index))
        if record is not None:
            cell.outputs = [nbformat.from_dict(output) for output in record["outputs"]]
            cell.execution_count = record.get("count")
            if record.get("tampering") and tampered_at is None:
                tampered_at, tampering = index, record["tampering"]
        elif index in crashes:
            cell.outputs = [_error("GradingStopped", crashes[index])]
        else:
            why = "the notebook stopped before this cell"
            if stopped:
                where = stopped.get("cell")
                why = stopped["reason"] if where is None else f"{causes.subject(nb, where)} {stopped['reason']}"
            if tampered_at is not None:
                why = "tampering was detected earlier in the notebook"
            cell.outputs = [_error("NotRun", f"not run: {why}")]
        if tampered_at is not None and utils.is_grade(cell):
            cell.outputs.append(_error("TamperingDetected", "tampering detected: " + "; ".join(tampering)
                                       + f" (found after {causes.subject(nb, tampered_at)} ran)"))
    return nb


def _error(ename: str, evalue: str):
    return nbformat.from_dict({"output_type": "error", "ename": ename, "evalue": evalue,
                               "traceback": [f"{ename}: {evalue}"]})


def _grades_from_gradebook(course: Course, item: Prepared) -> dict[str, tuple[float | None, bool]]:
    """Read back what nbgrader recorded (score, needs manual grading), so the summary
    shows the gradebook's numbers."""
    sub = item.submission
    with Gradebook(course.db_url, course.coursedir.course_id) as gb:
        notebook = gb.find_submission_notebook(item.notebook, sub.assignment, sub.student)
        return {grade.name: (grade.score, bool(grade.needs_manual_grade)) for grade in notebook.grades}


def not_run_here(cell, info_cell, points, by_hand: bool, note: str | None) -> CellOutcome:
    """A cell nbgrader does not score from outputs: a written answer, an answer cell
    (code or text) the learner left unchanged, a task, a deleted cell left out."""
    points = 0.0 if points is None else float(points)
    if by_hand:
        reason = "left for manual grading: " + ("a task" if info_cell.task else
                                                "a written answer" if cell is not None and cell.cell_type != "code"
                                                else "an answer nbgrader does not score itself")
    elif cell is not None and utils.is_solution(cell) and \
            cell.metadata.nbgrader.get("checksum") == utils.compute_checksum(cell):
        reason = "no answer written: the answer cell is unchanged"
    else:
        reason = "passed" if points >= info_cell.max_points else f"partial credit: {points:g} of {info_cell.max_points:g}"
    if note:
        reason = f"{reason} ({note})"
    return CellOutcome(info_cell.grade_id, info_cell.exercise, points, info_cell.max_points, reason,
                       info_cell.hidden, message=reason)


def explain_notebook(nb, notebook, grades: dict, hidden_lines: set[str], notes: dict, result: dict | None,
                     limits: dict) -> list[CellOutcome]:
    """A CellOutcome for every graded cell of an executed notebook, each with its root cause;
    `grades` is the gradebook's (score, needs manual grading) per grade_id."""
    found = causes.find_causes(nb, result, limits)
    visible = "\n".join(HIDDEN_BLOCK.sub("", cell.source) for cell in nb.cells)
    explained, exercise_cell, seen = [], None, set()
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            exercise_cell = index
        grade_id = meta.get("grade_id")
        if not (utils.is_grade(cell) or utils.is_task(cell)) or grade_id not in notebook.grade_cells:
            continue
        seen.add(grade_id)
        got, by_hand = grades.get(grade_id, (None, True))
        if by_hand or utils.is_task(cell) or cell.cell_type != "code":
            explained.append(not_run_here(cell, notebook.grade_cells[grade_id], got, by_hand, notes.get(grade_id)))
            continue
        why = causes.blame(nb, index, found, exercise_cell, visible)
        explained.append(explain(cell, notebook.grade_cells[grade_id], got, hidden_lines, notes.get(grade_id), why))
    for grade_id in notebook.grade_cells.keys() - seen:  # deleted, and not put back (add_missing_cells)
        got, by_hand = grades.get(grade_id, (None, True))
        explained.append(not_run_here(None, notebook.grade_cells[grade_id], got, by_hand, notes.get(grade_id)))
    return explained


def explain(cell, info_cell, points, hidden_lines: set[str], note: str | None,
            why: "causes.Cause | None" = None) -> CellOutcome:
    """The reason for one test cell's score, and what the learner may read about it.

    `why` is the earlier failure this test could not get past (see causes.py)."""
    hidden = info_cell.hidden
    max_points = info_cell.max_points
    points = 0.0 if points is None else float(points)
    errors = [o for o in cell.outputs if o.output_type == "error"]
    stderr = [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
    found: list[dict] = []
    curves: dict = {}
    tamper = next((o for o in errors if o.ename == "TamperingDetected"), None)
    if tamper is not None:
        reason = message = tamper.evalue
    elif why is not None:
        reason = message = _blamed(why, errors)
    elif errors:
        reason, message, found, curves = _explain_error(errors[0], cell.outputs, hidden, hidden_lines)
    elif stderr:
        reason = "the test cell wrote to stderr (nbgrader scores that 0)"
        message = reason if hidden else f"{reason}: {stderr[0].text.strip()[:300]}"
    elif points < max_points:
        reason = message = f"partial credit: {points:g} of {max_points:g}"
    else:
        reason, message = "passed", "passed"
    if note:
        reason, message = f"{reason} ({note})", f"{message} ({note})"
    cause = None if why is None else why.to_dict()
    if tamper is not None:
        cause = causes.Cause("tampering", None, "", tamper.evalue).to_dict()
    return CellOutcome(info_cell.grade_id, info_cell.exercise, points, max_points, _safe(reason, hidden_lines),
                       hidden, diagnoses=found, message=_safe(message, hidden_lines),
                       cause=None if cause is None else {k: _safe(str(v), hidden_lines) if isinstance(v, str) else v
                                                          for k, v in cause.items()},
                       **curves)


def _blamed(why: "causes.Cause", errors) -> str:
    """A test that could not get past an earlier failure: that failure, and the cell."""
    if why.subject.startswith("this test"):
        return why.text
    name = causes.UNDEFINED.match(str(errors[0].evalue)) if errors and errors[0].ename == "NameError" else None
    missing = f", so `{name.group(1)}` did not exist for this test" if name and why.cell is not None else ""
    prefix = "not attempted yet: " if why.kind == "not-attempted" else "could not run: "
    return f"{prefix}{why.text}{missing}"


WITHHELD = "(this message quoted hidden test code, so it is not shown)"


def _safe(text: str, hidden_lines: set[str]) -> str:
    """Text a student may read: any text quoting a hidden test line is withheld whole
    (learner code can put the calling test's source into its own error message)."""
    if hidden_text.looks_hidden(text, hidden_lines) or "### BEGIN HIDDEN TESTS" in text:
        return WITHHELD
    return text


def _published(outputs, hidden_lines: set[str]) -> tuple[list[dict], dict]:
    """The diagnoses (and loss curves) the test cell handed over as data, made safe to show."""
    reports = handoff.reports_in(outputs)
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
    ename, evalue = error.ename, str(error.evalue)
    if ename in ("GradingStopped", "NotRun"):
        return evalue, evalue, [], {}
    if ename == "CellTimeoutError":
        return evalue, evalue, [], {}
    if ename == "MemoryError" or any(word in evalue for word in causes.MEMORY_WORDS):
        return "memory limit exceeded", "memory limit exceeded: the code used more memory than allowed", [], {}
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


def _zero_everything(course: Course, item: Prepared) -> None:
    """No notebook to run: every test cell gets 0 (as nbgrader does for a missing notebook)."""
    sub = item.submission
    with Gradebook(course.db_url, course.coursedir.course_id) as gb:
        notebook = gb.find_submission_notebook(item.notebook, sub.assignment, sub.student)
        for grade in notebook.grades:
            grade.auto_score = 0
            grade.needs_manual_grade = False
        gb.db.commit()


def _write_autograded(course: Course, item: Prepared, nb) -> None:
    """autograded/<student>/<assignment>/ as nbgrader leaves it: the graded notebook,
    the working files and the timestamp (the pipeline emptied it first)."""
    sub = item.submission
    folder = course.folder("autograded", sub.student, sub.assignment)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in item.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    stamp = sub.folder / "timestamp.txt"
    if stamp.is_file():
        shutil.copy(stamp, folder / "timestamp.txt")
    nbformat.write(nb, str(folder / f"{item.notebook}.ipynb"))


def _record_comments(course: Course, item: Prepared, outcome: SubmissionOutcome) -> None:
    """The reasons go into the gradebook as the auto comment of each exercise's
    solution cell (nbgrader keeps comments on solution cells, not test cells)."""
    sub = item.submission
    lines = [f"{cell.grade_id}: {cell.points:g}/{cell.max_points:g}, {cell.reason}" for cell in outcome.cells]
    lines = outcome.notes + lines
    with Gradebook(course.db_url, course.coursedir.course_id) as gb:
        try:
            notebook = gb.find_submission_notebook(item.notebook, sub.assignment, sub.student)
        except MissingEntry:
            return
        for comment in notebook.comments:
            kept = [] if comment.auto_comment is None else [
                line for line in comment.auto_comment.splitlines() if line == "No response."]
            comment.auto_comment = "\n".join(kept + ["Autograder:"] + lines)
        gb.db.commit()


def _save(course: Course, item: Prepared, outcome: SubmissionOutcome) -> None:
    folder = course.folder("autograded", item.submission.student, item.submission.assignment)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{item.notebook}.grading.json").write_text(json.dumps(outcome.to_dict(), indent=1))
