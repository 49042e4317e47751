"""What graders hand out after a batch: one feedback page per student, the class and course reports.

- feedback_page.py: each student's points, root causes, diagnoses and loss curve per
  exercise. nbgrader's own `generate_feedback` renders the autograded notebook,
  hidden test cells and their tracebacks included; these pages are built from the
  grader's outcome records instead (autograder.grade.outcome), so there is no hidden
  cell to leak, and every text is checked for quoted hidden test lines.
- hidden_text.py: finds hidden test lines quoted in a text.
- class_report.py: per assignment: scores, pass rates, diagnoses and who got them,
  crashes and timeouts apart; CSVs for a mail merge.
- course_report.py: every graded assignment on one page.
HTML comes from the jinja2 templates in autograder/templates/ (autoescaped).
"""
