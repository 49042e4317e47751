"""Step 1: find every submission of an assignment (`submitted/<student>/<assignment>/`)."""
from dataclasses import dataclass
from pathlib import Path

from autograder.grade.course import Course


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str
    folder: Path


def collect(course: Course, assignment: str, students: list[str] | None = None) -> list[Submission]:
    """Submissions sorted by student id; hidden folders (`.ipynb_checkpoints`) are skipped."""
    submitted = course.root / course.coursedir.submitted_directory
    found = []
    if not submitted.is_dir():
        return found
    for student_folder in sorted(submitted.iterdir()):
        student = student_folder.name
        if student.startswith(".") or not student_folder.is_dir():
            continue
        if students and student not in students:
            continue
        folder = course.folder("submitted", student, assignment)
        if folder.is_dir():
            found.append(Submission(student, assignment, folder))
    return found
