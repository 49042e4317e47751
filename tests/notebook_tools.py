"""Reading and running course notebooks from tests: one place for the nbformat details."""
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_ROOT = ROOT / "source"


def source_notebooks() -> list[Path]:
    """Every phase notebook: source/<assignment>/<assignment>.ipynb, found by globbing."""
    return sorted(NOTEBOOK_ROOT.glob("*/*.ipynb"))


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
