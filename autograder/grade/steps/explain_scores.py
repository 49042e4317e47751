"""The last autograde step: a reason for every graded cell, once nbgrader has saved the scores.

It runs after nbgrader's SaveAutoGrades (and AssignLatePenalties), so the points and
manual-grading flags it reports are read back from the gradebook where nbgrader's own
steps put them; it changes neither the gradebook nor the notebook. The reasons come
from the run's record (resources["autograder"], left by isolated_execute.py; after
nbgrader's own Execute, read from the executed notebook: reasons/derived.py) and from
the test cells the learner edited or deleted (compared with the gradebook's source).
The outcome is saved as `<notebook>.grading.json` beside the autograded notebook, where
feedback pages and class reports read it, and handed to the grading session, if any.

A failure here never costs a grade: nbgrader has saved it already, so it is logged
and the notebook is left as nbgrader made it.
"""
import json
import os

import nbformat
from nbgrader.api import Gradebook
from nbgrader.preprocessors import Execute, NbGraderPreprocessor, OverwriteCells

from autograder.grade.course.assignment import HIDDEN_BLOCK, NotebookCells, read_assignment
from autograder.grade.course.folders import folder
from autograder.grade.reasons import derived
from autograder.grade.reasons.explain import explain_notebook
from autograder.grade.steps.runs import converter_of, session_of
from autograder.record.outcome import SubmissionOutcome


class ExplainScores(NbGraderPreprocessor):

    def preprocess(self, nb, resources):
        try:
            outcome = self.explain(nb, resources)
        except Exception:
            self.log.exception("The grader could not explain the scores of %s (they are saved)",
                               resources.get("nbgrader", {}).get("notebook"))
            return nb, resources
        where = resources.get("metadata", {}).get("path") or "."
        save(outcome, where)
        session_of(self).graded(outcome)
        return nb, resources

    def explain(self, nb, resources) -> SubmissionOutcome:
        ids = resources["nbgrader"]
        coursedir = getattr(converter_of(self), "coursedir", None)
        source = folder(coursedir, "source", ".", ids["assignment"]) if coursedir is not None else None
        assignment = read_assignment(ids["db_url"], ids["assignment"], source)
        cells = assignment.notebooks[ids["notebook"]]
        run = resources.get("autograder", {}).get("run") or derived.run_of(nb, Execute(parent=self).timeout)
        submitted = None if coursedir is None else os.path.join(
            folder(coursedir, "submitted", ids["student"], ids["assignment"]), f"{ids['notebook']}.ipynb")
        notes = changed_test_cells(submitted, cells, OverwriteCells(parent=self).add_missing_cells)
        outcome = SubmissionOutcome(ids["student"], ids["assignment"], ids["notebook"], run=run.summary())
        outcome.cells = explain_notebook(nb, cells, grades(ids), assignment.hidden_lines, notes, run)
        return outcome


def grades(ids: dict) -> dict[str, tuple[float | None, bool]]:
    """What nbgrader recorded for each graded cell: (score, needs manual grading)."""
    with Gradebook(ids["db_url"]) as gb:
        notebook = gb.find_submission_notebook(ids["notebook"], ids["assignment"], ids["student"])
        return {grade.name: (grade.score, bool(grade.needs_manual_grade)) for grade in notebook.grades}


def changed_test_cells(submitted: str | None, cells: NotebookCells, put_back: bool) -> dict[str, str]:
    """grade_id -> a note, for each test cell the learner deleted or edited (nbgrader put
    the original back and ran it; a deleted one only when `add_missing_cells` says so)."""
    try:
        nb = nbformat.read(submitted, as_version=4) if submitted else None
    except Exception:
        nb = None
    if nb is None:
        return {}
    found = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in nb.cells
             if isinstance(cell.get("metadata"), dict) and "nbgrader" in cell.metadata}
    notes = {}
    for grade_id, graded in cells.graded.items():
        cell = found.get(grade_id)
        if cell is None:
            notes[grade_id] = ("this test cell was deleted from the notebook; the original was put back and run"
                               if put_back else "this cell was deleted from the notebook; "
                               "it is left for manual grading, as nbgrader does")
        elif not graded.task and not graded.solution and _lines(cell.source) != _lines(graded.visible_source):
            notes[grade_id] = "this test cell had been edited; the original was put back and run"
    return notes


def _lines(source: str) -> list[str]:
    return [line.rstrip() for line in HIDDEN_BLOCK.sub("", source).splitlines() if line.strip()]


def save(outcome: SubmissionOutcome, where: str) -> str:
    path = os.path.join(where, f"{outcome.notebook}.grading.json")
    if os.path.lexists(path):  # an earlier run's, read-only as nbgrader leaves its files
        os.remove(path)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(outcome.to_dict(), handle, indent=1)
    return path
