"""Root causes: which cell stopped the notebook, how, and which tests it cost.

When a cell crashes the process, is killed, runs out of time or memory, or raises,
the tests after it fail in ways that say nothing of the cause: the grader resumes
the run after a dead cell (pipeline.resume_job), so a test calling `train` meets
`NameError` when the cell defining `train` was the one that died. Each such test is
given the cause instead, with the cell it happened in:

    the cell defining `train` crashed the kernel with a segmentation fault (SIGSEGV)

A `Cause` is data (kind, cell, subject, words): the gradebook comment, the feedback
page, the summary table and the class report all read the same record. Kinds:
crash, killed, timeout, notebook-timeout, cpu-limit, exit, memory, error,
not-attempted, tampering, grader.
"""
import ast
import re
from dataclasses import asdict, dataclass

from nbgrader import utils

PROCESS_KINDS = ("crash", "killed", "timeout", "notebook-timeout", "cpu-limit", "exit", "memory", "grader")
MEMORY_WORDS = ("can't allocate memory", "cannot allocate memory", "out of memory", "DefaultCPUAllocator")
UNDEFINED = re.compile(r"^name '(\w+)' is not defined")  # Python's own NameError wording


@dataclass
class Cause:
    kind: str
    cell: int | None  # index of the notebook cell it happened in
    subject: str  # "the cell defining `train`", "this test"; empty when `words` say it all
    words: str  # "crashed the kernel with a segmentation fault (SIGSEGV)"
    signal: str | None = None

    @property
    def text(self) -> str:
        return f"{self.subject} {self.words}".strip()

    def to_dict(self) -> dict:
        return asdict(self) | {"text": self.text}

    def as_seen_by(self, subject: str) -> "Cause":
        return Cause(self.kind, self.cell, subject, self.words, self.signal)


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


def process_stops(result: dict | None) -> dict[int, dict]:
    """Cell index -> the worker's record of why the process stopped in it."""
    result = result or {}
    stops = {crash["cell"]: crash for crash in result.get("crashes", []) if crash.get("cell") is not None}
    stopped = result.get("stopped")
    if stopped and stopped.get("cell") is not None:
        stops[stopped["cell"]] = stopped
    return stops


def find_causes(nb, result: dict | None, limits: dict | None = None) -> dict[int, Cause]:
    """Every code cell that did not finish normally -> its Cause (nb holds the outputs)."""
    causes = {}
    stopped = (result or {}).get("stopped") or {}
    if stopped and stopped.get("cell") is None:  # the run never started, or the grader failed
        causes[None] = Cause(stopped.get("kind") or "grader", None, "", stopped.get("reason", ""))
    for index, stop in process_stops(result).items():
        causes[index] = Cause(stop.get("kind") or "killed", index, subject(nb, index),
                              stop.get("reason", "stopped the process"), stop.get("signal"))
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or index in causes:
            continue
        error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
        if error is None or error.get("ename") in ("NotRun", "GradingStopped", "TamperingDetected"):
            continue
        cause = _from_error(nb, index, error, limits or {})
        if not utils.is_grade(cell) or cause.kind in ("timeout", "memory"):  # a test's own failure is its own
            causes[index] = cause
    return causes


def _from_error(nb, index: int, error, limits: dict) -> Cause:
    ename, evalue = error.get("ename", "Error"), str(error.get("evalue", ""))
    who = subject(nb, index)
    if ename == "CellTimeoutError":
        return Cause("timeout", index, who, f"did not finish within its time limit ({evalue.split('(')[-1].rstrip(')')})"
                     if "(" in evalue else "did not finish within its time limit")
    if ename == "MemoryError" or any(word in evalue for word in MEMORY_WORDS):
        limit = limits.get("memory_bytes")
        shown = f" ({limit / 1024 ** 2:g} MiB)" if limit else ""
        return Cause("memory", index, who, f"ran out of memory: it used more than the memory limit{shown}")
    if ename == "NotImplementedError":
        return Cause("not-attempted", index, who, "still raises NotImplementedError")
    first = evalue.strip().splitlines()[0][:200] if evalue.strip() else ""
    return Cause("error", index, who, f"raised {ename}" + (f": {first}" if first else ""))


def blame(nb, index: int, causes: dict[int, Cause], exercise_cell: int | None,
          visible_source: str) -> Cause | None:
    """The earlier failure that made test cell `index` fail, or None if it failed on its own.

    A test whose process died in it carries that cause itself. A test meeting a
    NameError is blamed on the failed cell that defines the missing name, else on its
    exercise's cell when that failed. `visible_source` is every source the learner
    can see: a name is only shown when it appears there."""
    cell = nb.cells[index]
    own = causes.get(index)
    if own is not None and own.kind in PROCESS_KINDS:
        called = [f"`{name}`" for name in _called_learner_functions(nb, index)]
        who = "this test" + (f", which calls {', '.join(called)}," if called else "")
        return own.as_seen_by(who)
    error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
    if error is not None and error.get("ename") == "NotRun":
        earlier = [i for i, c in causes.items() if i is not None and i < index and c.kind in PROCESS_KINDS]
        return causes[max(earlier)] if earlier else causes.get(None)
    if error is None or error.get("ename") != "NameError":
        return None
    match = UNDEFINED.match(str(error.get("evalue", "")))
    if not match:
        return None
    name = match.group(1)
    for earlier in range(index - 1, -1, -1):
        if earlier in causes and name in bound_names(nb.cells[earlier].source):
            return causes[earlier]
    if exercise_cell is not None and exercise_cell in causes:
        return causes[exercise_cell]
    if re.search(rf"\b{re.escape(name)}\b", visible_source):
        return Cause("error", None, f"`{name}`", "is not defined: no cell of the notebook defines it "
                                                "(was it renamed?)")
    return None


def _called_learner_functions(nb, index: int) -> list[str]:
    used = used_names(nb.cells[index].source)
    found = []
    for cell in nb.cells[:index]:
        if cell.cell_type == "code" and not utils.is_grade(cell) and not utils.is_locked(cell):
            found += [name for name in defined_names(cell.source) if name in used]
    return list(dict.fromkeys(found))[:2]
