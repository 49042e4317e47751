"""The grader reads nbgrader's configuration through nbgrader's own objects, and its own
limits are traits set in the same nbgrader_config.py."""
from types import SimpleNamespace

from traitlets.config import Config

from autograder.grade import nbgrader_steps
from autograder.grade.course import Course, Limits


def write_config(root, text: str) -> None:
    (root / "nbgrader_config.py").write_text("c = get_config()\n" + text)


def test_cell_limit_follows_nbgraders_own_timeout_settings(tmp_path):
    write_config(tmp_path, "c.ExecutePreprocessor.timeout = 45\n")
    assert Course.load(tmp_path).limits.cell_seconds == 45
    write_config(tmp_path, "c.ExecutePreprocessor.timeout = 45\nc.Execute.timeout = 12\n")
    assert Course.load(tmp_path).limits.cell_seconds == 12  # the more specific class wins, as in nbgrader
    write_config(tmp_path, "")
    assert Course.load(tmp_path).limits.cell_seconds == 30  # nbgrader's default
    write_config(tmp_path, "c.Execute.timeout = None\nc.GradingLimits.notebook_seconds = 90\n")
    assert Course.load(tmp_path).limits.cell_seconds == 90  # no cell limit: the notebook's bounds it


def test_the_graders_own_limits_are_traits(tmp_path):
    write_config(tmp_path, "c.GradingLimits.memory_mb = 512\nc.GradingLimits.tmp_mb = 64\n"
                           "c.GradingLimits.cell_seconds = 7\nc.Execute.timeout = 100\n")
    limits = Course.load(tmp_path).limits
    assert (limits.memory_bytes, limits.tmp_bytes, limits.cell_seconds) == (512 * 2 ** 20, 64 * 2 ** 20, 7)
    assert Limits.from_config(Config()).memory_bytes == 2048 * 2 ** 20


def fake_course(config: Config):
    from nbgrader.coursedir import CourseDirectory
    return SimpleNamespace(config=config, coursedir=CourseDirectory(config=config), db_url="sqlite:///x.db")


def test_the_configured_autograde_list_is_used_not_a_copy():
    config = Config()
    assert nbgrader_steps.executes(fake_course(config))
    assert nbgrader_steps.execution_step(fake_course(config)).timeout == 30
    config.Autograde.autograde_preprocessors = ["nbgrader.preprocessors.SaveAutoGrades"]
    assert not nbgrader_steps.executes(fake_course(config))
    assert nbgrader_steps.execution_step(fake_course(config)) is None
    config.Autograde.autograde_preprocessors = ["nbgrader.preprocessors.IgnorePattern",
                                                "nbgrader.preprocessors.Execute"]
    config.Execute.skip_cells_with_tag = "no-grading"
    step = nbgrader_steps.execution_step(fake_course(config))
    assert step.skip_cells_with_tag == "no-grading"
