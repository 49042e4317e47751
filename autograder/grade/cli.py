"""`python -m autograder grade ASSIGNMENT [--jobs N | --scheduler ADDRESS]`, run from the course root.

Grades every submission under `submitted/` into nbgrader's gradebook (the scores
`nbgrader autograde` would give), in parallel and in isolation, on this machine's
cores or on a Dask cluster; then writes each student's feedback page and the class
report, and prints a summary table. Grading again is safe: each run replaces the
previous one. Defaults come from `nbgrader_config.py` (`c.ClassGrading.*`,
`c.GradingLimits.*`, nbgrader's own `c.Execute.timeout`); the options override them.
"""
import argparse
import os
import sys
import warnings

from autograder.grade.pool import Launch


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # The workers warm up (4 s of CPU) while this process imports nbgrader and reads the
    # course: started first, before anything slow. Unused, they are let go below.
    # On a cluster, its workers are reached (and start warming up) first, for the same reason.
    launch, client = None, None
    if args.scheduler:
        from autograder.grade import cluster
        try:  # a scheduler that cannot be reached: one line, before anything is written
            client = cluster.connect(args.scheduler)
        except cluster.ClusterError as error:
            print(error, file=sys.stderr)
            return 2
    else:
        launch = _launch(args.jobs or os.cpu_count() or 2)
    try:
        return _grade(args, launch, client)
    finally:
        if launch is not None:
            launch.close()
        if client is not None:
            client.close()


def _launch(jobs: int) -> "Launch | None":
    try:
        return Launch(clones=jobs - 1)
    except OSError:  # the pool starts its own workers later, and says so if it cannot
        return None


def _grade(args, launch: "Launch | None", client=None) -> int:
    from autograder.grade import config as settings
    from autograder.grade.course import Course
    try:
        course = Course.load(args.root)
    except Exception as error:
        print(f"Could not read the course's nbgrader_config.py: {error}", file=sys.stderr)
        return 2
    if args.cell_timeout:
        course.limits.cell_seconds = args.cell_timeout
    if args.notebook_timeout:
        course.limits.notebook_seconds = args.notebook_timeout
    if args.memory_mb:
        course.limits.memory_bytes = args.memory_mb * 1024 ** 2
    grading = settings.ClassGrading(config=course.config)
    jobs = args.jobs or grading.jobs
    return run(course, args.assignment, jobs, args.student or None, quiet=args.quiet,
               scheduler=args.scheduler if args.scheduler is not None else grading.scheduler, launch=launch,
               client=client)


def run(course, assignment: str, jobs: int, students=None, quiet: bool = False,
        scheduler: str = "", launch: "Launch | None" = None, client=None) -> int:
    from autograder.report.feedback_page import write_feedback
    from autograder.grade.pipeline import grade_assignment
    from autograder.grade.pool import Pool
    from autograder.grade.prepare import AssignmentMissing
    from autograder.grade.summary import summary_table
    from autograder.report.class_report import write_class_report

    where = f"with {jobs} job(s)"
    open_runner = lambda size, cover: Pool(size, cover, launch=launch)  # noqa: E731
    if scheduler:  # reach the cluster before anything is written
        if launch is not None:
            launch.close()  # no local workers needed
        from autograder.grade import cluster
        try:
            client = client if client is not None else cluster.connect(scheduler)
        except cluster.ClusterError as error:
            print(error, file=sys.stderr)
            return 2
        open_runner = cluster.DaskRunner.opener(client)
        where = f"on the Dask cluster at {scheduler} ({len(client.scheduler_info()['workers'])} worker(s))"
    bar = None if quiet else _progress_bar()
    warnings.filterwarnings("ignore", module="nbgrader")  # nbgrader's own SQLAlchemy chatter
    warnings.filterwarnings("ignore", module="nbformat")
    try:
        batch = grade_assignment(course, assignment, jobs, students, progress=bar, open_runner=open_runner)
    except AssignmentMissing as error:
        print(error, file=sys.stderr)
        return 2
    finally:
        if bar is not None:
            bar.close()
        if client is not None:
            client.close()
    if not batch.outcomes:
        print(f"No submissions of '{assignment}' under {course.coursedir.submitted_directory}/.", file=sys.stderr)
        return 1
    for outcome in batch.outcomes:
        write_feedback(course, outcome)
    report = write_class_report(course, assignment)
    print(summary_table(batch.outcomes))
    print(f"\nGraded {len(batch.outcomes)} notebook(s) in {batch.seconds:.1f} s {where}; "
          f"isolation: {_walls(batch)}.")
    print(f"Feedback: {course.coursedir.feedback_directory}/<student>/{assignment}/   "
          f"Class report: {os.path.relpath(report, course.root)}")
    return 0


def _walls(batch) -> str:
    kinds = sorted({outcome.walls for outcome in batch.outcomes if outcome.walls})
    return "; ".join(filter(None, [batch.walls] + kinds)) or "none needed"


def _progress_bar():
    try:
        from tqdm import tqdm
    except ImportError:
        return None

    class Bar:
        """Called once per graded notebook by the pipeline."""

        def __init__(self):
            self.bar = tqdm(desc="grading", unit="notebook", file=sys.stderr)

        def set_total(self, total: int) -> None:
            self.bar.total = total
            self.bar.refresh()

        def __call__(self, outcome) -> None:
            self.bar.set_postfix_str(outcome.student, refresh=False)
            self.bar.update(1)

        def close(self) -> None:
            self.bar.close()
    return Bar()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder grade", description=__doc__.splitlines()[0])
    parser.add_argument("assignment", help="the assignment (a folder under the source directory)")
    parser.add_argument("--jobs", "-j", type=int,
                        help="notebooks graded at once on this machine (default: c.ClassGrading.jobs, "
                             "else the number of CPU cores)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="grade on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786; "
                             "default: c.ClassGrading.scheduler, else this machine)")
    parser.add_argument("--student", action="append", help="grade only this student (repeatable)")
    parser.add_argument("--root", default=".", help="the course folder (default: the current folder)")
    parser.add_argument("--cell-timeout", type=float, help="seconds per cell (default: Execute.timeout)")
    parser.add_argument("--notebook-timeout", type=float,
                        help="seconds per notebook (default: c.GradingLimits.notebook_seconds, 600)")
    parser.add_argument("--memory-mb", type=int,
                        help="memory per submission in MiB (default: c.GradingLimits.memory_mb, 2048)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser
