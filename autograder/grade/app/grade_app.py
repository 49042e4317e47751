"""`python -m autograder grade ASSIGNMENT`: nbgrader's `autograde`, parallel and walled in.

It *is* nbgrader's AutogradeApp (a subclass): every flag, alias and option of `nbgrader
autograde` works as there (`--force`/`-f`, `--student`, `--notebook`, `--db`,
`--create`, `--no-execute`, `--CourseDirectory.*`, `--Execute.timeout`, ...), with the
same configuration (`nbgrader_config.py`), the same converter (nbgrader's Autograde:
app/converter.py only listens to it), the same gradebook writes, skips, late
penalties, permissions and exit codes. Two things differ:

- the execution step is the isolated one (steps/isolated_execute.py), whatever the
  configured list names, and the explaining step (steps/explain_scores.py) is appended:
  every notebook runs walled in, and every lost point gets its true reason;
- a grading session (app/session.py) runs the notebooks nbgrader is about to grade on
  `--jobs` warm workers of this machine, or on the Dask cluster of `--scheduler`, so
  nbgrader never waits for one it reaches.

Its own options are traits: `c.GradeApp.jobs`, `c.GradeApp.scheduler`, and the limits
`c.GradingLimits.*` (grade/course/settings.py). After grading it prints a summary;
the command line (autograder/__main__.py) then writes the feedback pages and reports.
"""
import os
import sys
import time

from nbconvert.preprocessors import ExecutePreprocessor
from nbgrader.apps.autogradeapp import AutogradeApp
from nbgrader.apps.autogradeapp import aliases as autograde_aliases
from nbgrader.apps.autogradeapp import flags as autograde_flags
from nbgrader.apps.baseapp import NbGrader
from nbgrader.converters import NbGraderException
from traitlets import Integer, Unicode, default
from traitlets.utils.importstring import import_item

from autograder.grade.app.converter import ClassAutograde
from autograder.grade.app.session import GradingSession
from autograder.grade.app.summary import ProgressBar, summary_table
from autograder.grade.course.settings import GradingLimits
from autograder.grade.steps import ExplainScores, IsolatedExecute

aliases = dict(autograde_aliases, jobs="GradeApp.jobs", j="GradeApp.jobs", scheduler="GradeApp.scheduler")


