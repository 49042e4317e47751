"""After grading: each outcome's feedback page, then each assignment's class report (and the course's)."""
from nbgrader.coursedir import CourseDirectory

from autograder.record.outcome import SubmissionOutcome
from autograder.report.class_report import write_class_report
from autograder.report.feedback_page import write_feedback


def publish(coursedir: CourseDirectory, outcomes: list[SubmissionOutcome]) -> str:
    """Writes the pages; returns where they are, in one line."""
    for outcome in outcomes:
        write_feedback(coursedir, outcome)
    reports = [write_class_report(coursedir, assignment) for assignment in sorted({o.assignment for o in outcomes})]
    shown = ", ".join(str(path.relative_to(coursedir.root)) if path.is_relative_to(coursedir.root) else str(path)
                      for path in reports)
    return (f"Feedback: {coursedir.feedback_directory}/<student>/<assignment>/ "
            f"(hand it out with nbgrader release_feedback)   Class report: {shown}")
