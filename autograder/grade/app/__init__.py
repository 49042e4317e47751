"""The grading command and its pipeline, in the grading parent (it imports no torch).

    grade_app.py       `python -m autograder grade`: nbgrader's AutogradeApp, with the
                       isolated steps, `--jobs` and `--scheduler`
    converter.py       nbgrader's Autograde converter, telling the session what it does
    session.py         runs the jobs nbgrader is about to ask for on the back-end
    ahead.py           predicts those jobs with nbgrader's own steps
    summary.py         the table printed at the end (and the progress bar)
    after_nbgrader.py  `python -m autograder feedback`: outcomes after plain `nbgrader autograde`
"""
