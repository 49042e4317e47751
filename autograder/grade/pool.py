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
    """One warm worker (worker.py): a process of its own, or a clone that such a process
    forked once warm (`process` is None then). Either way, two pipes: jobs in, results out."""

    def __init__(self, jobs, results, process: subprocess.Popen | None = None):
        self.jobs, self.results, self.process = jobs, results, process
        self.walls = ""

    @classmethod
    def start(cls, cover: list[str], keep: list[str], clones: int = 0) -> list["Worker"]:
        """A new worker process and `clones` copies of it, all warm: the warm-up is paid once."""
        return Launch(clones).workers(cover, keep, clones + 1)

    def run(self, job: dict) -> dict | None:
        """The worker's answer, or None if the worker itself died."""
        try:
            self._send(job)
            return self._receive()
        except (BrokenPipeError, OSError, ValueError):
            return None

    def _send(self, message: dict) -> None:
        self.jobs.write(json.dumps(message) + "\n")
        self.jobs.flush()

    def _receive(self) -> dict | None:
        line = self.results.readline()
        return json.loads(line) if line else None

    def close(self) -> None:
        """End of input: the worker (or clone) finishes and exits."""
        for pipe in (self.jobs, self.results):
            try:
                pipe.close()
            except OSError:
                pass
        if self.process is not None:
            try:
                self.process.wait(timeout=5)
            except Exception:
                self.process.kill()


class Launch:
    """A worker process started before the course is read, with pipes for `clones` copies.

    It warms up (imports torch and the rest: about 4 s of CPU) at once, while the parent
    reads the course and imports nbgrader; `workers()` then sends it the paths to hide,
    and it forks the copies that are wanted. Pipes not wanted are closed on both sides."""

    def __init__(self, clones: int = 0):
        env = {name: value for name, value in os.environ.items() if name in PASSED_ON}
        env.update(MPLBACKEND="Agg", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   PYTHONPATH=os.pathsep.join([str(Path(autograder.__file__).resolve().parent.parent)]
                                              + [p for p in [os.environ.get("PYTHONPATH")] if p]),
                   PYTHONDONTWRITEBYTECODE="1")
        debug = os.environ.get("AUTOGRADER_DEBUG")
        self.used = False
        self.channels = [(os.pipe(), os.pipe()) for _ in range(max(0, clones))]  # (jobs r, w), (results r, w)
        self.theirs = [(jobs[0], results[1]) for jobs, results in self.channels]
        try:
            self.process = subprocess.Popen(
                [os.path.abspath(sys.executable), "-m", "autograder.grade.worker"], cwd="/", env=env, text=True,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None if debug else subprocess.DEVNULL,
                pass_fds=[fd for pair in self.theirs for fd in pair])
        finally:
            for fd in [fd for pair in self.theirs for fd in pair]:
                os.close(fd)

    def workers(self, cover: list[str], keep: list[str], count: int) -> list[Worker]:
        """`count` warm workers (at most 1 + clones): the process and its copies."""
        self.used = True
        count = max(1, min(count, 1 + len(self.channels)))
        wanted, unwanted = self.channels[:count - 1], self.channels[count - 1:]
        for jobs, results in unwanted:
            os.close(jobs[1])
            os.close(results[0])
        workers = [Worker(self.process.stdin, self.process.stdout, self.process)]
        workers += [Worker(os.fdopen(jobs[1], "w"), os.fdopen(results[0], "r")) for jobs, results in wanted]
        try:
            workers[0]._send({"cover": cover, "keep": keep, "clones": self.theirs[:count - 1],
                              "unused": self.theirs[count - 1:]})
        except OSError:
            pass  # it died while warming up: said below
        for worker in workers:
            ready = worker._receive()
            if not ready or not ready.get("ready"):
                for started in workers:
                    started.close()
                raise RuntimeError("a grading worker failed to start")
            worker.walls = ready.get("walls", "")
        return workers

    def close(self) -> None:
        """Not used after all (a Dask run, no submissions): end the process, which has
        run nothing but its own warm-up, without waiting for that to finish."""
        if self.used:
            return
        self.used = True
        self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            pipe.close()
        for jobs, results in self.channels:
            for fd in (jobs[1], results[0]):
                try:
                    os.close(fd)
                except OSError:
                    pass


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
    """Where jobs run. `results.get()` gives `(key, result)` once per submitted job;
    `capacity` is how many jobs it runs at once."""
    results: queue.Queue
    walls: str
    capacity: int

    def submit(self, key, job: dict) -> None: ...

    def close(self) -> None: ...


def answer(job: dict, worker: "Worker | None", cover: list[str], keep: list[str]) -> tuple[dict, "Worker | None"]:
    """`job`'s result from `worker` (started first if None), and the worker to use next
    (None when it could not start or died twice)."""
    for _attempt in range(2):
        if worker is None:
            try:
                worker = Worker.start(cover, keep)[0]
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


_LAUNCHED: list[Launch] = []  # a worker process warming up for this process's first job


def warm_up_soon() -> bool:
    """Start warming a worker now, before any job arrives (cluster.connect calls this on
    every Dask worker); the first run_here uses it. False when one is warm already."""
    with _IDLE_LOCK:
        if _LAUNCHED or any(_IDLE.values()):
            return False
        _LAUNCHED.append(Launch())
    return True


def run_here(job: dict, cover: list[str]) -> dict:
    """Run one job on this machine with a warm worker kept for the next call: the
    remote side of cluster.DaskRunner (it runs inside a Dask worker process). The
    result says how the worker is walled in (`worker_walls`)."""
    keep = code_folders()
    kind = (tuple(cover), tuple(keep))
    with _IDLE_LOCK:
        idle = _IDLE.get(kind) or [None]
        worker = idle.pop()
        launch = _LAUNCHED.pop() if worker is None and _LAUNCHED else None
    if launch is not None:
        try:
            worker = launch.workers(cover, keep, 1)[0]
        except Exception:  # answer() starts a fresh one
            worker = None
    result, worker = answer(job, worker, cover, keep)
    if worker is not None:
        result["worker_walls"] = worker.walls
        with _IDLE_LOCK:
            _IDLE.setdefault(kind, []).append(worker)
    return result


class Pool:
    """The local runner: `size` warm workers on this machine."""

    def __init__(self, size: int, cover: list[str], launch: "Launch | None" = None):
        self.size, self.cover, self.keep, self.launch = size, cover, code_folders(), launch
        self.capacity = size
        self.jobs: queue.Queue = queue.Queue()
        self.results: queue.Queue = queue.Queue()
        self.walls = ""
        self.warm: queue.Queue = queue.Queue()  # one worker per thread, or None: start your own
        threading.Thread(target=self._start_workers, daemon=True).start()
        self.threads = [threading.Thread(target=self._serve, daemon=True) for _ in range(size)]
        for thread in self.threads:
            thread.start()

    def _start_workers(self) -> None:
        """One worker process and size - 1 clones of it, warmed up while the parent prepares."""
        try:
            launch = self.launch or Launch(self.size - 1)
            workers = launch.workers(self.cover, self.keep, self.size)
        except Exception:  # each thread then starts (or fails to start) its own, as answer() does
            workers = []
        for worker in workers + [None] * (self.size - len(workers)):
            self.warm.put(worker)

    def submit(self, key, job: dict) -> None:
        self.jobs.put((key, job))

    def close(self) -> None:
        for _ in self.threads:
            self.jobs.put(None)

    def _serve(self) -> None:
        worker = self.warm.get()
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
