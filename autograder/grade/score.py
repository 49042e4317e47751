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

Then each test cell gets a reason in plain words, written to the gradebook as the
exercise's comment and kept in `<notebook>.grading.json` for feedback and the class report.
"""
import json
import shutil

import nbformat
from nbconvert.preprocessors import Preprocessor
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry

from autograder.grade import nbgrader_steps
from autograder.report import diagnoses
from autograder.grade.course import Course
from autograder.grade.outcome import CellOutcome, SubmissionOutcome
from autograder.grade.prepare import AssignmentInfo, Prepared

MEMORY_WORDS = ("can't allocate memory", "cannot allocate memory", "out of memory", "DefaultCPUAllocator")


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
        for grade_id, cell in notebook.grade_cells.items():
            outcome.cells.append(CellOutcome(grade_id, cell.exercise, 0.0, cell.max_points,
                                             reason, cell.hidden, message=reason))
    else:
        nb, _ = nbgrader_steps.finish(course, item.nb, item.resources, WorkerOutputs(result, item.runs))
        _write_autograded(course, item, nb)
        grades = _grades_from_gradebook(course, item)
        seen = set()
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if not (utils.is_grade(cell) or utils.is_task(cell)) or grade_id not in notebook.grade_cells:
                continue
            seen.add(grade_id)
            info_cell, note = notebook.grade_cells[grade_id], item.cell_notes.get(grade_id)
            got, by_hand = grades.get(grade_id, (None, True))
            if by_hand or utils.is_task(cell) or cell.cell_type != "code":
                outcome.cells.append(not_run_here(cell, info_cell, got, by_hand, note))
            else:
                outcome.cells.append(explain(cell, info_cell, got, info.hidden_lines, note))
        for grade_id in notebook.grade_cells.keys() - seen:  # deleted, and not put back (add_missing_cells)
            got, by_hand = grades.get(grade_id, (None, True))
            outcome.cells.append(not_run_here(None, notebook.grade_cells[grade_id], got, by_hand,
                                              item.cell_notes.get(grade_id)))
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
    crashes = {crash["cell"]: crash["reason"] for crash in result.get("crashes", [])}
    if stopped and stopped.get("cell") is not None:
        crashes[stopped["cell"]] = stopped["reason"]
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
            why = stopped["reason"] if stopped else "the notebook stopped before this cell"
            if tampered_at is not None:
                why = "tampering was detected earlier in the notebook"
            cell.outputs = [_error("NotRun", f"not run: {why}")]
        if tampered_at is not None and utils.is_grade(cell):
            cell.outputs.append(_error("TamperingDetected", "tampering detected: " + "; ".join(tampering)))
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


def explain(cell, info_cell, points, hidden_lines: set[str], note: str | None) -> CellOutcome:
    """The reason for one test cell's score, and what the learner may read about it."""
    hidden = info_cell.hidden
    max_points = info_cell.max_points
    points = 0.0 if points is None else float(points)
    errors = [o for o in cell.outputs if o.output_type == "error"]
    stderr = [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
    found: list[dict] = []
    tamper = next((o for o in errors if o.ename == "TamperingDetected"), None)
    if tamper is not None:
        reason = message = tamper.evalue
    elif errors:
        reason, message, found = _explain_error(errors[0], hidden, hidden_lines)
    elif stderr:
        reason = "the test cell wrote to stderr (nbgrader scores that 0)"
        message = reason if hidden else f"{reason}: {stderr[0].text.strip()[:300]}"
    elif points < max_points:
        reason = message = f"partial credit: {points:g} of {max_points:g}"
    else:
        reason, message = "passed", "passed"
    if note:
        reason, message = f"{reason} ({note})", f"{message} ({note})"
    return CellOutcome(info_cell.grade_id, info_cell.exercise, points, max_points, reason, hidden,
                       diagnoses=found, message=_safe(message, hidden_lines))


WITHHELD = "(this message quoted hidden test code, so it is not shown)"


def _safe(text: str, hidden_lines: set[str]) -> str:
    """Text a student may read: any text quoting a hidden test line is withheld whole
    (learner code can put the calling test's source into its own error message)."""
    if diagnoses.looks_hidden(text, hidden_lines) or "### BEGIN HIDDEN TESTS" in text:
        return WITHHELD
    return text


def _explain_error(error, hidden: bool, hidden_lines: set[str]) -> tuple[str, str, list[dict]]:
    ename, evalue = error.ename, str(error.evalue)
    if ename in ("GradingStopped", "NotRun"):
        return evalue, evalue, []
    if ename == "CellTimeoutError":
        return evalue, evalue, []
    if ename == "MemoryError" or any(word in evalue for word in MEMORY_WORDS):
        return "memory limit exceeded", "memory limit exceeded: the code used more memory than allowed", []
    if ename == "NotImplementedError":
        text = "not attempted yet: the exercise still raises NotImplementedError"
        return text, text, []
    if ename == "AssertionError":
        found = [{"code": d["code"], "text": _safe(d["text"], hidden_lines)} for d in diagnoses.parse(evalue)]
        if found:
            codes = ", ".join(f"[{d['code']}]" for d in found)
            return f"failed: {codes}", "\n\n".join(f"[{d['code']}] {d['text']}" for d in found), found
        if hidden:
            return "a hidden check failed", "a hidden check failed", []
        first = evalue.strip().splitlines()[0] if evalue.strip() else "an assertion failed"
        return f"failed: {first}", f"failed: {first}", []
    if hidden:
        return f"error in a hidden check: {ename}", f"a hidden check stopped with {ename}", []
    first = evalue.strip().splitlines()[0][:300] if evalue.strip() else ""
    text = f"error: {ename}: {first}" if first else f"error: {ename}"
    return text, text, []


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
