"""The loop inspector: run a learner's function under global torch hooks and name the bugs.

    recorder.py  the hooks, which write a Trace (trace.py) of forwards, losses, backwards, steps
    guard.py     time limit, captured output, torch's global state checked and restored
    batches.py   the batches handed out, found again wherever the learner moved them
    groups.py    the training part cut into step groups (the backward passes each step used)
    report.py    what a run found: diagnoses and the run's facts
    order.py, accumulation.py, modes.py, kept_graphs.py, values.py, numbers.py, updates.py,
    validation.py, errors.py
                 the checks, one concern per file, each reading the Trace

One exercise run (fixtures, recorded run, diagnoses, Report) is put together by
autograder/runner.py: the inspector knows no exercise.
"""
