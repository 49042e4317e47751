"""Step 2 (parent process only): turn a submission into a job a worker can run.

Everything that needs the gradebook or the source notebooks happens here, in the
grader's own process, so that no worker ever needs them:

- the student and the submission (with its timestamp) are recorded, as nbgrader does;
- the notebook is found, even when it was renamed (one stray notebook stands in for
  one missing one, with a note), and read; a corrupt file becomes a failure with a
  reason instead of an exception;
- nbgrader's own sanitizing steps run, as the course configures them
  (nbgrader_steps.py; by default: clear outputs, de-duplicate ids, restore the
  kernelspec, restore every test cell from the gradebook: hidden tests come back,
  edits are undone, deleted test cells are put back if `add_missing_cells` says so),
  and we note what was restored;
- the job holds only the code cells nbgrader would execute and the files of the
  working folder (nbgrader's own file rules: its `ignore` list, `exclude_overwriting`).
"""
import base64
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import OverwriteCells

from autograder.grade import config as settings
from autograder.grade import nbgrader_steps
from autograder.grade.collect import Submission
from autograder.grade.course import Course

HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.S)
EXERCISE_CALL = re.compile(r"\b(?:assert_passes|inspect|check)\(\s*[\"']([\w\-]+)[\"']")
MAX_FILES_BYTES = 50 * 1024 ** 2


class AssignmentMissing(Exception):
    """The assignment is not in the gradebook: `nbgrader generate_assignment` was not run."""


@dataclass
class GradeCellInfo:
    grade_id: str
    max_points: float
    source: str
    exercise: str
    hidden_lines: list[str]
    task: bool = False  # a task cell: graded by hand, never run

    @property
    def hidden(self) -> bool:
        return bool(self.hidden_lines)


@dataclass
class NotebookInfo:
    name: str
    grade_cells: dict[str, GradeCellInfo]
    solution_ids: list[str]


@dataclass
class AssignmentInfo:
    name: str
    notebooks: dict[str, NotebookInfo]

    @property
    def hidden_lines(self) -> set[str]:
        """Every line of every hidden test, for scrubbing anything shown to students."""
        return {line for nb in self.notebooks.values() for cell in nb.grade_cells.values()
                for line in cell.hidden_lines}


@dataclass
class Prepared:
    submission: Submission
    notebook: str
    nb: nbformat.NotebookNode | None = None
    resources: dict = field(default_factory=dict)
    failure: str | None = None  # set when there is nothing to run
    notes: list[str] = field(default_factory=list)
    cell_notes: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    runs: list[int] = field(default_factory=list)  # the cells nbgrader would execute

    def job(self, job_id: int, limits: dict) -> dict:
        cells = [{"index": index, "source": self.nb.cells[index].source,
                  "trusted": _is_instructor_cell(self.nb.cells[index])} for index in self.runs]
        files = {name: base64.b64encode(data).decode() for name, data in self.files.items()}
        return {"id": job_id, "cells": cells, "files": files, "limits": limits}


def read_assignment(course: Course, assignment: str) -> AssignmentInfo:
    """The test cells of each notebook, from the gradebook (hidden tests included)."""
    with Gradebook(course.db_url, course.coursedir.course_id) as gb:
        try:
            record = gb.find_assignment(assignment)
        except MissingEntry:
            raise AssignmentMissing(
                f"Assignment '{assignment}' is not in the gradebook. "
                f"Run `nbgrader generate_assignment {assignment}` first.") from None
        notebooks = {}
        for notebook in record.notebooks:
            sources = {cell.name: cell for cell in notebook.source_cells}
            solution_ids = [cell.name for cell in notebook.solution_cells]
            graded = {cell.name: (cell, False) for cell in notebook.grade_cells}
            graded |= {cell.name: (cell, True) for cell in notebook.task_cells}
            order = _cell_order(course, assignment, notebook.name) or list(sources)
            order += [name for name in graded if name not in order]
            cells, last_solution = {}, None
            for name in order:
                if name in solution_ids:
                    last_solution = name
                if name not in graded:
                    continue
                grade, task = graded[name]
                source = sources[name].source if name in sources else ""
                called = EXERCISE_CALL.search(source)
                exercise = called.group(1) if called else (last_solution or name)
                cells[name] = GradeCellInfo(name, float(grade.max_score), source, exercise,
                                            _hidden_lines(source), task=task)
            notebooks[notebook.name] = NotebookInfo(notebook.name, cells, solution_ids)
    return AssignmentInfo(assignment, notebooks)


def _cell_order(course: Course, assignment: str, notebook: str) -> list[str]:
    path = course.folder("source", ".", assignment) / f"{notebook}.ipynb"
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:
        return []
    return [cell.metadata["nbgrader"]["grade_id"] for cell in nb.cells
            if cell.metadata.get("nbgrader", {}).get("grade_id")]


def _hidden_lines(source: str) -> list[str]:
    lines = []
    for block in HIDDEN_BLOCK.findall(source):
        lines += [line.strip() for line in block.splitlines()[1:-1] if len(line.strip()) >= 4]
    return lines


