"""The kernel side: code that runs in the warm grading worker and in the process it forks
for each submission. The only part of grading that imports torch or IPython.

    worker.py      `python -m autograder.grade.kernel.worker FD...`: warm up once (torch,
                   the IPython shell, the integrity snapshot), then serve jobs from the
                   grading parent over a multiprocessing connection, forking copies of
                   itself so a pool pays the warm-up once
    supervise.py   one job: fork the process that runs it, watch its time, resume after a
                   cell that killed it, hand back the `record.run.Run`
    child.py       inside that fork: enter the walls (sandbox.py), lay out the working
                   folder (work_folder.py), run the cells (executor.py)
    integrity.py   did learner code replace what the grader or torch relies on?
                   (torch's hook tables: hook_guard.py)
"""
