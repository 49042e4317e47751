"""Where jobs run, seen from the grading parent (and, for a cluster, from a Dask worker).

A back-end is a *runner*: `submit(key, job)`, a `results` queue of `(key, Run)` pairs,
`capacity` (jobs it runs at once), `walls` (how its workers are walled in) and
`close()`. Both run every job the same way, on a warm worker (grade/kernel/worker.py)
that is restarted if it dies, the job then tried once more; a job that fails twice
still gets a Run, so grading always completes.

    local.py   this machine's cores: N warm workers sharing one warm-up
    dask.py    a Dask cluster: each job travels to a Dask worker as data and runs there
               on that machine's warm worker (local.run_here)
"""
