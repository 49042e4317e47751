"""The grading pipeline, step by step: collect -> prepare -> run -> score -> feedback -> report.

Why this order and these owners: everything that reads the gradebook or the
source notebooks (prepare, score) runs here in the parent, one step at a time;
only the running of learner code is parallel, in walled-in workers that are given
nothing but the cells and files to run. So the gradebook is never written by two
processes at once, and no submission can reach it.
"""
import itertools
import shutil
import time
from dataclasses import dataclass, field

from autograder.grade import collect, prepare, score
from autograder.grade.course import Course
from autograder.grade.outcome import SubmissionOutcome
from autograder.grade.pool import Pool


@dataclass
class BatchResult:
    assignment: str
    outcomes: list[SubmissionOutcome] = field(default_factory=list)
    seconds: float = 0.0
    walls: str = ""


def grade_assignment(course: Course, assignment: str, jobs: int = 2, students: list[str] | None = None,
                     progress=None, open_runner=Pool) -> BatchResult:
    """Grade every submission of `assignment`; `progress(outcome)` is called after each
    (and `progress.set_total(n)` first, if it has one). `open_runner(size, cover)` gives
    where the jobs run (pool.Runner): this machine's Pool, or cluster.DaskRunner."""
    started = time.monotonic()
    info = prepare.read_assignment(course, assignment)
    submissions = collect.collect(course, assignment, students)
    batch = BatchResult(assignment)
    if not submissions:
        return batch
    if progress is not None and hasattr(progress, "set_total"):
        progress.set_total(len(submissions) * len(info.notebooks))
    size = max(1, min(jobs, len(submissions)))
    pool = open_runner(size, course.secret_paths())
    limits = course.limits.as_dict()
    waiting: dict[int, prepare.Prepared] = {}  # sent to the runner, not yet scored
    keys, remaining, earlier = itertools.count(), list(reversed(submissions)), {}

    def top_up() -> None:
        """Prepare and send submissions until AHEAD jobs per worker wait: the workers never
        idle, and the parent never holds more than that many notebooks however big the class."""
        most = AHEAD * getattr(pool, "capacity", size)
        while remaining and len(waiting) < most:
            submission = remaining.pop()
            shutil.rmtree(course.folder("autograded", submission.student, assignment), ignore_errors=True)
            for item in _prepare_safely(course, info, submission):
                if item.nb is None:
                    batch.outcomes.append(_score_safely(course, info, item, None))
                    _tell(progress, batch.outcomes[-1])
                else:
                    key = next(keys)
                    waiting[key] = item
                    pool.submit(key, item.job(key, limits))

    try:
        top_up()
        while waiting:
            key, result = pool.results.get()
            result = merge_runs(earlier.pop(key, None), result)
            resume = resume_job(waiting[key], result, key, limits)
            if resume is not None:
                earlier[key] = result
                pool.submit(key, resume)
                continue
            batch.outcomes.append(_score_safely(course, info, waiting.pop(key), result))
            _tell(progress, batch.outcomes[-1])
            top_up()
    finally:
        pool.close()
    batch.outcomes.sort(key=lambda outcome: (outcome.student, outcome.notebook))
    batch.seconds = time.monotonic() - started
    batch.walls = pool.walls
    return batch


MAX_RESUMES = 3
AHEAD = 2  # jobs waiting per worker


def resume_job(item: prepare.Prepared, result: dict, key: int, limits: dict) -> dict | None:
    """After the process died or was killed in cell k, a fresh run of the cells after k.

    It re-runs the learner's cells before k (they build the state later cells need),
    skips cell k and every test cell already scored, so a crash in one exercise does
    not cost the marks of the next. At most MAX_RESUMES times per notebook."""
    stopped = result.get("stopped") or {}
    crashed_at = stopped.get("cell")
    if crashed_at is None or result.get("resumes", 0) >= MAX_RESUMES:
        return None
    job = item.job(key, limits)
    code_after = [cell for cell in job["cells"] if cell["index"] > crashed_at]
    if not code_after:
        return None
    skip = {crashed_at} | {crash["cell"] for crash in result.get("crashes", [])}
    skip |= {int(index) for index in result["cells"]
                           if prepare.is_grade_cell(item.nb.cells[int(index)])}
    job["cells"] = [cell for cell in job["cells"] if cell["index"] not in skip]
    job["resume_after"] = crashed_at
    return job


def merge_runs(earlier: dict | None, later: dict) -> dict:
    """The first run's cells up to its crash, the resumed run's cells after it."""
    if earlier is None:
        return later
    crashed_at = earlier["stopped"]["cell"]
    cells = dict(earlier["cells"])
    cells.update({index: record for index, record in later.get("cells", {}).items() if int(index) > crashed_at})
    stopped = later.get("stopped")
    if stopped and (stopped.get("cell") is None or stopped["cell"] <= crashed_at):
        stopped = dict(stopped, cell=None) if stopped.get("cell") is None else None
    first_stop = dict(earlier["stopped"])
    return {"cells": cells, "stopped": stopped, "crashes": earlier.get("crashes", []) + [first_stop],
            "resumes": earlier.get("resumes", 0) + 1, "walls": later.get("walls") or earlier.get("walls"),
            "seconds": earlier.get("seconds", 0.0) + later.get("seconds", 0.0)}


def _prepare_safely(course, info, submission) -> list[prepare.Prepared]:
    try:
        return prepare.prepare(course, info, submission)
    except Exception as error:  # never lose a submission to a grader bug
        return [prepare.Prepared(submission, name, failure=f"the grader could not prepare it ({error})")
                for name in info.notebooks]


def _score_safely(course, info, item, result) -> SubmissionOutcome:
    try:
        return score.score(course, info, item, result)
    except Exception as error:
        item.nb, item.failure = None, f"the grader could not score it ({type(error).__name__}: {error})"
        return score.score(course, info, item, None)


def _tell(progress, outcome) -> None:
    if progress is not None:
        progress(outcome)
