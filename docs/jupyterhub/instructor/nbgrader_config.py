"""The instructor's nbgrader: ~instructor/.jupyter/nbgrader_config.py.

Formgrader works on the course folder named here: a clone of this repository, whose own
nbgrader_config.py (source/, notebooks/, the shared exchange) applies from there.
"""
c = get_config()  # noqa: F821 (nbgrader provides get_config)

c.CourseDirectory.root = "/home/instructor/training-loop"
