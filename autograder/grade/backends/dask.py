"""Grading on a Dask cluster: `python -m autograder grade ASSIGNMENT --scheduler ADDRESS`.

Why Dask: universities already run clusters (SLURM, PBS, Kubernetes behind
JupyterHub); Dask's distributed scheduler reaches all of them (`dask-jobqueue`,
`dask-kubernetes`) and a laptop too. Dask only carries the jobs: each submission
travels to a Dask worker as data (a `record.run.Job`: cells and files; no shared
filesystem assumed), is graded there by the same walled-in worker process as on this
machine (local.run_here), and its `Run` comes back as data. The gradebook, feedback
and reports are written here only, exactly as for the local pool.

What Dask does for us: a worker that dies or is removed mid-batch has its tasks run
again elsewhere by the scheduler, and a task that fails is resubmitted (`retries=`);
`WarmGrader`, a worker plugin, starts warming each worker's grading worker as soon as
it joins, workers that join later included. What we add: a scheduler that cannot be
reached is a `ClusterError`, one line, before anything is written; a worker without
the course package is named (at the start, and whenever a job lands on one), and its
jobs go to the workers that have it.
"""
import pickle
import queue
import sys
import threading
import uuid

from distributed.diagnostics.plugin import WorkerPlugin

from autograder.record.run import Job, Run

CONNECT_SECONDS = 10
RETRIES = 2  # a task that failed is run again this often, by Dask
WORKER_WAIT_SECONDS = 30
PACKAGE_CHECK = "autograder.grade.kernel.worker:__name__"


class ClusterError(Exception):
    """The cluster cannot grade: unreachable, no workers, or none with the course package."""


class WarmGrader(WorkerPlugin):
    """On every Dask worker, now and as it joins: start warming a grading worker, so the
    first notebook there does not wait 4 s for torch. Travels by value, and does nothing
    on a worker without the course package (that worker is named elsewhere)."""
    idempotent = True
    name = "training-loop-course-warm-grader"

    def setup(self, worker) -> None:
        try:
            from autograder.grade.backends import local
        except ImportError:
            return
        local.warm_up_soon()


class _Call:
    """`grade_there(job bytes, cover)`, run by unpickling: the Dask task is the standard
    library's `pickle.loads` of these bytes, so a worker without the course package can
    still load the task (and say what it lacks) instead of dying on it."""

    def __init__(self, job: Job, cover: list[str]):
        self.job, self.cover = pickle.dumps(job), cover

    def __reduce__(self):
        return grade_there, (self.job, self.cover)


def grade_there(job: bytes, cover: list[str]):
    """Runs on a Dask worker; travels by value (cloudpickle), not as a name to import.
    Gives (Run, how the worker is walled in), or {"missing_package": address, "error"}."""
    from distributed import get_worker
    worker = get_worker()
    try:
        from autograder.grade.backends import local
    except ImportError as error:
        return {"missing_package": worker.address, "error": f"{type(error).__name__}: {error}"}
    return local.run_here(pickle.loads(job), cover + [worker.local_directory])


