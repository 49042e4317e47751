"""Any nbgrader course is scored as nbgrader scores it, any submission too.

Graded by plain `nbgrader autograde` and by `python -m autograder grade`, every course
here must leave the same gradebook: every notebook's score and manual-grading flag,
every cell's auto score, manual score, flag and comment, and the same autograded
notebooks (or the same failures). They hold written (markdown) answers, a task cell,
code answers graded by hand, edited test and locked cells, cheat attempts, no loop
exercise at all; and submissions that do not match their source: changed metadata,
cells deleted or added, a renamed grade id, another source's notebook, no metadata.
The flags are never the grader's own: nbgrader's steps set them in both runs.
Fixtures: tests/nbgrader_fixtures (nbgrader's, BSD licence) and the test notebooks
nbgrader ships in its wheel (nbgrader/tests/apps/files).
"""
import copy
import shutil
from pathlib import Path

import nbformat
import nbgrader.tests.apps as nbgrader_tests
import pytest
from nbgrader.api import Gradebook

from grading_fixtures import fake_class as fake

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "nbgrader_fixtures"
NBGRADERS_FILES = Path(nbgrader_tests.__file__).parent / "files"
VARIANTS = ["unchanged", "changed", "cheat-attempt", "cheat-attempt-alternative", "grade-cell-changed",
            "locked-cell-changed"]
CONFIG = 'c = get_config()\nc.CourseDirectory.course_id = "{course}"\nc.CourseDirectory.db_url = "sqlite:///gradebook.db"\n'


def user_guide_course(root: Path) -> Path:
    """nbgrader's user-guide course: ps1 (problem1, problem2), students bitdiddle and hacker."""
    shutil.copytree(FIXTURES / "user_guide", root)
    (root / "nbgrader_config.py").write_text(CONFIG.format(course="example"))
    fake.generate(root, "ps1")
    return root


def autograde_tests_course(root: Path, extra_config: str = "", variants: list[str] = VARIANTS) -> Path:
    """nbgrader's autograde test notebooks: the source is submitted-unchanged, as in its test_grade."""
    (root / "source" / "ps1").mkdir(parents=True)
    shutil.copy(FIXTURES / "autograde_tests" / "submitted-unchanged.ipynb", root / "source" / "ps1" / "p1.ipynb")
    (root / "nbgrader_config.py").write_text(CONFIG.format(course="autograde-tests") + extra_config)
    fake.generate(root, "ps1")
    for variant in variants:
        folder = root / "submitted" / variant / "ps1"
        folder.mkdir(parents=True)
        shutil.copy(FIXTURES / "autograde_tests" / f"submitted-{variant}.ipynb", folder / "p1.ipynb")
    return root


def gradebook(root: Path) -> dict:
    """Everything nbgrader's autograde writes: per (student, notebook) the notebook's score,
    max score and flag, each grade's (auto, manual, flag), each comment's auto comment; and
    which autograded notebooks exist."""
    found = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for assignment in gb.assignments:
            for submission in gb.assignment_submissions(assignment.name):
                for notebook in submission.notebooks:
                    found[(submission.student.id, notebook.name)] = (
                        notebook.score, notebook.max_score, notebook.needs_manual_grade,
                        {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade) for g in notebook.grades},
                        {c.name: c.auto_comment for c in notebook.comments})
    found["autograded"] = sorted(str(path.relative_to(root)) for path in (root / "autograded").glob("*/*/*.ipynb"))
    return found


def grade_both_ways(course: Path, tmp_path: Path, assignment: str = "ps1") -> tuple[dict, dict, int]:
    """(nbgrader's gradebook, the grader's, the exit status both gave)."""
    plain = tmp_path / "plain"
    shutil.copytree(course, plain)
    nbgraders = fake.nbgrader(plain, "autograde", assignment, timeout=900, check=False)
    ours = fake.grade(course, "--jobs", "2", assignment=assignment)
    assert ours.returncode == nbgraders.returncode, (ours.stdout + ours.stderr)[-4000:]
    return gradebook(plain), gradebook(course), nbgraders.returncode


def test_user_guide_course_scores_and_flags_equal_nbgrader(tmp_path):
    expected, ours, _ = grade_both_ways(user_guide_course(tmp_path / "ours"), tmp_path)
    assert ours == expected
    # nbgrader's own documented results, so the comparison is not between two broken runs
    assert expected[("bitdiddle", "problem1")][:3] == (1.5, 10.0, True)
    assert expected[("hacker", "problem1")][:3] == (3.0, 10.0, True)
    assert {name: flag for name, (_, _, flag) in expected[("hacker", "problem2")][3].items()} == {
        "part-a": True, "part-b": True}


def test_autograde_test_notebooks_scores_and_flags_equal_nbgrader(tmp_path):
    expected, ours, _ = grade_both_ways(autograde_tests_course(tmp_path / "ours"), tmp_path)
    assert {key for key in expected if key != "autograded"} == {(variant, "p1") for variant in VARIANTS}
    assert ours == expected
    # nbgrader's own test_grade expectations
    assert expected[("unchanged", "p1")][:3] == (1.0, 7.0, False)
    assert expected[("changed", "p1")][:3] == (2.0, 7.0, True)
    assert expected[("cheat-attempt", "p1")][:3] == (1.0, 7.0, True)


