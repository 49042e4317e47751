"""The table printed at the end of a batch: one row per student, the score and why."""
from autograder.grade.outcome import SubmissionOutcome


def summary_table(outcomes: list[SubmissionOutcome]) -> str:
    rows = [("student", "score", "seconds", "reasons")]
    for outcome in outcomes:
        rows.append((outcome.student, f"{outcome.score:g}/{outcome.max_score:g}", f"{outcome.seconds:.1f}",
                     _reasons(outcome)))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for number, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths)) + "  " + row[3])
        if number == 0:
            lines.append("-" * (sum(widths) + 6 + 40))
    return "\n".join(lines)


def _reasons(outcome: SubmissionOutcome) -> str:
    """Notes first, then each root cause once (with the tests it cost), then each other
    test cell that lost points, shortened to stay on one line."""
    parts = [note.rstrip(".") for note in outcome.notes]
    by_cause: dict[str, list[str]] = {}
    for cell in outcome.cells:
        if cell.points < cell.max_points and cell.cause and cell.cause.get("kind") != "tampering":
            by_cause.setdefault(cell.cause["text"], []).append(cell.grade_id)
    parts += [f"{text} ({', '.join(tests)})" for text, tests in by_cause.items() if text.rstrip(".") not in parts]
    parts += [f"{cell.grade_id}: {cell.reason}" for cell in outcome.cells if cell.points < cell.max_points
              and not (cell.cause and cell.cause.get("kind") != "tampering") and cell.reason not in parts]
    text = "; ".join(parts) or "all tests passed"
    return text if len(text) <= 200 else text[:197] + "..."
