"""The loop inspector: run a learner's function under global torch hooks and name the bugs.

    recorder.py  the hooks, which write a Trace (trace.py) of forwards, losses, backwards, steps
    sandbox.py   time limit, captured output, torch's global state checked and restored
    run.py       one exercise run: fixtures → recorded run → diagnoses → Report (report.py)
    order.py, accumulation.py, modes.py, kept_graphs.py, values.py, numbers.py, errors.py
                 the checks, one concern per file, each reading the Trace
"""
