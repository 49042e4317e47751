"""One row per (student, assignment) from nbgrader's gradebook: what both exporters write."""
from dataclasses import dataclass

from nbgrader.api import Gradebook, MissingEntry


@dataclass
class Grade:
    assignment: str
    student_id: str
    first_name: str
    last_name: str
    email: str
    lms_user_id: str
    submitted: bool
    timestamp: str
    raw_score: float
    late_penalty: float
    max_score: float

    @property
    def score(self) -> float:
        return max(0.0, self.raw_score - self.late_penalty)


def grades(gradebook: Gradebook, assignments: list[str], students: list[str]) -> list[Grade]:
    """Every student of every assignment (both filtered when the lists are not empty); a
    student who submitted nothing gets 0, as in nbgrader's own CSV."""
    rows = []
    for assignment in gradebook.assignments:
        if assignments and assignment.name not in assignments:
            continue
        for student in gradebook.students:
            if students and student.id not in students:
                continue
            try:
                submission = gradebook.find_submission(assignment.name, student.id)
            except MissingEntry:
                submission = None
            rows.append(Grade(
                assignment.name, student.id, student.first_name or "", student.last_name or "",
                student.email or "", str(getattr(student, "lms_user_id", None) or ""), submission is not None,
                str(submission.timestamp or "") if submission is not None else "",
                float(submission.score or 0.0) if submission is not None else 0.0,
                float(submission.late_submission_penalty or 0.0) if submission is not None else 0.0,
                float(assignment.max_score or 0.0)))
    return rows


def number(value: float) -> str:
    """2, 2.5, 0.33: no trailing zeros, at most two decimals."""
    return f"{round(value, 2):g}"
