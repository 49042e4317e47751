"""The record of a run that nbgrader's own execution step made, read from the notebook it executed.

After plain `nbgrader autograde` with nbgrader's `Execute` (not the course's isolated
step), there is no worker's record: the autograded notebook is all there is. Every
code cell ran there (nbgrader runs them all, errors allowed), so each gets a
`CellRecord` of its outputs; nbgrader's own timeout output (`CellTimeoutError`, which
its Execute step writes) and Python's MemoryError are the two stops it can show.
"""
from autograder.record.run import MEMORY_WORDS, CellRecord, Run, Stop, StopKind


def run_of(nb, cell_seconds: float | None = None) -> Run:
    run = Run(walls="nbgrader's own kernel (not isolated)")
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        outputs = [dict(output) for output in cell.get("outputs", [])]
        run.cells[index] = CellRecord(index, outputs, cell.get("execution_count") or 0,
                                      stop=_stop_in(outputs, cell_seconds))
    return run


def _stop_in(outputs: list[dict], cell_seconds: float | None) -> Stop | None:
    for output in outputs:
        if output.get("output_type") != "error":
            continue
        if output.get("ename") == "CellTimeoutError":
            limit = f" ({cell_seconds:g} s)" if cell_seconds else ""
            return Stop(StopKind.TIMEOUT, f"did not finish within its time limit{limit}")
        if output.get("ename") == "MemoryError" or any(word in str(output.get("evalue", "")) for word in MEMORY_WORDS):
            return Stop(StopKind.MEMORY, "ran out of memory")
    return None
