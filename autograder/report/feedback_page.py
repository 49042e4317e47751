"""One HTML page per student and notebook: per exercise, the points, what stopped the
tests, each diagnosis (what happened, the fix, the section that teaches it, the
learner's line), and the learner's loss curve against a correct loop's.

Built only from the outcome records (autograder/record/outcome.py), whose text was
already checked for hidden test lines; the page comes from a jinja2 template with
autoescaping (templates/feedback.html.j2), diagnoses through the one renderer
(autograder.render). Written to nbgrader's feedback folder as `<notebook>.html`, so
`nbgrader release_feedback` hands it out (run it instead of `nbgrader
generate_feedback`, which would show the hidden tests).
"""
import base64
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.coursedir import CourseDirectory

from autograder.diagnoses import Diagnosis
from autograder.record.outcome import CellOutcome, SubmissionOutcome
from autograder.record.run import StopKind
from autograder.render import page


@dataclass
class ExerciseFeedback:
    name: str
    cells: list[CellOutcome] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)
    plot: str = ""  # base64 PNG, empty when no curve was recorded

    @property
    def points(self) -> float:
        return sum(cell.points for cell in self.cells)

    @property
    def max_points(self) -> float:
        return sum(cell.max_points for cell in self.cells)


def exercises(outcome: SubmissionOutcome) -> list[ExerciseFeedback]:
    """The outcome's test cells grouped by exercise, in notebook order; each diagnosis
    and each cause shown once per exercise however many tests reported it."""
    grouped: dict[str, ExerciseFeedback] = {}
    for cell in outcome.cells:
        exercise = grouped.setdefault(cell.exercise, ExerciseFeedback(cell.exercise))
        exercise.cells.append(cell)
        for data in cell.diagnoses:
            d = Diagnosis.from_dict(data)
            if d.code not in [seen.code for seen in exercise.diagnoses]:
                exercise.diagnoses.append(d)
        text = cell.cause.text if cell.cause is not None else ""
        if text and cell.cause.kind is not StopKind.TAMPERING and text not in exercise.causes:
            exercise.causes.append(text)
        if not exercise.plot and cell.curve:
            exercise.plot = base64.b64encode(curve_plot(cell.curve, cell.reference_curve)).decode()
    return list(grouped.values())


def curve_plot(curve: list[float], reference: list[float]) -> bytes:
    """PNG: the learner's losses and a correct loop's, step by step."""
    from course_helpers.plotting import new_figure, png_bytes

    figure, (axes,) = new_figure(6.5, 2.8)
    shown = lambda values: [v if math.isfinite(v) else float("nan") for v in values]  # noqa: E731
    if reference:
        axes.plot(range(1, len(reference) + 1), shown(reference), color="#1b7a2e", marker=".",
                  label="a correct loop")
    axes.plot(range(1, len(curve) + 1), shown(curve), color="#b35900", marker=".", label="your loop")
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.set_title("Loss on the grading data")
    axes.legend()
    return png_bytes(figure)


def render(outcome: SubmissionOutcome) -> str:
    return page("feedback.html.j2", outcome=outcome, exercises=exercises(outcome))


def write_feedback(coursedir: CourseDirectory, outcome: SubmissionOutcome) -> Path:
    folder = Path(coursedir.format_path(coursedir.feedback_directory, outcome.student, outcome.assignment))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{outcome.notebook or outcome.assignment}.html"
    path.write_text(render(outcome), encoding="utf-8")
    stamp = Path(coursedir.format_path(coursedir.autograded_directory, outcome.student, outcome.assignment)) / "timestamp.txt"
    if stamp.is_file():  # `nbgrader release_feedback` reads it next to the page
        shutil.copy(stamp, folder / "timestamp.txt")
    return path