def test_a_course_without_an_execution_step_is_scored_as_nbgrader_scores_it(tmp_path):
    """An instructor's `c.Autograde.*` list changes what the grader does as it changes what
    nbgrader does: a list with no execution step runs nothing (the code cells keep the
    outputs they were submitted with: none), so `assert a == 1` never fails."""
    extra = ("from nbgrader.preprocessors import SaveAutoGrades, CheckCellMetadata\n"
             "c.Autograde.autograde_preprocessors = [SaveAutoGrades, CheckCellMetadata]\n")
    expected, ours, _ = grade_both_ways(autograde_tests_course(tmp_path / "ours", extra, ["unchanged", "changed"]),
                                        tmp_path)
    assert expected[("unchanged", "p1")][3]["bar"][::2] == (1.0, False)  # not run: never failed
    assert ours == expected


# -- submissions that do not match their source -----------------------------------------------

def cells_with(nb, **wanted):
    return [cell for cell in nb.cells if all(cell.metadata.get("nbgrader", {}).get(k) == v for k, v in wanted.items())]


def metadata_changed(nb):
    grade = cells_with(nb, grade=True, solution=False)[0]
    grade.metadata.nbgrader["points"] = 10.0
    answer = cells_with(nb, solution=True, grade=True)[0]
    answer.metadata.nbgrader["grade"] = False
    cells_with(nb, solution=True)[0].metadata.nbgrader["locked"] = True
    return nb


def one_test_deleted(nb):
    nb.cells.remove(cells_with(nb, grade=True, solution=False)[-1])
    return nb


def cells_added(nb):
    nb.cells.insert(3, nbformat.v4.new_code_cell("squares = lambda n: [i * i for i in range(1, n + 1)]"))
    nb.cells.append(nbformat.v4.new_markdown_cell("An extra note", metadata={"nbgrader": {
        "grade": True, "solution": True, "locked": False, "grade_id": "my_own", "points": 5, "schema_version": 3}}))
    return nb


def a_test_id_twice(nb):
    """A second cell with a test's grade id: nbgrader overwrites it with empty metadata, its
    own metadata check then stops the whole run there, and it exits 1."""
    twin = copy.deepcopy(cells_with(nb, grade=True, solution=False)[0])
    twin.source = "assert False"
    nb.cells.append(twin)
    return nb


def grade_id_renamed(nb):
    cells_with(nb, grade=True, solution=False)[0].metadata.nbgrader["grade_id"] = "renamed"
    return nb


def cell_type_changed(nb):
    cell = cells_with(nb, grade=True, solution=True)[0]
    nb.cells[nb.cells.index(cell)] = nbformat.v4.new_code_cell(cell.source, metadata=cell.metadata)
    return nb


def no_metadata(nb):
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    return nb


SUBMISSIONS = {
    "release": lambda nb: nb, "metadata-changed": metadata_changed, "test-deleted": one_test_deleted,
    "cells-added": cells_added, "grade-id-renamed": grade_id_renamed, "cell-type-changed": cell_type_changed,
    "no-metadata": no_metadata,
    "zz-test-id-twice": a_test_id_twice,  # graded last: nbgrader stops there
}
OTHER_SOURCES = {"source-itself": "test.ipynb", "other-source": "test-hidden-tests.ipynb",
                 "unrelated-source": "submitted-changed.ipynb", "empty": None}


def mismatched_course(root: Path, extra_config: str) -> Path:
    """nbgrader's own test.ipynb as the source, submissions made from its release by edits,
    and notebooks of other sources submitted in its place."""
    (root / "source" / "ps1").mkdir(parents=True)
    shutil.copy(NBGRADERS_FILES / "test.ipynb", root / "source" / "ps1" / "p1.ipynb")
    (root / "nbgrader_config.py").write_text(CONFIG.format(course="mismatched") + extra_config)
    fake.generate(root, "ps1")
    release = nbformat.read(str(root / "release" / "ps1" / "p1.ipynb"), as_version=4)
    for student, edit in SUBMISSIONS.items():
        folder = root / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        nbformat.write(edit(nbformat.from_dict(copy.deepcopy(release))), str(folder / "p1.ipynb"))
    for student, name in OTHER_SOURCES.items():
        folder = root / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        if name is None:
            nbformat.write(nbformat.v4.new_notebook(), str(folder / "p1.ipynb"))
        else:
            shutil.copy(NBGRADERS_FILES / name, folder / "p1.ipynb")
    return root


@pytest.mark.parametrize("put_back", [False, True], ids=["deleted-tests-left-out", "deleted-tests-put-back"])
def test_submissions_that_do_not_match_their_source_are_scored_as_nbgrader_scores_them(tmp_path, put_back):
    extra = f"c.OverwriteCells.add_missing_cells = {put_back}\n"
    expected, ours, code = grade_both_ways(mismatched_course(tmp_path / "ours", extra), tmp_path)
    graded = {student for student, _ in (key for key in expected if key != "autograded")}
    assert graded == set(SUBMISSIONS) | set(OTHER_SOURCES)
    assert ours == expected, {key: (expected.get(key), ours.get(key)) for key in expected if expected[key] != ours.get(key)}
    # the comparison is between real gradings: the untouched release scores 0 with nothing to grade by
    # hand, the source itself scores its tests and leaves its written answers flagged, and a submission
    # nbgrader cannot grade (a changed grade id) is failed with every cell flagged
    assert expected[("release", "p1")][:3] == (0.0, 6.0, False)
    assert expected[("source-itself", "p1")][:3] == (3.0, 6.0, True)
    assert all(flag for _, _, flag in expected[("grade-id-renamed", "p1")][3].values())
    assert code == 1  # the test id twice stops both runs, after every other submission is graded
