"""How long the course's source notebooks take to run, kernel start included.

Issue target: all seven notebooks together in ≤ 45 s on CI's 2-core CPU. Each notebook
runs once, one after another, as course CI runs them.
Usage: python benchmarks/notebook_times.py [NOTEBOOK ...]; the last line is the total.
"""
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run_time(path: Path) -> tuple[float, int]:
    """Seconds to execute the notebook top to bottom, and how many cells raised."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - started
    failed = sum(any(o.get("output_type") == "error" for o in c.get("outputs", []))
                 for c in notebook.cells if c.cell_type == "code")
    return seconds, failed


def main(paths: list[str]) -> None:
    notebooks = [Path(p) for p in paths] or sorted((ROOT / "source").glob("*/*.ipynb"))
    total = 0.0
    for path in notebooks:
        seconds, failed = run_time(path)
        total += seconds
        note = f"  ({failed} cells raised)" if failed else ""
        print(f"{path.parent.name:24s} {seconds:6.1f} s{note}")
    print(f"total: {total:.1f} s for {len(notebooks)} notebooks (target ≤ 45 s)")


if __name__ == "__main__":
    main(sys.argv[1:])