def prepare(course: Course, info: AssignmentInfo, submission: Submission) -> list[Prepared]:
    """One `Prepared` per notebook of the assignment."""
    _record_submission(course, submission)
    present = {path.stem: path for path in sorted(submission.folder.glob("*.ipynb"))}
    missing = [name for name in info.notebooks if name not in present]
    strays = [path for stem, path in present.items() if stem not in info.notebooks]
    files = _working_files(course, submission)
    prepared = []
    for name, notebook in info.notebooks.items():
        item = Prepared(submission, name, files=files)
        path = present.get(name)
        if path is None and len(missing) == 1 and len(strays) == 1:
            path = strays[0]
            item.notes.append(f"The notebook was submitted as `{path.name}` instead of `{name}.ipynb`; "
                              f"it was graded as `{name}.ipynb`. Keep the original name next time.")
        if path is None:
            found = ", ".join(f"`{p.name}`" for p in strays) or "no notebook at all"
            item.failure = f"no `{name}.ipynb` was submitted (found: {found})"
        else:
            _sanitize(course, notebook, item, path)
        prepared.append(item)
    return prepared


def _record_submission(course: Course, submission: Submission) -> None:
    timestamp = course.coursedir.get_existing_timestamp(str(submission.folder))
    with Gradebook(course.db_url, course.coursedir.course_id) as gb:
        gb.update_or_create_student(submission.student)
        extra = {"timestamp": timestamp} if timestamp else {}
        gb.update_or_create_submission(submission.assignment, submission.student, **extra)


def _sanitize(course: Course, notebook: NotebookInfo, item: Prepared, path: Path) -> None:
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:
        detail = ("it is not valid JSON: truncated or damaged" if "JSON" in type(error).__name__
                  else f"{type(error).__name__}: {_short(error, 100)}")
        item.failure = f"the notebook file could not be read ({detail})"
        return
    _note_changed_test_cells(course, nb, notebook, item)
    sub = item.submission
    resources = nbgrader_steps.resources_for(course, sub.student, sub.assignment, item.notebook, str(path.parent))
    try:
        nb, item.resources = nbgrader_steps.sanitize(course, nb, resources)
    except Exception as error:
        item.failure = f"the notebook's grading structure is broken ({type(error).__name__}: {_short(error)})"
        return
    item.nb = nb
    item.runs = _cells_to_run(course, nb)


def _cells_to_run(course: Course, nb) -> list[int]:
    """The code cells nbgrader's execution step would run: not empty, not tagged to skip."""
    step = nbgrader_steps.execution_step(course)
    if step is None:
        return []
    skip = step.skip_cells_with_tag
    return [index for index, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and cell.source.strip() and skip not in cell.metadata.get("tags", [])]


def _note_changed_test_cells(course: Course, nb, notebook: NotebookInfo, item: Prepared) -> None:
    submitted = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in nb.cells
                 if isinstance(cell.get("metadata"), dict) and "nbgrader" in cell.metadata}
    put_back = OverwriteCells(config=course.config).add_missing_cells
    for grade_id, info in notebook.grade_cells.items():
        cell = submitted.get(grade_id)
        if cell is None:
            item.cell_notes[grade_id] = ("this test cell was deleted from the notebook; the original was put back and run"
                                         if put_back else "this cell was deleted from the notebook; "
                                         "it is left for manual grading, as nbgrader does")
        elif (not info.task and grade_id not in notebook.solution_ids  # an answer cell is the learner's to edit
              and _normalized(cell.source) != _normalized(HIDDEN_BLOCK.sub("", info.source))):
            item.cell_notes[grade_id] = "this test cell had been edited; the original was put back and run"


def _normalized(source: str) -> list[str]:
    return [line.rstrip() for line in source.splitlines() if line.strip()]


def _working_files(course: Course, submission: Submission) -> dict[str, bytes]:
    """The learner's other files, then the assignment's source files over them (as
    nbgrader does: its `ignore` globs, `Autograde.exclude_overwriting`), skipping
    notebooks and anything past the size cap."""
    files, total = {}, 0
    source = course.folder("source", ".", submission.assignment)
    ignore = list(course.coursedir.ignore) + ["*.ipynb"]
    keep_learners = set(settings.autograde_converter(course.config, course.coursedir)
                        .exclude_overwriting.get(submission.assignment, []))
    for base in (submission.folder, source):
        if not base.is_dir():
            continue
        for path in sorted(Path(name) for name in utils.find_all_files(str(base), ignore)):
            relative = path.relative_to(base)
            if path.name == "timestamp.txt" or (base == source and str(relative) in keep_learners):
                continue
            size = path.stat().st_size
            if total + size > MAX_FILES_BYTES:
                continue
            files[str(relative)] = path.read_bytes()
            total += size
    return files


def _is_instructor_cell(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("locked") or (meta.get("grade") and not meta.get("solution")))


def _short(error: Exception, limit: int = 160) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[:limit] + "..."


def is_grade_cell(cell) -> bool:
    return utils.is_grade(cell)
