"""Root causes: which cell stopped the notebook, how, and which tests it cost.

When a cell crashes the process, is killed, runs out of time or memory, or raises,
the tests after it fail in ways that say nothing of the cause: the worker resumes the
run after a dead cell, so a test calling `train` meets `NameError` when the cell
defining `train` was the one that died. Each such test is given the cause instead,
with the cell it happened in:

    the cell defining `train` crashed the kernel with a segmentation fault (SIGSEGV)

Everything here is read from the run's record (`record.run.Run`: each cell's record,
its stop, the stops the run was resumed after, where tampering was found) and from the
errors learner code itself raised; never from outputs the grader wrote.
"""
import ast
import re

from nbgrader import utils

from autograder.record.outcome import Cause
from autograder.record.run import Run, StopKind

UNDEFINED = re.compile(r"^name '(\w+)' is not defined")  # Python's own NameError wording


def subject(nb, index: int | None) -> str:
    """How a cell is named to the learner: by what it defines, else by its grade id."""
    if index is None or index >= len(nb.cells):
        return "the notebook"
    cell = nb.cells[index]
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    if utils.is_grade(cell):
        return f"the test cell `{grade_id}`"
    names = defined_names(cell.source)
    if names:
        shown = ", ".join(f"`{name}`" for name in names[:2])
        return f"the cell defining {shown}"
    if grade_id:
        return f"the exercise cell `{grade_id}`"
    number = sum(1 for c in nb.cells[:index + 1] if c.cell_type == "code")
    return f"code cell {number}"


def bound_names(source: str) -> list[str]:
    """Every name a cell binds: functions and classes, assignments, imports."""
    defined, assigned, imported = _names(source)
    return list(dict.fromkeys(defined + assigned + imported))


def defined_names(source: str) -> list[str]:
    """What a cell is for, as a learner would name it: its top-level functions and
    classes, else the names it assigns."""
    defined, assigned, _ = _names(source)
    return list(dict.fromkeys(defined or assigned))


def _names(source: str) -> tuple[list[str], list[str], list[str]]:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a broken cell still says what it meant to define
        return (re.findall(r"^(?:async\s+)?(?:def|class)\s+(\w+)", source, re.M),
                re.findall(r"^(\w+)\s*=[^=]", source, re.M), [])
    defined = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    assigned, imported = [], []
    for node in _top_level(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            assigned.append(node.id)
        elif isinstance(node, ast.alias):
            imported.append((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name not in defined:
            assigned.append(node.name)
    return defined, assigned, imported


def _top_level(tree):
    """Nodes of the module's own scope (not inside function or class bodies)."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))


def used_names(source: str) -> set[str]:
    try:
        return {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    except SyntaxError:
        return set(re.findall(r"\w+", source))


def own_error(cell) -> dict | None:
    """The error the cell's own code raised (the cell ran: its outputs are its own)."""
    return next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)


class Causes:
    """Every cell of a run that did not finish normally, and what it cost the tests."""

    def __init__(self, nb, run: Run):
        self.nb, self.run = nb, run
        self.found: dict[int | None, Cause] = {}
        if run.stop is not None and run.stop.cell is None:  # the run never started, or the grader failed
            self.found[None] = Cause(run.stop.kind, None, "", run.stop.words)
        for index, stop in run.process_stops.items():
            self.found[index] = Cause(stop.kind, index, subject(nb, index), stop.words, stop.signal)
        for index, record in run.cells.items():
            if index in self.found or index >= len(nb.cells):
                continue
            if record.stop is not None:
                self.found[index] = Cause(record.stop.kind, index, subject(nb, index), record.stop.words)
            elif not utils.is_grade(nb.cells[index]):  # a test's own failure is its own, not a cause
                error = own_error(nb.cells[index])
                if error is not None:
                    self.found[index] = _from_error(nb, index, error)
        self.tampering = None
        if run.stop is not None and run.stop.kind is StopKind.TAMPERING:
            where = subject(nb, run.stop.cell)
            self.tampering = Cause(StopKind.TAMPERING, run.stop.cell, "",
                                   f"tampering detected: {run.stop.words} (found after {where} ran)")

    def of_test(self, index: int, exercise_cell: int | None, visible_source: str) -> Cause | None:
        """The earlier failure that made test cell `index` fail, or None if it failed on its own.

        A test whose process died in it, or that ran out of time or memory, carries that
        cause itself. A test that never ran is blamed on tampering found before it, else
        on the stop that ended the run. A test meeting a NameError is blamed on the failed
        cell that defines the missing name, else on its exercise's cell when that failed.
        `visible_source` is every source the learner can see: a name is only shown when it
        appears there."""
        own = self.found.get(index)  # for a test cell, only a stop: its own errors are its own failure
        if own is not None:
            called = [f"`{name}`" for name in self._called_learner_functions(index)]
            return own.as_seen_by("this test" + (f", which calls {', '.join(called)}," if called else ""))
        if self.tampering is not None and self.tampering.cell is not None and index >= self.tampering.cell:
            return self.tampering
        if index not in self.run.cells:  # never ran
            earlier = [i for i in self.run.process_stops if i < index]
            return self.found[max(earlier)] if earlier else self.found.get(None)
        error = own_error(self.nb.cells[index])
        if error is None or error.get("ename") != "NameError":
            return None
        match = UNDEFINED.match(str(error.get("evalue", "")))
        if not match:
            return None
        name = match.group(1)
        for earlier in range(index - 1, -1, -1):
            if earlier in self.found and name in bound_names(self.nb.cells[earlier].source):
                return self.found[earlier]
        if exercise_cell is not None and exercise_cell in self.found:
            return self.found[exercise_cell]
        if re.search(rf"\b{re.escape(name)}\b", visible_source):
            return Cause(StopKind.ERROR, None, f"`{name}`", "is not defined: no cell of the notebook defines it "
                                                           "(was it renamed?)")
        return None

    def _called_learner_functions(self, index: int) -> list[str]:
        used = used_names(self.nb.cells[index].source)
        found = []
        for cell in self.nb.cells[:index]:
            if cell.cell_type == "code" and not utils.is_grade(cell) and not utils.is_locked(cell):
                found += [name for name in defined_names(cell.source) if name in used]
        return list(dict.fromkeys(found))[:2]


def _from_error(nb, index: int, error) -> Cause:
    """A learner cell that raised: not attempted yet, or an error of its own."""
    ename, evalue = error.get("ename", "Error"), str(error.get("evalue", ""))
    who = subject(nb, index)
    if ename == "NotImplementedError":
        return Cause(StopKind.NOT_ATTEMPTED, index, who, "still raises NotImplementedError")
    first = evalue.strip().splitlines()[0][:200] if evalue.strip() else ""
    return Cause(StopKind.ERROR, index, who, f"raised {ename}" + (f": {first}" if first else ""))
