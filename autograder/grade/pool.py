"""Step 3: run jobs on N warm workers at once (the parent side of worker.py).

Where the jobs run is a small interface, a *runner*: `submit(key, job)`, a `results`
queue of `(key, result)` pairs, `walls` (how the workers are walled in) and
`close()`. Two runners exist: `Pool` here (this machine's cores) and
`cluster.DaskRunner` (a Dask cluster). Both run every job the same way, through
`answer()`: a warm worker process (worker.py) that is restarted if it dies, the
job then tried once more; a job that fails twice still gets an answer, so the
batch always completes.

In `Pool`, one thread per worker feeds it jobs from a shared queue and puts
answers on the results queue; the main thread alone touches the gradebook.
"""
import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Protocol

import autograder


# The only environment variables a submission inherits: nothing of the grader's own.
PASSED_ON = {"PATH", "HOME", "COURSE_PACKAGE", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "VIRTUAL_ENV", "CONDA_PREFIX", "AUTOGRADER_DEBUG",
             "AUTOGRADER_NO_NAMESPACES"}


class Worker:
    def __init__(self, cover: list[str], keep: list[str]):
        env = {name: value for name, value in os.environ.items() if name in PASSED_ON}
        env.update(MPLBACKEND="Agg", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   PYTHONPATH=os.pathsep.join([str(Path(autograder.__file__).resolve().parent.parent)]
                                              + [p for p in [os.environ.get("PYTHONPATH")] if p]),
                   PYTHONDONTWRITEBYTECODE="1")
        debug = os.environ.get("AUTOGRADER_DEBUG")
        self.process = subprocess.Popen(
            [os.path.abspath(sys.executable), "-m", "autograder.grade.worker"], cwd="/", env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None if debug else subprocess.DEVNULL)
        self._send({"cover": cover, "keep": keep})
        ready = self._receive()
        if not ready or not ready.get("ready"):
            raise RuntimeError("a grading worker failed to start")
        self.walls = ready.get("walls", "")

    def run(self, job: dict) -> dict | None:
        """The worker's answer, or None if the worker itself died."""
        try:
            self._send(job)
            return self._receive()
        except (BrokenPipeError, OSError, ValueError):
            return None

    def _send(self, message: dict) -> None:
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def _receive(self) -> dict | None:
        line = self.process.stdout.readline()
        return json.loads(line) if line else None

    def close(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=5)
        except Exception:
            self.process.kill()


def code_folders() -> list[str]:
    """What a submission may still see inside the course folder: the Python
    environment and the course's own code (public), nothing else."""
    import importlib.util
    keep = [sys.prefix, os.path.realpath(sys.prefix)]
    for name in ("autograder", "course_helpers", "course_helpers.data"):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec and spec.submodule_search_locations:
            keep += [os.path.realpath(p) for p in spec.submodule_search_locations]
            # course_helpers.datasets reads the shipped data sets from the checkout's data/
            # folder (next to the package) when it is not installed as a wheel
            keep += [os.path.realpath(os.path.join(p, os.pardir, "data")) for p in spec.submodule_search_locations
                     if name == "course_helpers" and os.path.isdir(os.path.join(p, os.pardir, "data"))]
    return sorted(set(keep))


class Runner(Protocol):
    """Where jobs run. `results.get()` gives `(key, result)` once per submitted job."""
    results: queue.Queue
    walls: str

    def submit(self, key, job: dict) -> None: ...

    def close(self) -> None: ...


def answer(job: dict, worker: "Worker | None", cover: list[str], keep: list[str]) -> tuple[dict, "Worker | None"]:
    """`job`'s result from `worker` (started first if None), and the worker to use next
    (None when it could not start or died twice)."""
    for _attempt in range(2):
        if worker is None:
            try:
                worker = Worker(cover, keep)
            except Exception as error:  # cannot start: answer anyway
                return failed(f"the grading worker could not start ({error})"), None
        result = worker.run(job)
        if result is not None:
            return result, worker
        worker.close()
        worker = None
    return failed("the grading worker died twice on this notebook"), None


_IDLE: dict[tuple, list[Worker]] = {}  # warm workers of this process, kept between calls of run_here
_IDLE_LOCK = threading.Lock()


def run_here(job: dict, cover: list[str]) -> dict:
    """Run one job on this machine with a warm worker kept for the next call: the
    remote side of cluster.DaskRunner (it runs inside a Dask worker process). The
    result says how the worker is walled in (`worker_walls`)."""
    keep = code_folders()
    kind = (tuple(cover), tuple(keep))
    with _IDLE_LOCK:
        idle = _IDLE.get(kind) or [None]
        worker = idle.pop()
    result, worker = answer(job, worker, cover, keep)
    if worker is not None:
        result["worker_walls"] = worker.walls
        with _IDLE_LOCK:
            _IDLE.setdefault(kind, []).append(worker)
    return result


class Pool:
    """The local runner: `size` warm workers on this machine."""

    def __init__(self, size: int, cover: list[str]):
        self.size, self.cover, self.keep = size, cover, code_folders()
        self.jobs: queue.Queue = queue.Queue()
        self.results: queue.Queue = queue.Queue()
        self.walls = ""
        self.threads = [threading.Thread(target=self._serve, daemon=True) for _ in range(size)]
        for thread in self.threads:
            thread.start()

    def submit(self, key, job: dict) -> None:
        self.jobs.put((key, job))

    def close(self) -> None:
        for _ in self.threads:
            self.jobs.put(None)

    def _serve(self) -> None:
        worker = None
        while True:
            task = self.jobs.get()
            if task is None:
                break
            key, job = task
            result, worker = answer(job, worker, self.cover, self.keep)
            if worker is not None:
                self.walls = worker.walls
            self.results.put((key, result))
        if worker is not None:
            worker.close()


def failed(reason: str) -> dict:
    return {"cells": {}, "stopped": {"cell": None, "reason": reason}, "walls": "", "seconds": 0.0}
