"""Where an isolated step's jobs run, and who hears of each explained notebook.

nbgrader builds its steps itself (one per notebook), from the converter that runs them:
a step's `parent` is nbgrader's exporter, whose `parent` is that converter. When the
converter is the grading command's (grade/app/converter.py), it carries a *grading
session*: jobs run on its pool or cluster, prepared ahead of time, and each outcome
reaches its summary. Under plain `nbgrader autograde` or formgrader there is none, and
the jobs run one at a time on one warm worker this process keeps (started on first use,
kept for later notebooks and later clicks of the Autograde button).
"""
import atexit
import threading
from typing import Protocol

from autograder.grade.backends.local import Pool
from autograder.record.outcome import SubmissionOutcome
from autograder.record.run import Job, Run


class Session(Protocol):
    def run(self, job: Job, cover: list[str], where: tuple[str, str, str] | None = None) -> Run:
        """The Run of `job`; `where` is (assignment, student, notebook)."""

    def graded(self, outcome: SubmissionOutcome) -> None: ...


def converter_of(step):
    """The nbgrader converter running `step` (None when the step runs on its own)."""
    exporter = getattr(step, "parent", None)
    return getattr(exporter, "parent", None)


def session_of(step) -> Session:
    return getattr(converter_of(step), "grading_session", None) or _ONE_AT_A_TIME


class OneAtATime:
    """One warm worker per set of hidden paths (per course), one job at a time."""

    def __init__(self):
        self.pools: dict[tuple, Pool] = {}
        self.lock = threading.Lock()

    def run(self, job: Job, cover: list[str], where=None) -> Run:
        with self.lock:
            pool = self.pools.get(tuple(cover))
            if pool is None:
                pool = self.pools[tuple(cover)] = Pool(1, cover)
            pool.submit(0, job)
            _, run = pool.results.get()
            return run

    def graded(self, outcome: SubmissionOutcome) -> None:
        pass

    def close(self) -> None:
        with self.lock:
            for pool in self.pools.values():
                pool.close()
            self.pools = {}


_ONE_AT_A_TIME = OneAtATime()
atexit.register(_ONE_AT_A_TIME.close)
