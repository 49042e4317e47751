"""What the gradebook says about an assignment's graded cells, for the reasons.

nbgrader keeps every graded cell's source (hidden tests included) in the gradebook when
it generates the assignment; the grader reads it from there to name each test's
exercise, to know which lines of a test are hidden (so no text shown to a student
quotes one), and to tell a test cell the learner edited or deleted.
"""
import re
from dataclasses import dataclass

import nbformat
from nbgrader.api import Gradebook, MissingEntry

HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.S)
EXERCISE_CALL = re.compile(r"\b(?:assert_passes|inspect|check)\(\s*[\"']([\w\-]+)[\"']")


class AssignmentMissing(Exception):
    """The assignment is not in the gradebook: `nbgrader generate_assignment` was not run."""


@dataclass(frozen=True)
class GradedCell:
    grade_id: str
    max_points: float
    source: str
    exercise: str  # the exercise its test calls, else the answer cell before it
    hidden_lines: tuple[str, ...]
    task: bool = False  # a task cell: graded by hand, never run
    solution: bool = False  # an answer cell that is also graded (by hand or by its output)

    @property
    def hidden(self) -> bool:
        return bool(self.hidden_lines)

    @property
    def visible_source(self) -> str:
        return HIDDEN_BLOCK.sub("", self.source)


@dataclass(frozen=True)
class NotebookCells:
    name: str
    graded: dict[str, GradedCell]  # in notebook order


@dataclass(frozen=True)
class Assignment:
    name: str
    notebooks: dict[str, NotebookCells]

    @property
    def hidden_lines(self) -> set[str]:
        """Every line of every hidden test, for withholding anything that quotes one."""
        return {line for nb in self.notebooks.values() for cell in nb.graded.values() for line in cell.hidden_lines}


def read_assignment(db_url: str, assignment: str, source_folder: str | None = None) -> Assignment:
    """The graded cells of each notebook, from the gradebook (hidden tests included); the
    source notebooks, when at hand, give the cells' order."""
    with Gradebook(db_url) as gb:
        try:
            record = gb.find_assignment(assignment)
        except MissingEntry:
            raise AssignmentMissing(
                f"Assignment '{assignment}' is not in the gradebook. "
                f"Run `nbgrader generate_assignment {assignment}` first.") from None
        notebooks = {}
        for notebook in record.notebooks:
            sources = {cell.name: cell for cell in notebook.source_cells}
            solutions = [cell.name for cell in notebook.solution_cells]
            graded = {cell.name: (cell, False) for cell in notebook.grade_cells}
            graded |= {cell.name: (cell, True) for cell in notebook.task_cells}
            order = _cell_order(source_folder, notebook.name) or list(sources)
            order += [name for name in graded if name not in order]
            cells, last_solution = {}, None
            for name in order:
                if name in solutions:
                    last_solution = name
                if name not in graded:
                    continue
                grade, task = graded[name]
                source = sources[name].source if name in sources else ""
                called = EXERCISE_CALL.search(source)
                exercise = called.group(1) if called else (last_solution or name)
                cells[name] = GradedCell(name, float(grade.max_score), source, exercise, _hidden_lines(source),
                                         task=task, solution=name in solutions)
            notebooks[notebook.name] = NotebookCells(notebook.name, cells)
    return Assignment(assignment, notebooks)


def _cell_order(source_folder: str | None, notebook: str) -> list[str]:
    if not source_folder:
        return []
    try:
        nb = nbformat.read(f"{source_folder}/{notebook}.ipynb", as_version=4)
    except Exception:
        return []
    return [cell.metadata["nbgrader"]["grade_id"] for cell in nb.cells
            if cell.metadata.get("nbgrader", {}).get("grade_id")]


def _hidden_lines(source: str) -> tuple[str, ...]:
    lines = []
    for block in HIDDEN_BLOCK.findall(source):
        lines += [line.strip() for line in block.splitlines()[1:-1] if len(line.strip()) >= 4]
    return tuple(lines)