class GradeApp(AutogradeApp):
    name = "autograder-grade"
    description = "Autograde submissions as nbgrader does, in parallel, each walled in, every lost point explained"
    aliases = aliases
    flags = autograde_flags

    jobs = Integer(os.cpu_count() or 2, help="Notebooks graded at once on this machine.").tag(config=True)
    scheduler = Unicode("", help="Address of a Dask scheduler (tcp://host:8786) to grade on; "
                                 "empty: grade on this machine.").tag(config=True)

    examples = """
        Grade every submission of "04_training_loop" on this machine's cores, as
        `nbgrader autograde 04_training_loop` would, then write feedback and reports:

            python -m autograder grade 04_training_loop

        On 4 workers, or on a Dask cluster; one student; again, although graded already:

            python -m autograder grade 04_training_loop -j 4
            python -m autograder grade 04_training_loop --scheduler tcp://scheduler:8786
            python -m autograder grade 04_training_loop --student hacker --force
        """

    launch = None  # a local worker started before nbgrader was imported (autograder/__main__.py)
    then = None  # what to do with the outcomes: feedback pages and reports (autograder/__main__.py)

    @default("classes")
    def _classes_default(self):
        return super()._classes_default() + [GradingLimits, IsolatedExecute, ExplainScores, ClassAutograde]

    def start(self) -> None:
        NbGrader.start(self)
        self._take_assignment_argument()
        started = time.monotonic()
        converter = ClassAutograde(coursedir=self.coursedir, parent=self)
        converter.autograde_preprocessors = self._isolated(converter.autograde_preprocessors)
        step = IsolatedExecute(parent=converter)
        session = self._session(step)
        converter.grading_session = session
        converter.ahead_settings = (GradingLimits(parent=self).for_job(step.timeout), step.skip_cells_with_tag)
        code = 0
        try:
            converter.start()
        except NbGraderException:
            code = 1
        except SystemExit as stop:  # nbgrader gave up (an invalid timestamp, say)
            code = stop.code if isinstance(stop.code, int) else 1
        finally:
            session.close()
            if session.progress is not None:
                session.progress.close()
            if self.launch is not None:
                self.launch.close()
        self._report(session, time.monotonic() - started)
        if code:
            sys.exit(code)

    def _take_assignment_argument(self) -> None:
        """The assignment comes as the one argument or from the configuration, never both."""
        given = self.extra_args
        if len(given) > 1:
            self.fail("Only one argument (the assignment id) may be specified")
        if given and self.coursedir.assignment_id != "":
            self.fail("The assignment cannot both be specified in config and as an argument")
        if not given and self.coursedir.assignment_id == "":
            self.fail("An assignment id must be specified, either as an argument or with --assignment")
        if given:
            self.coursedir.assignment_id = given[0]

    def _isolated(self, steps: list) -> list:
        """The configured autograde steps, their execution step the isolated one, the
        explaining step last: nbgrader's list (or the instructor's) otherwise unchanged."""
        isolated = []
        for step in steps:
            kind = import_item(step) if isinstance(step, str) else step
            kind = kind if isinstance(kind, type) else type(kind)
            if issubclass(kind, ExecutePreprocessor) and not issubclass(kind, IsolatedExecute):
                self.log.info("Running %s's cells walled in, with IsolatedExecute", kind.__name__)
                step = IsolatedExecute
            isolated.append(step)
        named = [import_item(s) if isinstance(s, str) else s for s in isolated]
        if not any(isinstance(s, type) and issubclass(s, ExplainScores) or isinstance(s, ExplainScores) for s in named):
            isolated.append(ExplainScores)
        return isolated

    def _session(self, step: IsolatedExecute) -> GradingSession:
        """Where the jobs run: a Dask cluster, or this machine's warm workers."""
        progress = ProgressBar() if sys.stderr.isatty() and self.log_level >= 30 else None
        if not step.enabled:  # --no-execute: nothing runs
            return GradingSession(_no_runner, progress)
        if self.scheduler:
            if self.launch is not None:
                self.launch.close()
            try:
                from autograder.grade.backends import dask
            except ImportError:
                self.fail("Grading on a Dask cluster needs Dask: pip install 'training-loop-course[cluster]'.")
            try:
                client = dask.connect(self.scheduler)
            except dask.ClusterError as error:
                self.fail(str(error))
            self.where = (f"on the Dask cluster at {self.scheduler} "
                          f"({len(client.scheduler_info(n_workers=-1)['workers'])} worker(s))")
            session = GradingSession(lambda size, cover: dask.DaskRunner(client, cover), progress)
            session.close = _also(session.close, client.close)
            return session
        from autograder.grade.backends.local import Pool
        self.where = f"with {self.jobs} job(s)"
        return GradingSession(lambda size, cover: Pool(max(1, min(size, self.jobs)), cover, launch=self.launch),
                              progress)

    def _report(self, session: GradingSession, seconds: float) -> None:
        if not session.outcomes and not session.failures:
            return
        print(summary_table(session.outcomes, session.failures))
        walls = sorted({outcome.walls for outcome in session.outcomes if outcome.walls})
        isolation = "; ".join(filter(None, [session.walls] + walls)) or "none needed"
        print(f"\nGraded {len(session.outcomes)} notebook(s) in {seconds:.1f} s {getattr(self, 'where', '')}; "
              f"isolation: {isolation}.")
        if self.then is not None and session.outcomes:
            print(self.then(self.coursedir, session.outcomes))


def _no_runner(size, cover):
    raise RuntimeError("nothing runs with --no-execute")


def _also(first, second):
    def both():
        first()
        second()
    return both


def main(argv: list[str] | None = None, launch=None, then=None) -> int:
    """Run the app as nbgrader runs its own; the exit code nbgrader would give."""
    app = GradeApp.instance()
    app.launch, app.then = launch, then
    try:
        app.initialize(argv)
        app.start()
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    finally:
        if launch is not None:
            launch.close()
        app.reset()  # one app per process, as nbgrader's own test helper does between its runs
    return 0
