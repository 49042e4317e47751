"""What graders hand out after a batch: one feedback page per student, the class and course reports.

- feedback_page.py: each student's points, root causes, diagnoses and loss curve per
  exercise. nbgrader's own `generate_feedback` renders the autograded notebook,
  hidden test cells and their tracebacks included; these pages are built from the
  grader's outcome records instead (autograder/record/outcome.py), so there is no
  hidden cell to leak (the grader already withheld any text quoting a hidden line).
- class_report.py: per assignment: scores, pass rates, diagnoses and who got them,
  crashes and timeouts apart; CSVs for a mail merge.
- course_report.py: every graded assignment on one page.
- publish.py: all of it, after a grading run.

Reports read only the records (and nbgrader's CourseDirectory for the folders): they
import nothing of grading, and grading imports nothing of them.
HTML comes from the jinja2 templates in autograder/templates/ (autoescaped).
"""
