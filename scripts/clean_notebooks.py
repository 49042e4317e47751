"""Strip outputs, execution counts and saved widget state from course notebooks.

Notebooks are committed clean so diffs show only what a person wrote, and so no
stale widget state pretends to be live. Usage: python scripts/clean_notebooks.py [PATH ...]
"""
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def clean(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return the notebook without outputs, execution counts or widget state."""
    notebook.metadata.pop("widgets", None)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                       "name": "python3"}
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return notebook


def main(paths: list[str]) -> None:
    targets = [Path(p) for p in paths] or sorted((ROOT / "source").glob("*/*.ipynb"))
    for path in targets:
        notebook = nbformat.read(path, as_version=4)
        nbformat.write(clean(notebook), path)
        print(f"cleaned {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
