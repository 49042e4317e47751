"""The grading command is nbgrader's app: nbgrader's configuration, read by nbgrader's own
objects, with the grader's own options as traits beside it (one source of defaults)."""
import pytest
from nbgrader.apps.autogradeapp import AutogradeApp
from nbgrader.preprocessors import Execute, IgnorePattern, SaveAutoGrades
from traitlets.config import Config

from autograder.grade.app.grade_app import GradeApp
from autograder.grade.course.settings import GradingLimits
from autograder.grade.steps import ExplainScores, IsolatedExecute


@pytest.fixture
def app(tmp_path, monkeypatch):
    """An initialised GradeApp in a course folder whose nbgrader_config.py the test writes."""
    monkeypatch.chdir(tmp_path)
    made = []

    def initialized(config: str = "", *argv: str) -> GradeApp:
        (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n" + config)
        while made:
            made.pop().reset()  # one app per process, as nbgrader's own tests run theirs
        instance = GradeApp.instance()
        made.append(instance)
        instance.initialize(["ps1", *argv])
        return instance
    yield initialized
    for instance in made:
        instance.reset()


def limits_of(app: GradeApp):
    return GradingLimits(parent=app).for_job(IsolatedExecute(parent=app).timeout)


def test_it_is_nbgraders_autograde_app_with_every_option_of_it():
    assert issubclass(GradeApp, AutogradeApp)
    for name in ("student", "notebook", "db", "course-dir", "assignment", "course", "log-level"):
        assert GradeApp.aliases[name] == AutogradeApp.aliases[name], name
    for name in ("force", "f", "create", "no-execute", "quiet", "debug"):
        assert GradeApp.flags[name] == AutogradeApp.flags[name], name
    assert GradeApp.aliases["jobs"] == GradeApp.aliases["j"] == "GradeApp.jobs"
    assert GradeApp.aliases["scheduler"] == "GradeApp.scheduler"


def test_nbgraders_options_and_the_graders_own_reach_the_app(app):
    made = app("c.GradeApp.jobs = 5\nc.GradeApp.scheduler = 'tcp://there:8786'\n",
               "--student=hacker", "--notebook=p1", "--db=sqlite:///other.db", "-f", "-j", "3")
    assert (made.jobs, made.scheduler) == (3, "tcp://there:8786")  # the command line wins, as in nbgrader
    assert (made.coursedir.student_id, made.coursedir.notebook_id, made.coursedir.db_url) == (
        "hacker", "p1", "sqlite:///other.db")
    assert made.config.BaseConverter.force is True


def test_cell_limit_follows_nbgraders_own_timeout_settings(app):
    assert limits_of(app("c.ExecutePreprocessor.timeout = 45\n")).cell_seconds == 45
    assert limits_of(app("c.ExecutePreprocessor.timeout = 45\nc.Execute.timeout = 12\n")).cell_seconds == 12
    assert limits_of(app("")).cell_seconds == 30  # nbgrader's default
    assert limits_of(app("c.Execute.timeout = None\nc.GradingLimits.notebook_seconds = 90\n")).cell_seconds == 90
    assert limits_of(app("", "--Execute.timeout=2")).cell_seconds == 2  # as nbgrader's own test sets it


def test_the_graders_own_limits_are_traits_with_one_source_of_defaults(app):
    limits = limits_of(app("c.GradingLimits.memory_mb = 512\nc.GradingLimits.tmp_mb = 64\n"
                           "c.GradingLimits.cell_seconds = 7\nc.Execute.timeout = 100\n"))
    assert (limits.memory_bytes, limits.tmp_bytes, limits.cell_seconds) == (512 * 2 ** 20, 64 * 2 ** 20, 7)
    assert limits_of(app("", "--GradingLimits.memory_mb=1024")).memory_bytes == 1024 * 2 ** 20
    defaults = GradingLimits(config=Config()).for_job(None)
    assert defaults.memory_bytes == GradingLimits.memory_mb.default_value * 2 ** 20
    assert defaults.cell_seconds == defaults.notebook_seconds == GradingLimits.notebook_seconds.default_value


def test_no_execute_turns_the_isolated_step_off_as_it_turns_off_nbgraders(app):
    assert IsolatedExecute(parent=app("")).enabled
    assert not IsolatedExecute(parent=app("", "--no-execute")).enabled
    assert issubclass(IsolatedExecute, Execute)


class InstructorsExecute(Execute):
    """An instructor's own execution step: the grading command still runs it walled in."""


def test_the_configured_autograde_steps_are_kept_with_the_execution_step_isolated(app):
    made = app("")
    default = made._isolated(["nbgrader.preprocessors.Execute", IgnorePattern, SaveAutoGrades])
    assert default == [IsolatedExecute, IgnorePattern, SaveAutoGrades, ExplainScores]
    assert made._isolated([InstructorsExecute, SaveAutoGrades]) == [IsolatedExecute, SaveAutoGrades, ExplainScores]
    assert made._isolated([SaveAutoGrades]) == [SaveAutoGrades, ExplainScores]  # no execution: none added
    course_list = [IsolatedExecute, SaveAutoGrades, ExplainScores]  # the course's own nbgrader_config.py
    assert made._isolated(course_list) == course_list
