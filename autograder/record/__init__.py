"""What travels between the grading processes, as data: one typed record per hand-over.

    run.py          the parent hands a worker a `Job` (the cells to run, the files of the
                    working folder, the limits); the worker hands back a `Run` (one
                    `CellRecord` per cell that ran, the `Stop` that ended the run early,
                    with its `StopKind`)
    cell_report.py  a failing test cell hands the grader its Report as data, in one of
                    the cell's outputs (autograder.handoff publishes it)
    outcome.py      the grader's verdict for one notebook (`SubmissionOutcome`: a
                    `CellOutcome` per graded cell, each with its `Cause`), which the
                    gradebook comments, the summary table, the feedback pages and the
                    class report are all drawn from

Nothing here imports torch, IPython or nbgrader: every process reads these records,
the walled-in worker included.
"""
