"""`python -m autograder feedback ASSIGNMENT`: feedback pages and the reports, after grading.

For an instructor who graded with nbgrader's own `nbgrader autograde`: the autograded
notebooks hold every test cell's outputs, including the diagnoses the test cells
handed over as data (autograder.handoff), and the gradebook holds the scores. This
command explains each test cell from those (root causes included), saves the
outcome records, writes each student's feedback page and the class and course
reports, exactly as `python -m autograder grade` does after its own run. A notebook
that `python -m autograder grade` explained already (its `.grading.json` is newer)
is taken as it is.
"""
import argparse
import json
import sys

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from autograder.grade import prepare, score
from autograder.grade.course import Course
from autograder.grade.outcome import SubmissionOutcome
from autograder.report.class_report import write_class_report
from autograder.report.feedback_page import write_feedback


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        course = Course.load(args.root)
        info = prepare.read_assignment(course, args.assignment)
    except prepare.AssignmentMissing as error:
        print(error, file=sys.stderr)
        return 2
    except Exception as error:
        print(f"Could not read the course's nbgrader_config.py: {error}", file=sys.stderr)
        return 2
    root = course.root / course.coursedir.autograded_directory
    written = 0
    for path in sorted(root.glob(f"*/{args.assignment}/*.ipynb")):
        student, notebook = path.parent.parent.name, path.stem
        if notebook not in info.notebooks or (args.student and student not in args.student):
            continue
        outcome = explained(course, info, student, notebook, path, args.force)
        if outcome is not None:
            write_feedback(course, outcome)
            written += 1
    if not written:
        print(f"No autograded notebooks of '{args.assignment}' under {root}/.", file=sys.stderr)
        return 1
    report = write_class_report(course, args.assignment)
    print(f"Wrote {written} feedback page(s) and {report.relative_to(course.root)}.")
    return 0


def explained(course: Course, info, student: str, notebook: str, path, force: bool) -> SubmissionOutcome | None:
    record = path.with_name(f"{notebook}.grading.json")
    if not force and record.is_file() and record.stat().st_mtime >= path.stat().st_mtime:
        return SubmissionOutcome.from_dict(json.loads(record.read_text()))
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as error:
        print(f"Skipped {path}: {error}", file=sys.stderr)
        return None
    with Gradebook(course.db_url, course.coursedir.course_id) as gb:
        try:
            found = gb.find_submission_notebook(notebook, info.name, student)
        except MissingEntry:
            return None
        grades = {grade.name: (grade.score, bool(grade.needs_manual_grade)) for grade in found.grades}
    cells = score.explain_notebook(nb, info.notebooks[notebook], grades, info.hidden_lines, {}, None,
                                   course.limits.as_dict())
    outcome = SubmissionOutcome(student, info.name, notebook, cells=cells)
    record.write_text(json.dumps(outcome.to_dict(), indent=1))
    return outcome


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder feedback", description=__doc__.splitlines()[0])
    parser.add_argument("assignment", help="the assignment (a folder under the source directory)")
    parser.add_argument("--student", action="append", help="only this student (repeatable)")
    parser.add_argument("--root", default=".", help="the course folder (default: the current folder)")
    parser.add_argument("--force", action="store_true", help="explain every notebook again")
    return parser
