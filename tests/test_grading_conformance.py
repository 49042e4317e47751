"""Any nbgrader course is scored as nbgrader scores it: nbgrader's own example course and
its own autograde test notebooks, graded by plain `nbgrader autograde` and by
`python -m autograder grade`, must leave the same gradebook (every notebook's score and
manual-grading flag, every cell's too). They hold written (markdown) answers, a task
cell, code answers graded by hand, edited test and locked cells, cheat attempts, and
no loop exercise at all. Fixtures: tests/nbgrader_fixtures (nbgrader's, BSD licence).
"""
import contextlib
import io
import shutil
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder.grade import cli
from grading_fixtures import fake_class as fake

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "nbgrader_fixtures"
VARIANTS = ["unchanged", "changed", "cheat-attempt", "cheat-attempt-alternative", "grade-cell-changed",
            "locked-cell-changed"]
CONFIG = 'c = get_config()\nc.CourseDirectory.course_id = "{course}"\nc.CourseDirectory.db_url = "sqlite:///gradebook.db"\n'


def user_guide_course(root: Path) -> Path:
    """nbgrader's user-guide course: ps1 (problem1, problem2), students bitdiddle and hacker."""
    shutil.copytree(FIXTURES / "user_guide", root)
    (root / "nbgrader_config.py").write_text(CONFIG.format(course="example"))
    fake.nbgrader(root, "generate_assignment", "ps1", "--force")
    return root


def autograde_tests_course(root: Path, extra_config: str = "", variants: list[str] = VARIANTS) -> Path:
    """nbgrader's autograde test notebooks: the source is submitted-unchanged, as in its test_grade."""
    (root / "source" / "ps1").mkdir(parents=True)
    shutil.copy(FIXTURES / "autograde_tests" / "submitted-unchanged.ipynb", root / "source" / "ps1" / "p1.ipynb")
    (root / "nbgrader_config.py").write_text(CONFIG.format(course="autograde-tests") + extra_config)
    fake.nbgrader(root, "generate_assignment", "ps1", "--force")
    for variant in variants:
        folder = root / "submitted" / variant / "ps1"
        folder.mkdir(parents=True)
        shutil.copy(FIXTURES / "autograde_tests" / f"submitted-{variant}.ipynb", folder / "p1.ipynb")
    return root


def gradebook(root: Path, course_id: str) -> dict:
    """{(student, notebook): (score, max score, needs manual grade, {cell: (auto score, needs manual grade)})}"""
    found = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course_id) as gb:
        for submission in gb.assignment_submissions("ps1"):
            for notebook in submission.notebooks:
                cells = {grade.name: (grade.auto_score, grade.needs_manual_grade) for grade in notebook.grades}
                found[(submission.student.id, notebook.name)] = (
                    notebook.score, notebook.max_score, notebook.needs_manual_grade, cells)
    return found


def grade_both_ways(course: Path, tmp_path: Path) -> tuple[Path, Path]:
    plain = tmp_path / "plain"
    shutil.copytree(course, plain)
    fake.nbgrader(plain, "autograde", "ps1", timeout=600)
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["ps1", "--root", str(course), "--jobs", "2", "--quiet"]) == 0
    return plain, course


def test_user_guide_course_scores_and_flags_equal_nbgrader(tmp_path):
    ours = user_guide_course(tmp_path / "ours")
    plain, ours = grade_both_ways(ours, tmp_path)
    expected = gradebook(plain, "example")
    assert gradebook(ours, "example") == expected
    # nbgrader's own documented results, so the comparison is not between two broken runs
    assert expected[("bitdiddle", "problem1")][:3] == (1.5, 10.0, True)
    assert expected[("hacker", "problem1")][:3] == (3.0, 10.0, True)
    assert expected[("hacker", "problem2")][3] == {"part-a": (None, True), "part-b": (None, True)}


def test_autograde_test_notebooks_scores_and_flags_equal_nbgrader(tmp_path):
    ours = autograde_tests_course(tmp_path / "ours")
    plain, ours = grade_both_ways(ours, tmp_path)
    expected = gradebook(plain, "autograde-tests")
    assert set(expected) == {(variant, "p1") for variant in VARIANTS}
    assert gradebook(ours, "autograde-tests") == expected
    # nbgrader's own test_grade expectations
    assert expected[("unchanged", "p1")][:3] == (1.0, 7.0, False)
    assert expected[("changed", "p1")][:3] == (2.0, 7.0, True)
    assert expected[("cheat-attempt", "p1")][:3] == (1.0, 7.0, True)


def test_nbgraders_configured_steps_and_timeout_take_effect(tmp_path):
    """An instructor's `c.Autograde.*` list and `c.ExecutePreprocessor.timeout` change
    what the grader does, as they change what nbgrader does: a course whose autograde
    list has no execution step scores the code cells as never run (full marks, as
    nbgrader does then), and the cell limit follows ExecutePreprocessor.timeout."""
    extra = ("from nbgrader.preprocessors import SaveAutoGrades, CheckCellMetadata\n"
             "c.Autograde.autograde_preprocessors = [SaveAutoGrades, CheckCellMetadata]\n"
             "c.ExecutePreprocessor.timeout = 17\n"
             "c.GradingLimits.memory_mb = 900\n")
    ours = autograde_tests_course(tmp_path / "ours", extra, ["unchanged", "changed"])
    from autograder.grade.course import Course
    limits = Course.load(ours).limits
    assert limits.cell_seconds == 17 and limits.memory_bytes == 900 * 1024 ** 2
    plain, ours = grade_both_ways(ours, tmp_path)
    expected = gradebook(plain, "autograde-tests")
    assert expected[("unchanged", "p1")][3]["bar"] == (1.0, False)  # not run: `assert a == 1` never failed
    assert gradebook(ours, "autograde-tests") == expected
