"""Why each graded cell lost its points, decided in the grading parent.

    causes.py       root causes from the run's record: which cell stopped the notebook,
                    how (`record.run.StopKind`), and which tests it cost
    explain.py      a `record.outcome.CellOutcome` per graded cell: nbgrader's score and
                    flag, and the reason (the diagnoses its test cell handed over as data,
                    or the root cause)
    derived.py      the record of a run nbgrader's own execution step made (plain
                    `nbgrader autograde`), read from the executed notebook
    hidden_text.py  no text shown to a student quotes a hidden test
"""
