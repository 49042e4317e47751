"""Grading on a Dask cluster: `python -m autograder grade ASSIGNMENT --scheduler ADDRESS`.

Why Dask: universities already run clusters (SLURM, PBS, Kubernetes behind
JupyterHub); Dask's distributed scheduler reaches all of them (`dask-jobqueue`,
`dask-kubernetes`) and a laptop too. Dask only carries the jobs: each submission
travels to a Dask worker as data (the job dict: cells and files; no shared
filesystem assumed), is graded there by the same isolated worker process as on
this machine (pool.run_here: worker.py, sandbox.py, the same limits), and its
result comes back as data. The gradebook, feedback and reports are written here
only, by the pipeline, exactly as for the local pool.

Faults:
- a Dask worker that dies or is removed mid-batch: the scheduler runs its jobs
  again on another worker; each result is taken once, as soon as it exists;
- a scheduler that cannot be reached: `ClusterError`, one line, before anything
  is written;
- a Dask worker without the course package: named (at the start, and whenever a job
  lands on one), and its jobs go to the workers that have it.
"""
import pickle
import queue
import sys
import threading
import uuid

from autograder.grade.pool import failed

CONNECT_SECONDS = 10
RESUBMITS = 2  # a job whose result was lost with its worker is sent again, at most this often
WORKER_WAIT_SECONDS = 30
PACKAGE_CHECK = "autograder.grade.worker:__name__"


class ClusterError(Exception):
    """The cluster cannot grade: unreachable, no workers, or none with the course package."""


class _Call:
    """`grade_there(job, cover)`, run by unpickling: the Dask task is the standard
    library's `pickle.loads` of these bytes, so a worker without the course package can
    still load the task (and say what it lacks) instead of dying on it."""

    def __init__(self, job: dict, cover: list[str]):
        self.job, self.cover = job, cover

    def __reduce__(self):
        return grade_there, (self.job, self.cover)


def grade_there(job: dict, cover: list[str]) -> dict:
    """Runs on a Dask worker; travels by value (cloudpickle), not as a name to import."""
    from distributed import get_worker
    address = get_worker().address
    try:
        from autograder.grade import pool
    except ImportError as error:
        return {"missing_package": address, "error": f"{type(error).__name__}: {error}"}
    result = pool.run_here(job, cover + [get_worker().local_directory])
    result["dask_worker"] = address
    return result


def connect(address: str):
    """A client of the scheduler at `address`, with at least one worker that has the
    course package; the others are named on stderr."""
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
    warm_up_workers(client, lacking)
    return client


def warm_up_workers(client, lacking: dict) -> None:
    """Each Dask worker with the package starts warming its grading worker now (4 s of
    CPU), while this machine reads the course and prepares the first notebook."""
    workers = [address for address in client.scheduler_info(n_workers=-1)["workers"] if address not in lacking]
    if workers:
        from autograder.grade.pool import warm_up_soon
        try:
            client.run(warm_up_soon, workers=workers, on_error="return")
        except Exception:  # only a head start: the jobs warm their workers themselves
            pass


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
    """The pool.Runner for a Dask cluster: one Dask task per job."""

    def __init__(self, client, cover: list[str]):
        import cloudpickle
        cloudpickle.register_pickle_by_value(sys.modules[__name__])  # grade_there travels as code
        self.dumps = cloudpickle.dumps
        self.client, self.cover = client, cover
        self.results: queue.Queue = queue.Queue()
        self.walls = ""
        self.lacking = dict(workers_without_package(client))
        self.good = self._with_package()
        self.pending: dict[str, tuple] = {}  # Dask key -> (our key, job, future), until its result is taken
        self.resubmitted: dict = {}  # our key -> times sent again
        self.lock = threading.Lock()

    @classmethod
    def opener(cls, client):
        """What pipeline.grade_assignment calls to open the runner: (size, cover) -> runner."""
        return lambda size, cover: cls(client, cover)

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

    def submit(self, key, job: dict) -> None:
        """The job goes preferably to workers known to have the course package (others,
        should all of those die; a job landing on one without it comes back, see _done)."""
        where = {"workers": self.good, "allow_other_workers": True} if self.good else {}
        future = self.client.submit(pickle.loads, self.dumps(_Call(job, self.cover)),
                                    key=f"grade-{key}-{uuid.uuid4().hex[:8]}", pure=False, **where)
        with self.lock:
            self.pending[future.key] = (key, job, future)
        future.add_done_callback(self._done)

    def _done(self, future) -> None:
        """Called once per task, in a thread of Dask's: take the result, or say why there is none."""
        with self.lock:
            entry = self.pending.pop(future.key, None)
        if entry is None:
            return
        key, job, _ = entry
        try:
            result = future.result()
            if "missing_package" in result:
                self._without_package(key, job, result)
                return
        except BaseException as error:  # KilledWorker (it killed workers again and again), a lost result, ...
            if type(error).__name__ != "KilledWorker" and self._again(key, job):
                return  # its worker vanished with the result: graded again elsewhere
            result = failed(f"the Dask cluster could not grade this notebook ({type(error).__name__}: "
                            f"{' '.join(str(error).split())[:200]})")
        finally:
            future.release()
        self.walls = result.pop("worker_walls", None) or self.walls
        result.pop("dask_worker", None)
        self.results.put((key, result))  # always one answer per job: the batch never waits forever

    def _again(self, key, job: dict) -> bool:
        """Send a job once more (at most RESUBMITS times); False if that is not possible."""
        if self.resubmitted.get(key, 0) >= RESUBMITS:
            return False
        self.resubmitted[key] = self.resubmitted.get(key, 0) + 1
        try:
            self.submit(key, job)
        except Exception:  # the client itself is gone
            return False
        return True

    def _without_package(self, key, job: dict, result: dict) -> None:
        address = result["missing_package"]
        if address not in self.lacking:
            self.lacking[address] = result["error"]
            print(f"Dask worker {address} has no course package ({result['error']}); "
                  "its notebooks go to other workers", file=sys.stderr)
        self.good = self._with_package()
        if not self.good:
            self.results.put((key, failed(f"no Dask worker has the course package ({_listing(self.lacking)})")))
            return
        self.submit(key, job)

    def close(self) -> None:
        with self.lock:
            futures = [future for _, _, future in self.pending.values()]
            self.pending.clear()
        for future in futures:
            future.cancel()
