"""Instructor grading: a whole class graded in parallel and in isolation, on top of nbgrader.

`python -m autograder grade ASSIGNMENT --jobs N` (see cli.py) is a pipeline of
small steps, each in its own file:

    collect.py    find submitted/<student>/<assignment>/
    prepare.py    parent only: record the submission, read the notebook (renamed or
                  corrupt ones included), run nbgrader's sanitizing steps, which put
                  every test cell back from the gradebook
    pool.py       N warm workers (worker.py: one process warmed up, started before the
                  course is read, and N - 1 forked copies) run the jobs in parallel; each submission
                  runs in a fork walled in by sandbox.py and executed by executor.py,
                  checked for tampering by integrity.py (torch's hook tables: hook_guard.py)
    pipeline.py   the order of the steps; a run that died is resumed after its crash
    score.py      parent only: nbgrader's own autograde steps score the outputs into
                  the gradebook, then every test cell gets a reason (outcome.py): the
                  diagnoses its test cell handed over as data (autograder.handoff), or
                  the root cause that stopped it (causes.py)
    summary.py    the table printed at the end

Feedback pages and the class and course reports are in autograder.report; grades go
out through nbgrader's exporter plugins in autograder.export.
"""
