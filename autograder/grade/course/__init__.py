"""The course as nbgrader configures it, read in the grading parent: the grader's limits
(settings.py), the folders a submission must not see (folders.py), and what the
gradebook says about an assignment's graded cells (assignment.py)."""
