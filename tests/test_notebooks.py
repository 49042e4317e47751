"""Course CI: every source notebook under source/ is checked here, found by itself.

For each phase notebook (and its student version under notebooks/):
- it is committed clean, its nbgrader metadata is valid, and it opens with the set-up cell;
- the source (solutions in) runs top to bottom and every test cell, hidden ones included,
  passes — judged by nbgrader's own Validator (`nbgrader validate` exits 0 even on failure);
- the committed student notebook is exactly what `nbgrader generate_assignment` makes of
  the source now (`make student-notebooks`), so nobody forgot to regenerate it;
- the student notebook runs top to bottom, fails only in graded test cells
  (NotImplementedError / AssertionError), every graded test cell does fail on the
  untouched stubs, so no test is vacuous, and static views of its outputs read whole.
"""
import re

import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.validator import Validator

from course_helpers.first_cell import FIRST_CELL
from notebook_tools import (ROOT, STUDENT_ROOT, executed_student_notebook, is_test_cell, nbgrader_meta,
                            run_problems, source_notebooks, static_view_problems, student_generator,
                            student_notebook)

NOTEBOOKS = source_notebooks()
IDS = [path.parent.name for path in NOTEBOOKS]
GRADE_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def test_course_has_notebooks():
    assert NOTEBOOKS, "no notebooks found under source/*/"
    for path in NOTEBOOKS:
        assert path.stem == path.parent.name, f"{path}: the notebook must be named like its folder"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_clean(path):
    notebook = nbformat.read(path, as_version=4)
    assert "widgets" not in notebook.metadata, f"{path.name} holds saved widget state"
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3"
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {index} has outputs"
            assert cell.execution_count is None, f"{path.name} cell {index} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_nbgrader_metadata(path):
    notebook = nbformat.read(path, as_version=4)
    try:
        MetadataValidator().validate_nb(notebook)
    except ValidationError as error:
        pytest.fail(f"{path.name}: invalid nbgrader metadata: {error}")
    seen = set()
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        source = cell.source
        if meta:
            assert meta.get("schema_version") == 3, f"{path.name}: schema_version must be 3"
            grade_id = meta.get("grade_id", "")
            assert GRADE_ID.match(grade_id), f"{path.name}: bad grade_id {grade_id!r}"
            assert grade_id not in seen, f"{path.name}: duplicate grade_id {grade_id!r}"
            seen.add(grade_id)
            if meta.get("grade"):
                assert meta.get("points", 0) > 0, f"{path.name}: {grade_id} is graded but worth 0 points"
        if "BEGIN HIDDEN TESTS" in source or "END HIDDEN TESTS" in source:
            assert is_test_cell(cell), f"{path.name}: hidden-test markers outside a test cell:\n{source[:200]}"
            assert source.count("### BEGIN HIDDEN TESTS") == source.count("### END HIDDEN TESTS")
        if "BEGIN SOLUTION" in source:
            assert meta.get("solution"), f"{path.name}: solution markers outside a solution cell:\n{source[:200]}"
        if meta.get("solution") and cell.cell_type == "code":
            assert "### BEGIN SOLUTION" in source and "### END SOLUTION" in source, \
                f"{path.name}: solution cell {meta.get('grade_id')} lacks solution markers"
    assert any(is_test_cell(cell) for cell in notebook.cells), f"{path.name} has no autograded test"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_first_code_cell_is_the_set_up_cell(path):
    notebook = nbformat.read(path, as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert first.source == FIRST_CELL, (f"{path.name}: the first code cell must be "
                                        "course_helpers.first_cell.FIRST_CELL, unchanged")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_source_runs_and_every_test_passes(path):
    results = Validator(validate_all=True).validate(str(path))
    problems = []
    for kind, cells in results.items():
        for cell in cells:
            detail = cell.get("raw_error") or ""
            problems.append(f"[{kind}] {cell.get('source', '')[:300]}\n{detail[-1500:]}")
    assert not problems, f"{path.name} does not validate:\n\n" + "\n\n".join(problems)


@pytest.fixture(scope="session")
def regenerated(tmp_path_factory):
    """The student notebooks as `make student-notebooks` would write them now (a scratch course)."""
    generator = student_generator()
    return generator, generator.generate(tmp_path_factory.mktemp("students"))


def test_every_student_folder_has_a_source():
    phases = {path.parent.name for path in NOTEBOOKS}
    stale = [folder.name for folder in STUDENT_ROOT.iterdir() if folder.is_dir() and folder.name not in phases]
    assert not stale, f"notebooks/{stale} have no source under source/: run `make student-notebooks`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_student_notebook_is_what_its_source_generates(path, regenerated):
    generator, folder = regenerated
    problems = [line for line in generator.differences(folder, STUDENT_ROOT)
                if line.startswith(f"notebooks/{path.parent.name}/")]
    assert not problems, "\n".join(problems) + "\nRun `make student-notebooks` and commit notebooks/."


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_student_notebook_fails_only_in_graded_cells(path):
    student = student_notebook(path)
    text = student.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text, f"{student.relative_to(ROOT)} still contains {marker!r}"
    notebook = executed_student_notebook(path)
    problems = run_problems(notebook, student=True) + static_view_problems(notebook)
    assert not problems, f"{student.relative_to(ROOT)}:\n" + "\n\n".join(problems)
