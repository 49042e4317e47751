"""Make every source notebook open with the current set-up cell (`course_helpers.first_cell`).

The set-up cell names the release it installs in Colab, so it changes with each version;
this script writes it into the first code cell of each `source/*/*.ipynb` (or the paths
given), keeping that cell's nbgrader metadata. `make student-notebooks` runs it first.
"""
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from course_helpers.first_cell import FIRST_CELL  # noqa: E402

HEADING = FIRST_CELL.splitlines()[0]  # the set-up cell's first line, the same in every version


def sync(path: Path) -> bool:
    """Rewrite the notebook's first code cell if it differs; True when it changed."""
    notebook = nbformat.read(path, as_version=4)
    first = next((cell for cell in notebook.cells if cell.cell_type == "code"), None)
    if first is None or not first.source.startswith(HEADING):
        raise SystemExit(f"{path}: the first code cell is not the set-up cell (it must start with {HEADING!r}); "
                         "nothing was changed")
    if first.source == FIRST_CELL:
        return False
    first.source = FIRST_CELL
    nbformat.write(notebook, path)
    return True


def main(paths: list[str]) -> None:
    for path in [Path(p) for p in paths] or sorted((ROOT / "source").glob("*/*.ipynb")):
        if sync(path):
            print(f"set-up cell updated in {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
