"""How a failing test cell hands its Report to the grader: as data, in the cell's outputs.

When `assert_passes` fails while nbgrader or `python -m autograder grade` runs the
notebook (both set NBGRADER_EXECUTION=autograde), the AssertionError it raises carries
words for the learner, and the Report itself is published first as one `display_data`
output under its own JSON mimetype (autograder/record/cell_report.py: the format, and
how the grader reads it back). Outside grading nothing is published, so no front end
ever has to render the mimetype. The exception keeps the Report too (`error.report`),
for code that catches it.
"""
import os

from autograder.record.cell_report import MIMETYPE

OUTPUT_KEPT = 2000  # characters of what the learner's function printed, kept in the data


def under_grader() -> bool:
    return os.environ.get("NBGRADER_EXECUTION") == "autograde"


def failure(report, failing: list, concern: str | None) -> AssertionError:
    """The AssertionError a failing test cell raises, with the Report attached; under
    the grader, the Report is published as data first."""
    from autograder.render import text_diagnoses

    error = AssertionError(text_diagnoses(failing))
    error.report = report
    if under_grader():
        publish(report, failing, concern)
    return error


def publish(report, failing: list, concern: str | None) -> None:
    try:
        from IPython.display import display
    except ImportError:
        return
    data = report.to_dict()
    data["output"] = data["output"][-OUTPUT_KEPT:]
    data["concern"] = concern
    data["failing"] = [d.code for d in failing]
    display({MIMETYPE: data}, raw=True)
