"""What graders hand out after a batch: one feedback page per student, one class report.

- feedback_page.py: each student's scores, reasons and diagnoses in plain words.
  nbgrader's own `generate_feedback` renders the autograded notebook, hidden test
  cells and their tracebacks included; these pages are built from the grader's
  outcome records instead (autograder.grade.outcome), so there is no hidden cell
  to leak, and even diagnosis text is checked for quoted hidden test lines.
- diagnoses.py: reads `[code]` paragraphs out of a failing test's message.
- class_report.py: how often each diagnosis was made, per exercise, across a class.
"""
