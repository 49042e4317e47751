"""Reading and running course notebooks from tests: one place for the nbformat details."""
import functools
import importlib.util
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_ROOT = ROOT / "source"
STUDENT_ROOT = ROOT / "notebooks"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
RELEASE_ERRORS = {"NotImplementedError", "AssertionError"}  # what a stub may raise in a test cell


def source_notebooks() -> list[Path]:
    """Every phase notebook: source/<assignment>/<assignment>.ipynb, found by globbing."""
    return sorted(NOTEBOOK_ROOT.glob("*/*.ipynb"))


def student_notebook(source: Path) -> Path:
    """Where the student version of a source notebook is committed."""
    return STUDENT_ROOT / source.parent.name / source.name


def student_generator():
    """scripts/make_student_notebooks.py as a module (the one command that makes them)."""
    spec = importlib.util.spec_from_file_location("make_student_notebooks",
                                                  ROOT / "scripts" / "make_student_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell) -> bool:
    """A graded code cell that is not a solution: an autograded test."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def execute(path: Path, timeout: int = 120, kernel_name: str = "python3") -> nbformat.NotebookNode:
    """Run a notebook top to bottom in its own folder, keeping going after errors."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name=kernel_name, allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return notebook


@functools.lru_cache(maxsize=None)
def executed_student_notebook(source: Path) -> nbformat.NotebookNode:
    """The student version of `source`, run top to bottom once per test session (read it, don't change it)."""
    return execute(student_notebook(source))


def errors(cell) -> list[dict]:
    """The error outputs of one executed cell."""
    return [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]


def stderr_text(cell) -> str:
    return "".join(out.get("text", "") for out in cell.get("outputs", [])
                   if out.get("output_type") == "stream" and out.get("name") == "stderr")


def headings(notebook) -> set[str]:
    """The `##` section headings of a notebook (what diagnoses link to)."""
    return {line[3:].strip() for cell in notebook.cells if cell.cell_type == "markdown"
            for line in cell.source.splitlines() if line.startswith("## ")}


def cell_by_grade_id(notebook, grade_id):
    """The one cell with this nbgrader grade_id (an assertion error if not exactly one)."""
    found = [cell for cell in notebook.cells if nbgrader_meta(cell).get("grade_id") == grade_id]
    assert len(found) == 1, f"expected exactly one cell with grade_id {grade_id!r}, found {len(found)}"
    return found[0]


def run_problems(notebook, student: bool) -> list[str]:
    """What went wrong running a notebook top to bottom, as readable lines.

    A source notebook must run without an error anywhere. A student notebook may fail only
    in graded test cells (its stubs raise NotImplementedError), and each such cell must
    fail there, or it tests nothing. No graded test cell may write to stderr (nbgrader
    scores it 0), and no other cell may either.
    """
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        failures, stderr = errors(cell), stderr_text(cell)
        names = {failure["ename"] for failure in failures}
        where = nbgrader_meta(cell).get("grade_id") or f"cell {index}"
        if student and is_test_cell(cell):
            if not failures:
                problems.append(f"test cell {where} passes on the untouched stubs, so it tests nothing")
            elif not names <= RELEASE_ERRORS:
                problems.append(f"test cell {where} failed with {sorted(names)}, not only {sorted(RELEASE_ERRORS)}")
        elif failures or stderr:
            detail = f"{failures[0]['ename']}: {failures[0]['evalue']}" if failures else f"stderr: {stderr}"
            problems.append(f"{where} failed: {detail[:500]}\n{cell.source[:300]}")
    return problems


def static_view_problems(notebook) -> list[str]:
    """Outputs that a static view (GitHub, nbviewer, exported HTML) would show broken.

    A widget output must carry a picture or HTML beside the widget view, and no text
    fallback may be a widget's own repr (`VBox(children=...)`) or cut short (`…`).
    """
    problems = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = data.get("text/plain", "")
            if WIDGET_VIEW in data and not {"image/png", "text/html"} & set(data):
                problems.append(f"cell {index}: a widget with no static picture or HTML; static views show {text[:120]!r}")
            if text.endswith("\u2026") or "(children=" in text or "layout=Layout(" in text:
                problems.append(f"cell {index}: a widget's text is cut short or raw: {text[:120]!r}")
    return problems
