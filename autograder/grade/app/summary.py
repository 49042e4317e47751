"""What the grading command prints at the end: one row per notebook graded, the score and why."""
from autograder.record.outcome import SubmissionOutcome
from autograder.record.run import StopKind


def summary_table(outcomes: list[SubmissionOutcome], failures: list[tuple[str, str, str, str]]) -> str:
    rows = [("student", "score", "seconds", "reasons")]
    for outcome in sorted(outcomes, key=lambda o: (o.student, o.notebook)):
        name = outcome.student + (f" ({outcome.notebook})" if len({o.notebook for o in outcomes}) > 1 else "")
        rows.append((name, f"{outcome.score:g}/{outcome.max_score:g}", f"{outcome.seconds:.1f}", _reasons(outcome)))
    for student, _, notebook, why in failures:
        rows.append((student + (f" ({notebook})" if notebook else ""), "-", "-", f"not graded: {why}"))
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
    lost = [cell for cell in outcome.cells if cell.points < cell.max_points or cell.needs_manual_grade]
    for cell in lost:
        if cell.cause is not None and cell.cause.kind is not StopKind.TAMPERING:
            by_cause.setdefault(cell.cause.text, []).append(cell.grade_id)
    parts += [f"{text} ({', '.join(tests)})" for text, tests in by_cause.items() if text.rstrip(".") not in parts]
    parts += [f"{cell.grade_id}: {cell.reason}" for cell in lost
              if not (cell.cause is not None and cell.cause.kind is not StopKind.TAMPERING) and cell.reason not in parts]
    text = "; ".join(parts) or "all tests passed"
    return text if len(text) <= 200 else text[:197] + "..."


class ProgressBar:
    """A tqdm bar, told once per graded notebook by the grading session."""

    def __init__(self):
        import sys

        from tqdm import tqdm
        self.bar = tqdm(desc="grading", unit="notebook", file=sys.stderr)

    def set_total(self, total: int) -> None:
        self.bar.total = total
        self.bar.refresh()

    def __call__(self, student: str) -> None:
        self.bar.set_postfix_str(student, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
