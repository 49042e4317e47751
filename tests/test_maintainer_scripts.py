"""The maintainers' scripts: the set-up cell sync, and the stale-student-notebook check."""
import importlib.util
import shutil

import nbformat
import pytest

from course_helpers.first_cell import FIRST_CELL
from notebook_tools import ROOT, STUDENT_ROOT, student_generator


def script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def notebook_with_first_cell(path, source):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": True, "grade_id": "setup",
                                 "schema_version": 3}
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"), cell])
    nbformat.write(notebook, path)
    return path


def test_sync_replaces_an_old_set_up_cell_and_keeps_its_metadata(tmp_path):
    old = FIRST_CELL.replace("@v", "@v0.0.0-old-")
    path = notebook_with_first_cell(tmp_path / "lesson.ipynb", old)
    sync = script("sync_first_cell")
    assert sync.sync(path) is True
    cell = nbformat.read(path, as_version=4).cells[1]
    assert cell.source == FIRST_CELL and cell.metadata["nbgrader"]["grade_id"] == "setup"
    assert sync.sync(path) is False, "a second run changes nothing"


def test_sync_refuses_a_notebook_whose_first_code_cell_is_something_else(tmp_path):
    path = notebook_with_first_cell(tmp_path / "lesson.ipynb", "import torch")
    before = path.read_bytes()
    with pytest.raises(SystemExit, match="not the set-up cell"):
        script("sync_first_cell").sync(path)
    assert path.read_bytes() == before


def test_the_check_names_a_stale_a_missing_and_an_orphan_student_notebook(tmp_path):
    generator = student_generator()
    generated = tmp_path / "generated"
    committed = tmp_path / "committed"
    shutil.copytree(STUDENT_ROOT, generated)
    shutil.copytree(STUDENT_ROOT, committed)
    assert generator.differences(generated, committed) == []
    phases = sorted(p.name for p in committed.iterdir() if p.is_dir())
    stale, missing = phases[0], phases[1]
    with open(committed / stale / f"{stale}.ipynb", "a") as handle:
        handle.write(" ")
    (committed / missing / f"{missing}.ipynb").unlink()
    (committed / "99_gone").mkdir()
    assert generator.differences(generated, committed) == [
        f"notebooks/{stale}/{stale}.ipynb differs from what source/{stale}/ generates",
        f"notebooks/{missing}/{missing}.ipynb is missing",
        "notebooks/99_gone/ has no source in source/99_gone/ any more",
    ]
