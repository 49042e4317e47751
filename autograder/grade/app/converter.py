"""nbgrader's Autograde converter, as the grading command runs it.

It grades exactly as nbgrader's does (it is nbgrader's: every step is inherited); it
only tells the grading session (session.py) what it does: which notebooks it is
about to grade (the plan the session runs ahead of it), which submission or notebook
nbgrader could not grade and why, and which notebooks were never submitted (nbgrader
scores them 0). Its isolated step finds the session through it (steps/runs.py).
"""
import os

from nbgrader.converters import Autograde
from traitlets import Any

from autograder.grade.app.ahead import Ahead
from autograder.grade.course.assignment import read_assignment
from autograder.grade.course.folders import folder
from autograder.grade.reasons.explain import explain_missing
from autograder.grade.steps.explain_scores import save
from autograder.record.outcome import SubmissionOutcome


class ClassAutograde(Autograde):
    grading_session = Any(None, allow_none=True, help="The grading command's session (not configurable).")

    def __init__(self, *args, ahead_settings=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.ahead_settings, self._current, self._cells = ahead_settings, ("", ""), {}

    def convert_notebooks(self) -> None:
        if self.grading_session is not None and self.ahead_settings is not None:
            self.grading_session.plan(Ahead(self, *self.ahead_settings))
        super().convert_notebooks()

    def init_destination(self, assignment_id: str, student_id: str) -> bool:
        self._current = (assignment_id, student_id)
        with self._telling(None):
            return super().init_destination(assignment_id, student_id)

    def init_assignment(self, assignment_id: str, student_id: str) -> None:
        with self._telling(None, lambda: self._none_by_name(assignment_id, student_id)):
            super().init_assignment(assignment_id, student_id)
        self._missing_notebooks(assignment_id, student_id)

    def _none_by_name(self, assignment_id: str, student_id: str) -> str | None:
        """Why nbgrader will find "No notebooks" in a submission, when it will: none of its
        notebooks has the name of one of the assignment's."""
        try:
            present, cells = self._submitted(assignment_id, student_id), self._graded_cells(assignment_id)
        except Exception:  # no such assignment, say: nbgrader's own words say it
            return None
        if not present or present & set(cells.notebooks):
            return None
        found = ", ".join(f"`{name}.ipynb`" for name in sorted(present))
        expected = ", ".join(f"`{name}.ipynb`" for name in cells.notebooks)
        return (f"no notebook of the assignment was submitted under its name (found: {found}; expected: "
                f"{expected}); nbgrader grades notebooks by their names: rename it and grade again")

    def _submitted(self, assignment_id: str, student_id: str) -> set[str]:
        submitted = folder(self.coursedir, "submitted", student_id, assignment_id)
        return {os.path.splitext(name)[0] for name in os.listdir(submitted) if name.endswith(".ipynb")}

    def _graded_cells(self, assignment_id: str):
        if assignment_id not in self._cells:
            self._cells[assignment_id] = read_assignment(self.coursedir.db_url, assignment_id,
                                                         folder(self.coursedir, "source", ".", assignment_id))
        return self._cells[assignment_id]

    def convert_single_notebook(self, notebook_filename: str) -> None:
        with self._telling(os.path.splitext(os.path.basename(notebook_filename))[0]):
            super().convert_single_notebook(notebook_filename)

    def _telling(self, notebook: str | None, words=None):
        return _Told(self.grading_session, *self._current, notebook, words)

    def _missing_notebooks(self, assignment_id: str, student_id: str) -> None:
        """Each notebook of the assignment not submitted under its name (nbgrader has just
        scored it 0): an outcome saying so, naming what was submitted instead."""
        if self.grading_session is None:
            return
        present, cells = self._submitted(assignment_id, student_id), self._graded_cells(assignment_id)
        strays = sorted(f"{name}.ipynb" for name in present - set(cells.notebooks))
        dest = folder(self.coursedir, "autograded", student_id, assignment_id)
        for name, notebook in cells.notebooks.items():
            if name in present:
                continue
            outcome = SubmissionOutcome(student_id, assignment_id, name, cells=explain_missing(notebook, strays))
            os.makedirs(dest, exist_ok=True)
            save(outcome, dest)
            self.grading_session.missing(outcome)


class _Told:
    """Tells the session when nbgrader's step fails, then lets nbgrader handle it as it does."""

    def __init__(self, session, assignment: str, student: str, notebook: str | None, words):
        """`words()`, if given, says why nbgrader failed better than its exception does."""
        self.session, self.where, self.words = session, (student, assignment, notebook or ""), words

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        if error is not None and self.session is not None and not isinstance(error, KeyboardInterrupt):
            self.session.failed(*self.where, (self.words and self.words()) or nbgraders_words(error))
        return False


def nbgraders_words(error: BaseException) -> str:
    """Why nbgrader could not grade a submission or a notebook, in plain words."""
    name = type(error).__name__
    if name in ("NotJSONError", "JSONDecodeError") or "JSON" in name:
        return "nbgrader could not read the notebook file (it is not valid JSON: truncated or damaged)"
    if name == "NoSuchKernel":
        return f"the notebook's kernel is not installed here ({error}); nbgrader does not grade it"
    if isinstance(error, SystemExit):
        return "nbgrader stopped (see its log above)"
    text = " ".join(str(error).split())
    return f"nbgrader could not grade it ({name}: {text[:200]})" if text else f"nbgrader could not grade it ({name})"