def connect(address: str):
    """A client of the scheduler at `address`, with at least one worker that has the
    course package (the others are named on stderr) and WarmGrader on every worker."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError("Grading on a Dask cluster needs Dask: pip install 'training-loop-course[cluster]'.") from None
    try:
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        detail = " ".join(str(error).split()) or type(error).__name__
        raise ClusterError(f"Could not reach the Dask scheduler at {address}: {detail}") from None
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
        lacking = workers_without_package(client)
    except Exception as error:
        client.close()
        if isinstance(error, ClusterError):
            raise
        raise ClusterError(f"The Dask scheduler at {address} has no workers "
                           f"(waited {WORKER_WAIT_SECONDS} s): start some with `dask worker {address}`") from None
    if lacking:
        print(f"Dask worker(s) without the course package, given no notebooks: {_listing(lacking)}",
              file=sys.stderr)
    _by_value()
    try:
        client.register_plugin(WarmGrader())
    except Exception as error:  # only a head start: the jobs warm their workers themselves
        print(f"Dask workers could not start warming up ({type(error).__name__}: {error})", file=sys.stderr)
    return client


def _by_value() -> None:
    """This module's code travels to the workers by value: the task and the plugin load
    there even where the course package is missing."""
    import cloudpickle
    cloudpickle.register_pickle_by_value(sys.modules[__name__])


def workers_without_package(client) -> dict[str, str]:
    """{worker address: why} for every worker that cannot import the grader; a
    ClusterError when that is every worker."""
    import pkgutil
    found = client.run(pkgutil.resolve_name, PACKAGE_CHECK, on_error="return")
    lacking = {address: f"{type(value).__name__}: {value}" for address, value in found.items()
               if isinstance(value, BaseException)}
    if found and len(lacking) == len(found):
        raise ClusterError(f"No Dask worker has the course package installed ({_listing(lacking)}); "
                           "install it there with pip install 'training-loop-course[cluster]'")
    return lacking


def _listing(lacking: dict[str, str]) -> str:
    return "; ".join(f"{address} ({why})" for address, why in sorted(lacking.items()))


class DaskRunner:
    """The runner for a Dask cluster: one Dask task per job."""

    def __init__(self, client, cover: list[str]):
        import cloudpickle
        _by_value()
        self.dumps = cloudpickle.dumps
        self.client, self.cover = client, cover
        self.results: queue.Queue = queue.Queue()
        self.walls = ""
        self.lacking = dict(workers_without_package(client))
        self.good = self._with_package()
        self.pending: dict[str, tuple] = {}  # Dask key -> (our key, job, future), until its result is taken
        self.lock = threading.Lock()

    def _with_package(self) -> list[str]:
        return [address for address in self.client.scheduler_info(n_workers=-1)["workers"]
                if address not in self.lacking]

    @property
    def capacity(self) -> int:
        """Jobs the cluster runs at once: the threads of its workers that have the package."""
        try:
            workers = self.client.scheduler_info(n_workers=-1)["workers"]
            return max(1, sum(info.get("nthreads", 1) for address, info in workers.items()
                              if address not in self.lacking))
        except Exception:
            return max(1, len(self.good))

    def submit(self, key, job: Job) -> None:
        """The job goes preferably to workers known to have the course package (others,
        should all of those die; a job landing on one without it comes back, see _done)."""
        where = {"workers": self.good, "allow_other_workers": True} if self.good else {}
        future = self.client.submit(pickle.loads, self.dumps(_Call(job, self.cover)), retries=RETRIES,
                                    key=f"grade-{key}-{uuid.uuid4().hex[:8]}", pure=False, **where)
        with self.lock:
            self.pending[future.key] = (key, job, future)
        future.add_done_callback(self._done)

    def _done(self, future) -> None:
        """Called once per task, in a thread of Dask's: take the Run, or say why there is none."""
        with self.lock:
            entry = self.pending.pop(future.key, None)
        if entry is None:
            return
        key, job, _ = entry
        try:
            answer = future.result()
            if isinstance(answer, dict) and "missing_package" in answer:
                self._without_package(key, job, answer)
                return
            run, walls = answer
            self.walls = walls or self.walls
        except BaseException as error:  # it failed again after its retries, or killed workers again and again
            run = Run.failed(f"the Dask cluster could not grade this notebook ({type(error).__name__}: "
                             f"{' '.join(str(error).split())[:200]})")
        finally:
            future.release()
        self.results.put((key, run))  # always one answer per job: grading never waits forever

    def _without_package(self, key, job: Job, answer: dict) -> None:
        address = answer["missing_package"]
        if address not in self.lacking:
            self.lacking[address] = answer["error"]
            print(f"Dask worker {address} has no course package ({answer['error']}); "
                  "its notebooks go to other workers", file=sys.stderr)
        self.good = self._with_package()
        if not self.good:
            self.results.put((key, Run.failed(f"no Dask worker has the course package ({_listing(self.lacking)})")))
            return
        self.submit(key, job)

    def close(self) -> None:
        with self.lock:
            futures = [future for _, _, future in self.pending.values()]
            self.pending.clear()
        for future in futures:
            future.cancel()
