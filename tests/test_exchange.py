"""nbgrader's whole exchange works from the repository, for a course on one machine.

In a scratch copy of the course, with the repository's nbgrader_config.py unchanged, an
instructor releases phase 1, a learner fetches it into her own folder, fills in one
exercise and submits, the instructor collects, autogrades and releases feedback, and the
learner fetches her feedback: every step through nbgrader's own commands and exchange
folder. On one machine nbgrader names the learner after the account that runs it.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import get_username

from notebook_tools import ROOT, cell_by_grade_id, nbgrader_meta

pytestmark = pytest.mark.slow
ASSIGNMENT = "01_tensors"
NBGRADER = str(Path(sys.executable).parent / "nbgrader")


def copy_course(folder: Path) -> Path:
    course = folder / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for part in ("source", "notebooks"):
        shutil.copytree(ROOT / part, course / part, ignore=shutil.ignore_patterns("runs", "checkpoints", "*.pt"))
    return course


def nbgrader(*args, cwd: Path, options=()) -> str:
    result = subprocess.run([NBGRADER, *args, *options], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def fill_in_first_exercise(student: Path, source: Path) -> str:
    """Put the source's solution into the first solution cell of the fetched notebook."""
    solved = nbformat.read(source, as_version=4)
    notebook = nbformat.read(student, as_version=4)
    grade_id = next(nbgrader_meta(cell)["grade_id"] for cell in solved.cells
                    if nbgrader_meta(cell).get("solution") and cell.cell_type == "code")
    solution = cell_by_grade_id(solved, grade_id).source
    cell_by_grade_id(notebook, grade_id).source = "\n".join(
        line for line in solution.splitlines() if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)
    nbformat.write(notebook, student)
    return grade_id


def test_release_fetch_submit_collect_autograde_feedback(tmp_path):
    course = copy_course(tmp_path)
    exchange = course / "exchange"
    learner = get_username()
    home = tmp_path / "learner"
    home.mkdir()
    # A learner's nbgrader knows the course and the exchange from the machine's global
    # nbgrader_config.py (docs/jupyterhub/); here the same two settings come as options.
    as_learner = (f"--Exchange.root={exchange}", "--CourseDirectory.course_id=training-loop")

    nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=course)
    nbgrader("release_assignment", ASSIGNMENT, cwd=course)
    released = exchange / "training-loop" / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert released.read_bytes() == (ROOT / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes(), \
        "nbgrader must hand out the committed student notebook"

    nbgrader("fetch_assignment", ASSIGNMENT, cwd=home, options=as_learner)
    fetched = home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    solved = fill_in_first_exercise(fetched, course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    nbgrader("submit", ASSIGNMENT, cwd=home, options=as_learner)
    assert any((exchange / "training-loop" / "inbound").glob(f"{learner}+{ASSIGNMENT}+*"))

    nbgrader("collect", ASSIGNMENT, cwd=course)
    assert (course / "submitted" / learner / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()
    nbgrader("autograde", ASSIGNMENT, "--create", cwd=course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, learner)
        score, max_score = submission.score, submission.max_score
    assert 0 < score < max_score, f"one exercise ({solved}) filled in must score some points, not all: {score}/{max_score}"

    # nbgrader's own feedback pages show hidden tests; the course's grade command writes
    # its own. release_feedback hands out whatever lies in feedback/.
    nbgrader("generate_feedback", ASSIGNMENT, cwd=course)
    nbgrader("release_feedback", ASSIGNMENT, cwd=course)
    nbgrader("fetch_feedback", ASSIGNMENT, cwd=home, options=as_learner)
    (page,) = (home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")
    text = page.read_text()
    assert f"{score:g}" in text and f"{max_score:g}" in text, "the fetched feedback must show the learner's score"


def test_formgrader_sees_the_exchange_that_make_lab_creates(tmp_path):
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    course = copy_course(tmp_path)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    assert Path(config.Exchange.root) == course / "exchange", "the exchange must lie next to nbgrader_config.py"
    before = NbGraderAPI(config=config).exchange_is_functional
    subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "exchange"], cwd=course, check=True, timeout=60)
    after = NbGraderAPI(config=config).exchange_is_functional
    assert (before, after) == (False, True), "formgrader would warn that release and collect are unavailable"
    assert oct((course / "exchange").stat().st_mode & 0o777) == "0o777", "every account must reach the exchange"
