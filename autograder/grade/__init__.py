"""Instructor grading: nbgrader's autograde, parallel, walled in, every lost point explained.

Each folder says which process its code runs in:

    course/     grading parent: the course as nbgrader configures it (the grader's
                limits as traits, the folders a submission must not see, the graded
                cells the gradebook holds)
    app/        grading parent: `python -m autograder grade` (nbgrader's AutogradeApp
                and Autograde converter, with a session that runs notebooks ahead of
                nbgrader on the back-end), the summary, and `feedback` after plain nbgrader
    steps/      grading parent: the nbgrader steps an instructor names in
                `nbgrader_config.py` (IsolatedExecute in place of Execute, ExplainScores
                last), so plain `nbgrader autograde` and formgrader grade the same way
    backends/   grading parent, and each Dask worker: where jobs run (warm local
                workers, or a Dask cluster)
    reasons/    grading parent: why each graded cell lost its points
    kernel/     the warm worker and the process it forks per submission: the only part
                that imports torch or IPython (walls, cell runner, tamper checks)

What travels between them is a record (autograder/record/): a `Job` to a worker, a
`Run` back, a `SubmissionOutcome` to the feedback pages and reports (autograder/report/),
which import nothing of grading. pyproject.toml's import-linter contracts keep it so.
"""
