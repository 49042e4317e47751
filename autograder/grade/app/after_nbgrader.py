"""`python -m autograder feedback ASSIGNMENT`: the outcomes of a course graded by plain `nbgrader autograde`.

With the course's isolated steps in `nbgrader_config.py`, plain nbgrader (and
formgrader's Autograde button) leave an outcome record beside every autograded
notebook already; these are taken as they are. A notebook graded by nbgrader's own
Execute step has none: it is explained here from the notebook nbgrader executed
(reasons/derived.py) and the scores nbgrader saved, exactly as the grading command
explains its own runs. A notebook nbgrader scored 0 because it was never submitted
gets an outcome saying so. The command line then writes the pages (autograder/__main__.py).
"""
import argparse
import json
import os
import sys
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps.baseapp import NbGrader
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute

from autograder.grade.course.assignment import AssignmentMissing, read_assignment
from autograder.grade.course.folders import folder, gradebook_url
from autograder.grade.reasons import derived
from autograder.grade.reasons.explain import explain_missing, explain_notebook
from autograder.grade.steps.explain_scores import save
from autograder.record.outcome import SubmissionOutcome


def main(argv: list[str] | None = None, then=None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.root)
        coursedir = CourseDirectory(config=config, root=str(Path(args.root).resolve()))
        db_url = gradebook_url(coursedir)
        cells = read_assignment(db_url, args.assignment, folder(coursedir, "source", ".", args.assignment))
    except AssignmentMissing as error:
        print(error, file=sys.stderr)
        return 2
    except Exception as error:
        print(f"Could not read the course's nbgrader_config.py: {error}", file=sys.stderr)
        return 2
    timeout = Execute(config=config).timeout
    outcomes = []
    for student in _students(db_url, args.assignment, args.student):
        graded = folder(coursedir, "autograded", student, args.assignment)
        for name, notebook in cells.notebooks.items():
            path = os.path.join(graded, f"{name}.ipynb")
            if os.path.isfile(path):
                outcome = _explained(path, student, args.assignment, notebook, cells.hidden_lines, db_url, timeout,
                                     args.force)
            else:
                outcome = _missing(coursedir, student, args.assignment, name, notebook, graded, cells.notebooks)
            if outcome is not None:
                outcomes.append(outcome)
    if not outcomes:
        print(f"No autograded notebooks of '{args.assignment}' under "
              f"{folder(coursedir, 'autograded', '*', args.assignment)}.", file=sys.stderr)
        return 1
    print(f"Explained {len(outcomes)} notebook(s).")
    if then is not None:
        print(then(coursedir, outcomes))
    return 0


def load_config(root: str):
    """The configuration `nbgrader` itself would read when started in `root`: Jupyter's
    config folders, then the course's own `nbgrader_config.py` (it wins)."""
    app, here = NbGrader(), os.getcwd()
    os.chdir(root)
    try:
        app.load_config_file()
    finally:
        os.chdir(here)
    return app.config


def _students(db_url: str, assignment: str, only: list[str] | None) -> list[str]:
    with Gradebook(db_url) as gb:
        try:
            found = sorted(submission.student.id for submission in gb.assignment_submissions(assignment))
        except MissingEntry:
            return []
    return [student for student in found if not only or student in only]


def _explained(path, student, assignment, notebook, hidden_lines, db_url, timeout, force) -> SubmissionOutcome | None:
    record = Path(path).with_name(f"{notebook.name}.grading.json")
    if not force and record.is_file() and record.stat().st_mtime >= Path(path).stat().st_mtime:
        return SubmissionOutcome.from_dict(json.loads(record.read_text()))
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:
        print(f"Skipped {path}: {error}", file=sys.stderr)
        return None
    with Gradebook(db_url) as gb:
        try:
            found = gb.find_submission_notebook(notebook.name, assignment, student)
        except MissingEntry:
            return None
        grades = {grade.name: (grade.score, bool(grade.needs_manual_grade)) for grade in found.grades}
    run = derived.run_of(nb, timeout)
    outcome = SubmissionOutcome(student, assignment, notebook.name, run=run.summary())
    outcome.cells = explain_notebook(nb, notebook, grades, hidden_lines, {}, run)
    save(outcome, str(record.parent))
    return outcome


def _missing(coursedir, student, assignment, name, notebook, graded, known) -> SubmissionOutcome | None:
    """A notebook nbgrader did not grade because it was not submitted under its name."""
    submitted = folder(coursedir, "submitted", student, assignment)
    if not os.path.isdir(graded) or os.path.isfile(os.path.join(submitted, f"{name}.ipynb")):
        return None  # not graded at all yet, or nbgrader failed it: nothing to explain
    present = sorted(entry for entry in os.listdir(submitted) if entry.endswith(".ipynb")) \
        if os.path.isdir(submitted) else []
    strays = [entry for entry in present if entry[:-len(".ipynb")] not in known]
    outcome = SubmissionOutcome(student, assignment, name, cells=explain_missing(notebook, strays))
    save(outcome, graded)
    return outcome


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder feedback", description=__doc__.splitlines()[0])
    parser.add_argument("assignment", help="the assignment (a folder under the source directory)")
    parser.add_argument("--student", action="append", help="only this student (repeatable)")
    parser.add_argument("--root", default=".", help="the course folder (default: the current folder)")
    parser.add_argument("--force", action="store_true", help="explain every notebook again")
    return parser
