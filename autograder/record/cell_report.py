"""A failing test cell's Report, handed to the grader as data in one of the cell's outputs.

The test cell's AssertionError carries words for the learner; the grader needs the
diagnoses themselves (code, message, fix, section, the learner's line, the loss curves).
So under the grader `autograder.handoff` also publishes `report.to_dict()` as one
`display_data` output under MIMETYPE, and the grader reads it back from the executed
cell's outputs: no text is parsed. This module is the format and its reader; the
publishing side runs in the learner's kernel (autograder/handoff.py).
"""
MIMETYPE = "application/vnd.training-loop-course.report+json"


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
