"""This machine's cores: warm workers (grade/kernel/worker.py) and the pool that feeds them.

`Launch` starts one worker process at once (it warms up while the parent reads the
course), with connections for N - 1 copies it forks once warm; `Worker` is one of
them, seen from here; `Pool` is the local runner: one thread per worker feeds it jobs
from a shared queue and puts each Run on the results queue, so the thread that
grades (and alone writes the gradebook) only waits for results. `run_here` is what a
Dask worker runs for each job (backends/dask.py).
"""
import os
import queue
import subprocess
import sys
import threading
from multiprocessing import Pipe
from pathlib import Path

import autograder
from autograder.record.run import Job, Run

# The only environment variables a submission inherits: nothing of the grader's own.
PASSED_ON = {"PATH", "HOME", "COURSE_PACKAGE", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "VIRTUAL_ENV", "CONDA_PREFIX",
             "AUTOGRADER_DEBUG", "AUTOGRADER_NO_NAMESPACES"}


class Worker:
    """One warm worker: a process of its own, or a copy that such a process forked once
    warm (`process` is None then). One connection: jobs out, runs back."""

    def __init__(self, connection, process: subprocess.Popen | None = None, walls: str = ""):
        self.connection, self.process, self.walls = connection, process, walls

    @classmethod
    def start(cls, cover: list[str], keep: list[str]) -> "Worker":
        return Launch().workers(cover, keep, 1)[0]

    def run(self, job: Job) -> Run | None:
        """The worker's Run, or None if the worker itself died."""
        try:
            self.connection.send(job)
            return self.connection.recv()
        except (EOFError, OSError):
            return None

    def close(self) -> None:
        """End of input: the worker (or copy) finishes and exits."""
        self.connection.close()
        if self.process is not None:
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Launch:
    """A worker process started now, with connections for `clones` copies of it.

    It warms up (imports torch and the rest: about 4 s of CPU) at once, while the parent
    reads the course and imports nbgrader; `workers()` then sends it the paths to hide,
    and it forks the copies that are wanted. Connections not wanted are closed."""

    def __init__(self, clones: int = 0):
        env = {name: value for name, value in os.environ.items() if name in PASSED_ON}
        env.update(MPLBACKEND="Agg", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1",
                   PYTHONPATH=os.pathsep.join([str(Path(autograder.__file__).resolve().parent.parent)]
                                              + [p for p in [os.environ.get("PYTHONPATH")] if p]))
        pairs = [Pipe() for _ in range(max(0, clones) + 1)]
        self.connections = [mine for mine, _ in pairs]
        theirs = [their for _, their in pairs]
        self.used = False
        try:
            self.process = subprocess.Popen(
                [os.path.abspath(sys.executable), "-m", "autograder.grade.kernel.worker",
                 *[str(their.fileno()) for their in theirs]], cwd="/", env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=None if os.environ.get("AUTOGRADER_DEBUG") else subprocess.DEVNULL,
                pass_fds=[their.fileno() for their in theirs])
        finally:
            for their in theirs:
                their.close()

    @property
    def size(self) -> int:
        return len(self.connections)

    def workers(self, cover: list[str], keep: list[str], count: int) -> list[Worker]:
        """`count` warm workers (at most `size`): the process and its copies."""
        self.used = True
        count = max(1, min(count, self.size))
        for unused in self.connections[count:]:
            unused.close()
        workers = [Worker(connection, self.process if number == 0 else None)
                   for number, connection in enumerate(self.connections[:count])]
        try:
            workers[0].connection.send({"cover": cover, "keep": keep, "clones": count - 1})
        except OSError:
            pass  # it died while warming up: said below
        for worker in workers:
            try:
                ready = worker.connection.recv()
            except (EOFError, OSError):
                ready = None
            if not ready or not ready.get("ready"):
                for started in workers:
                    started.close()
                raise RuntimeError("a grading worker failed to start")
            worker.walls = ready.get("walls", "")
        return workers

    def close(self) -> None:
        """Not used after all (a Dask run, no submissions, --no-execute): end the process,
        which has run nothing but its own warm-up, without waiting for that to finish."""
        if self.used:
            return
        self.used = True
        self.process.kill()
        self.process.wait()
        for connection in self.connections:
            connection.close()


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


def answer(job: Job, worker: Worker | None, cover: list[str], keep: list[str]) -> tuple[Run, Worker | None]:
    """`job`'s Run from `worker` (started first if None), and the worker to use next
    (None when it could not start or died twice)."""
    for _attempt in range(2):
        if worker is None:
            try:
                worker = Worker.start(cover, keep)
            except Exception as error:  # cannot start: answer anyway
                return Run.failed(f"the grading worker could not start ({error})"), None
        run = worker.run(job)
        if run is not None:
            return run, worker
        worker.close()
        worker = None
    return Run.failed("the grading worker died twice on this notebook"), None


class Pool:
    """The local runner: `size` warm workers on this machine, the first ones from `launch`."""

    def __init__(self, size: int, cover: list[str], launch: Launch | None = None):
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
        """The workers, warmed up while the parent prepares: the launch's, then one more launch for the rest."""
        workers, launch = [], self.launch
        while len(workers) < self.size:
            try:
                launch = launch or Launch(self.size - len(workers) - 1)
                workers += launch.workers(self.cover, self.keep, self.size - len(workers))
            except Exception:  # each thread then starts (or fails to start) its own, as answer() does
                break
            launch = None
        for worker in workers + [None] * (self.size - len(workers)):
            self.warm.put(worker)

    def submit(self, key, job: Job) -> None:
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
            run, worker = answer(job, worker, self.cover, self.keep)
            if worker is not None:
                self.walls = worker.walls
            self.results.put((key, run))
        if worker is not None:
            worker.close()


_IDLE: dict[tuple, list[Worker]] = {}  # warm workers of this process, kept between calls of run_here
_LAUNCHED: list[Launch] = []  # a worker process warming up for this process's first job
_IDLE_LOCK = threading.Lock()


def warm_up_soon() -> bool:
    """Start warming a worker now, before any job arrives (a Dask worker's plugin calls
    this as the worker joins); the first run_here uses it. False when one is warm already."""
    with _IDLE_LOCK:
        if _LAUNCHED or any(_IDLE.values()):
            return False
        _LAUNCHED.append(Launch())
    return True


def run_here(job: Job, cover: list[str]) -> tuple[Run, str]:
    """Run one job on this machine with a warm worker kept for the next call: the remote
    side of the Dask runner (it runs inside a Dask worker process). Also says how that
    worker is walled in."""
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
    run, worker = answer(job, worker, cover, keep)
    walls = ""
    if worker is not None:
        walls = worker.walls
        with _IDLE_LOCK:
            _IDLE.setdefault(kind, []).append(worker)
    return run, walls
