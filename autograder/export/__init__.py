"""Grades out of nbgrader's gradebook, through nbgrader's own exporter plugins.

    nbgrader export --exporter=autograder.export.canvas.CanvasExport --to canvas.csv
    nbgrader export --exporter=autograder.export.plain.PlainExport --to grades.csv

Both read the gradebook `python -m autograder grade` (or `nbgrader autograde`)
filled; `--assignment` and `--student` narrow them as for nbgrader's own CSV.
grades.py collects the rows both write.
"""
