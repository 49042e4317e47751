"""How a failing test cell hands its Report to the grader: as data, in the cell's outputs.

A test cell's AssertionError carries words for the learner; the grader needs the
diagnoses themselves (code, message, fix, section, the learner's line, the loss
curves) for the gradebook, the feedback page and the class report. So when
`assert_passes` fails while nbgrader or `python -m autograder grade` runs the
notebook (both set NBGRADER_EXECUTION=autograde), it also publishes one
`display_data` output holding `report.to_dict()` under its own JSON mimetype. The
grader reads it back from the executed cell (`reports_in`): no text is parsed.

Outside grading nothing is published, so no front end ever has to render the
mimetype. The exception keeps the Report too (`error.report`), for code that
catches it.
"""
import os

MIMETYPE = "application/vnd.training-loop-course.report+json"
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


def reports_in(outputs: list) -> list[dict]:
    """The Report data a cell published, in order (malformed entries are skipped)."""
    found = []
    for output in outputs:
        if output.get("output_type") != "display_data":
            continue
        data = (output.get("data") or {}).get(MIMETYPE)
        if isinstance(data, dict) and isinstance(data.get("diagnoses"), list) and "exercise" in data:
            found.append(data)
    return found
