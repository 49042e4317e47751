"""A small nbgrader course and a fake class of submissions, built in a temporary folder.

The course has one assignment shaped like phase 4: a `train_loop` exercise
(`train(model, loss_fn, optimizer, X, y, epochs) -> list[float]`), a visible test
cell, a hidden test cell that names the bug with `[code]` paragraphs, and a quiz
whose check is hidden. Each fake student changes the released notebook in one way:
correct work, a main bug class, an untouched stub, or one of the bad cases the
grader must survive (hang, memory bomb, exits, crashes, deleted or edited tests,
tampering, a corrupt or misnamed file). `EXPECTED` holds the score and the reason
each test cell must get; `NOT_GRADED` the two notebooks nbgrader itself does not grade.
"""
import contextlib
import functools
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat

ASSIGNMENT = "04_training_loop"
CELL_SECONDS = 3

CONFIG = '''\
c = get_config()
c.CourseDirectory.course_id = "fake-course"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
c.Execute.timeout = CELL_SECONDS
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"\\w*Warning: "
c.OverwriteCells.add_missing_cells = True
'''

# What the course's own nbgrader_config.py adds: the isolated steps, for plain nbgrader and formgrader.
ISOLATED_STEPS = '''\
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades
from autograder.grade.steps import ExplainScores, IsolatedExecute
c.Autograde.autograde_preprocessors = [IsolatedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       SaveAutoGrades, AssignLatePenalties, CheckCellMetadata, ExplainScores]
'''

SOLUTION = '''\
def train(model, loss_fn, optimizer, X, y, epochs):
    ### BEGIN SOLUTION
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
    ### END SOLUTION'''

VISIBLE_TEST = '''\
torch.manual_seed(0)
model = nn.Linear(3, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
X = torch.randn(32, 3)
y = X @ torch.tensor([[1.0], [-2.0], [0.5]])
losses = train(model, nn.MSELoss(), optimizer, X, y, 5)
assert isinstance(losses, list) and len(losses) == 5, "`train` should return a list with one loss per epoch."
assert all(type(value) is float for value in losses), "`train` should return Python floats: use `loss.item()`."'''

HIDDEN_TEST = '''\
# The hidden check compares your loop with a reference loop on other data.
### BEGIN HIDDEN TESTS
from autograder.diagnoses import diagnosis as _secret_diagnosis
from autograder.handoff import failure as _secret_failure
from autograder.inspector.report import Report as _SecretReport
def _secret_reference_run(clear_gradients):
    torch.manual_seed(7)
    net = nn.Linear(4, 1)
    sgd = torch.optim.SGD(net.parameters(), lr=0.05)
    inputs = torch.randn(40, 4)
    targets = inputs.sum(dim=1, keepdim=True)
    history = []
    for _ in range(6):
        if clear_gradients:
            sgd.zero_grad()
        step_loss = nn.functional.mse_loss(net(inputs), targets)
        step_loss.backward()
        sgd.step()
        history.append(step_loss.item())
    return history
def _secret_close(first, second):
    return len(first) == len(second) and all(abs(a - b) < 1e-4 for a, b in zip(first, second))
secret_expected = _secret_reference_run(True)
secret_without_zero_grad = _secret_reference_run(False)
torch.manual_seed(7)
net = nn.Linear(4, 1)
sgd = torch.optim.SGD(net.parameters(), lr=0.05)
inputs = torch.randn(40, 4)
targets = inputs.sum(dim=1, keepdim=True)
secret_got = train(net, nn.MSELoss(), sgd, inputs, targets, 6)
secret_found = []
if not (isinstance(secret_got, list) and all(type(v) is float for v in secret_got)):
    secret_found = [_secret_diagnosis(
        "wrong-return-type", "`train` returned a " + type(secret_got).__name__ + " whose items are not Python floats",
        "Append `loss.item()` to the list.")]
elif _secret_close(secret_got, secret_without_zero_grad):
    secret_found = [_secret_diagnosis(
        "missing-zero-grad",
        f"From step 2 on, the losses match a loop that never clears `.grad` "
        f"(step 2: {secret_got[1]:.3f}, expected {secret_expected[1]:.3f})",
        "Call `optimizer.zero_grad()` once per step.")]
if secret_found:
    secret_curve = secret_got if not secret_found[0].code.startswith("wrong") else []
    raise _secret_failure(_SecretReport("train_loop", True, secret_found, curve=secret_curve,
                                        reference_curve=secret_expected), secret_found, None)
assert torch.allclose(torch.tensor(secret_got), torch.tensor(secret_expected), atol=1e-4)
### END HIDDEN TESTS'''

QUIZ_TEST = '''\
assert answer_zero_grad in ("a", "b", "c"), "Answer with one letter."
### BEGIN HIDDEN TESTS
expect_equal("answer_zero_grad", answer_zero_grad, "b")
### END HIDDEN TESTS'''


def _meta(grade_id, *, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id, "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook() -> nbformat.NotebookNode:
    cells = [
        nbformat.v4.new_code_cell("import warnings\nimport torch"),
        nbformat.v4.new_markdown_cell("# The training loop\n## The five steps of the loop"),
        nbformat.v4.new_code_cell("import torch.nn as nn\nfrom autograder.expect import expect_equal",
                                  metadata=_meta("imports", locked=True)),
        nbformat.v4.new_code_cell(SOLUTION, metadata=_meta("train_loop", solution=True)),
        nbformat.v4.new_code_cell(VISIBLE_TEST, metadata=_meta("test_train_loop_visible", grade=True, locked=True, points=1)),
        nbformat.v4.new_code_cell(HIDDEN_TEST, metadata=_meta("test_train_loop_hidden", grade=True, locked=True, points=2)),
        nbformat.v4.new_markdown_cell("## Quiz\nWhen should `optimizer.zero_grad()` run? (a) never (b) once per step (c) once per epoch"),
        nbformat.v4.new_code_cell('### BEGIN SOLUTION\nanswer_zero_grad = "b"\n### END SOLUTION',
                                  metadata=_meta("quiz_zero_grad", solution=True)),
        nbformat.v4.new_code_cell(QUIZ_TEST, metadata=_meta("test_quiz_zero_grad", grade=True, locked=True, points=1)),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def train_body(body: str) -> str:
    """A learner's `train` with the given body (indented for them), in training mode first as the
    contract asks: each body differs from a correct loop only in what it is written to show."""
    return ("def train(model, loss_fn, optimizer, X, y, epochs):\n    model.train()\n"
            + textwrap.indent(textwrap.dedent(body), "    "))


CORRECT = """\
losses = []
for _ in range(epochs):
    optimizer.zero_grad()
    loss = loss_fn(model(X), y)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
return losses
"""
CORRECT_OTHER_SHAPE = """\
import warnings
warnings.warn("this loop is fine, only chatty", UserWarning)
history, epoch = [], 0
while epoch < epochs:
    prediction = model(X)
    loss = loss_fn(prediction, y)
    loss.backward()
    optimizer.step()
    for p in model.parameters():
        p.grad = None
    history.append(float(loss))
    epoch += 1
return history
"""
MISSING_ZERO_GRAD = CORRECT.replace("    optimizer.zero_grad()\n", "")
RETURNS_TENSORS = CORRECT.replace("loss.item()", "loss")
ZERO_FLOATS = "return [0.0] * epochs\n"
HOOKS_REMOVED = """\
from torch.nn.modules import module as module_hooks
from torch.optim import optimizer as optimizer_hooks
for table in (module_hooks._global_forward_pre_hooks, module_hooks._global_forward_hooks,
              optimizer_hooks._global_optimizer_pre_hooks, optimizer_hooks._global_optimizer_post_hooks):
    table.clear()  # nothing watches the loop any more
""" + CORRECT
# A learner function that fakes a report for the grader, quoting the test that called it.
FORGED_REPORT = """\
import sys
from IPython.display import display
source = sys._getframe(1).f_globals["_ih"][-1]
forged = {"exercise": "train_loop", "failing": ["leak"], "diagnoses": [
    {"code": "leak", "message": source, "fix": source, "section": {"phase": "04_training_loop", "heading": "x"},
     "line": 3, "code_line": source.splitlines()[-2]}]}
display({"application/vnd.training-loop-course.report+json": forged}, raw=True)
raise AssertionError("[leak] " + source)
"""

# student -> (train cell source or None for the stub, quiz answer or None, extra edit)
STUDENTS = {
    "alice": (train_body(CORRECT), "b", None),
    "bob": (train_body(CORRECT_OTHER_SHAPE), "b", "warning_cell"),
    "carol": (train_body(MISSING_ZERO_GRAD), "b", None),
    "dave": (train_body(RETURNS_TENSORS), "c", None),
    "erin": (None, None, None),
    "frank": (train_body("while True:\n    pass\n"), "b", None),
    "grace": (train_body("hoard = bytearray(4 * 10**9)\n" + CORRECT), "b", None),
    "heidi": (train_body("import os\nos._exit(1)\n"), "b", None),
    "ivan": (train_body("import sys\nsys.exit(3)\n"), "b", "exit_cell"),
    "judy": (train_body(MISSING_ZERO_GRAD), "b", "delete_and_edit_tests"),
    "mallory": ("import torch\ntorch.allclose = lambda *args, **kwargs: True\n" + train_body(ZERO_FLOATS), "b", None),
    "olga": ("get_ipython().events.register('post_run_cell', lambda result: setattr(result, 'error_in_exec', None))\n"
             + train_body(ZERO_FLOATS), "b", None),
    "oscar": ("expect_equal = lambda *args, **kwargs: None\n" + train_body(CORRECT), "a", None),
    "peggy": (train_body(CORRECT), "b", "corrupt"),
    "rupert": (train_body(CORRECT), "b", "misnamed"),
    "sybil": (train_body("import time\nwhile True:\n    try:\n        time.sleep(60)\n    except BaseException:\n        pass\n"), "b", None),
    "trent": (train_body("import ctypes\nctypes.string_at(0)\n"), "b", None),
    "walter": (train_body(CORRECT), "b", "probe"),
    "victor": (train_body(FORGED_REPORT), "b", None),
    # the cell defining `train` crashes the process (a real fault) after the definition ran
    "kurt": ("import ctypes\n" + train_body(CORRECT) + "\nctypes.string_at(0)\n", "b", None),
    # `train` kills its own process group with SIGKILL
    "liam": (train_body("import os, signal\nos.killpg(0, signal.SIGKILL)\n" + CORRECT), "b", None),
    # the cell defining `train` kills its process group with SIGTERM
    "mona": ("import os, signal\n" + train_body(CORRECT) + "\nos.killpg(0, signal.SIGTERM)\n", "b", None),
    # the cell defining `train` ignores the alarm that ends a cell, and hangs
    "nina": ("import signal\n" + train_body(CORRECT) + "\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
             "while True:\n    pass\n", "b", None),
    # `train` empties torch's global hook tables before an otherwise correct loop
    "hank": (train_body(HOOKS_REMOVED), "b", None),
}

# A learner cell that tries to reach what it must not, and prints what it got.
PROBE = """\
import json, os, socket
probes = {}
def attempt(name, action):
    try:
        probes[name] = "reached: " + repr(action())[:80]
    except BaseException as error:
        probes[name] = "blocked: " + type(error).__name__
attempt("gradebook", lambda: open("COURSE_ROOT/gradebook.db", "rb").read(16))
attempt("source", lambda: os.listdir("COURSE_ROOT/source/04_training_loop"))
attempt("other_student", lambda: os.listdir("COURSE_ROOT/submitted/alice"))
attempt("network", lambda: socket.create_connection(("127.0.0.1", PROBE_PORT), timeout=2))
probes["processes"] = len([p for p in os.listdir("/proc") if p.isdigit()])
print("PROBES", json.dumps(probes))
"""

CALLS_TRAIN = "this test, which calls `train`,"
SEGFAULT = "crashed the kernel with a segmentation fault (SIGSEGV)"
KILLED = ("was killed by {}, a signal the grader did not send: the notebook's own code killed its process or its "
          "process group, or another process did (this is not the memory limit, which raises MemoryError)")

# student -> (total score, {test cell: (points, start of its reason)}, a note that must appear or None)
EXPECTED = {
    "alice": (4, {"test_train_loop_visible": (1, "passed"), "test_train_loop_hidden": (2, "passed"),
                  "test_quiz_zero_grad": (1, "passed")}, None),
    "bob": (4, {"test_train_loop_visible": (1, "passed"), "test_train_loop_hidden": (2, "passed"),
                "test_quiz_zero_grad": (1, "passed")}, None),
    "carol": (2, {"test_train_loop_visible": (1, "passed"), "test_train_loop_hidden": (0, "failed: [missing-zero-grad]"),
                  "test_quiz_zero_grad": (1, "passed")}, None),
    "dave": (0, {"test_train_loop_visible": (0, "failed: `train` should return Python floats"),
                 "test_train_loop_hidden": (0, "failed: [wrong-return-type]"),
                 "test_quiz_zero_grad": (0, "a hidden check failed")}, None),
    "erin": (0, {"test_train_loop_visible": (0, "not attempted yet"), "test_train_loop_hidden": (0, "not attempted yet"),
                 "test_quiz_zero_grad": (0, "not attempted yet: the exercise cell `quiz_zero_grad` still raises "
                                            "NotImplementedError, so `answer_zero_grad` did not exist for this test")},
             None),
    "frank": (1, {"test_train_loop_visible": (0, f"{CALLS_TRAIN} did not finish within its time limit (3 s)"),
                  "test_train_loop_hidden": (0, f"{CALLS_TRAIN} did not finish within its time limit (3 s)"),
                  "test_quiz_zero_grad": (1, "passed")}, None),
    "grace": (1, {"test_train_loop_visible": (0, f"{CALLS_TRAIN} ran out of memory: it used more than the memory "
                                                 "limit (1024 MiB)"),
                  "test_train_loop_hidden": (0, f"{CALLS_TRAIN} ran out of memory"),
                  "test_quiz_zero_grad": (1, "passed")}, None),
    "heidi": (1, {"test_train_loop_visible": (0, f"{CALLS_TRAIN} ended the grading process itself (exit code 1"),
                  "test_train_loop_hidden": (0, f"{CALLS_TRAIN} ended the grading process itself (exit code 1"),
                  "test_quiz_zero_grad": (1, "passed")}, None),
    "ivan": (1, {"test_train_loop_visible": (0, "error: SystemExit: 3"),
                 "test_train_loop_hidden": (0, "error in a hidden check: SystemExit"),
                 "test_quiz_zero_grad": (1, "passed")}, None),
    "judy": (2, {"test_train_loop_visible": (1, "passed (this test cell had been edited"),
                 "test_train_loop_hidden": (0, "failed: [missing-zero-grad] (this test cell was deleted"),
                 "test_quiz_zero_grad": (1, "passed")}, None),
    "mallory": (0, {"test_train_loop_visible": (0, "tampering detected: `torch.allclose` was replaced"),
                    "test_train_loop_hidden": (0, "tampering detected"), "test_quiz_zero_grad": (0, "tampering detected")}, None),
    "olga": (0, {"test_train_loop_visible": (0, "tampering detected: IPython event 'post_run_cell' callbacks were changed"),
                 "test_train_loop_hidden": (0, "tampering detected"), "test_quiz_zero_grad": (0, "tampering detected")}, None),
    "oscar": (0, {"test_train_loop_visible": (0, "tampering detected: the notebook name `expect_equal` was rebound"),
                  "test_train_loop_hidden": (0, "tampering detected"), "test_quiz_zero_grad": (0, "tampering detected")}, None),
    "sybil": (1, {"test_train_loop_visible": (0, f"{CALLS_TRAIN} did not stop within its time limit (3 s, ignoring "
                                                 "the alarm that ends a cell) and was killed"),
                  "test_train_loop_hidden": (0, f"{CALLS_TRAIN} did not stop within its time limit (3 s"),
                  "test_quiz_zero_grad": (1, "passed")}, None),
    "trent": (1, {"test_train_loop_visible": (0, f"{CALLS_TRAIN} {SEGFAULT}"),
                  "test_train_loop_hidden": (0, f"{CALLS_TRAIN} {SEGFAULT}"), "test_quiz_zero_grad": (1, "passed")}, None),
    "walter": (4, {"test_train_loop_visible": (1, "passed"), "test_train_loop_hidden": (2, "passed"),
                   "test_quiz_zero_grad": (1, "passed")}, None),
    "victor": (1, {"test_train_loop_visible": (0, "failed: [leak]"), "test_train_loop_hidden": (0, "failed: [leak]"),
                   "test_quiz_zero_grad": (1, "passed")}, None),
    "kurt": (1, {"test_train_loop_visible": (0, f"could not run: the cell defining `train` {SEGFAULT}, so `train` "
                                                "did not exist for this test"),
                 "test_train_loop_hidden": (0, f"could not run: the cell defining `train` {SEGFAULT}"),
                 "test_quiz_zero_grad": (1, "passed")}, None),
    # Inside a pid namespace the cell runner is pid 1, which signals from its own namespace
    # cannot kill: these two kills change nothing there (see EXPECTED_WITHOUT_NAMESPACES).
    "liam": (4, {"test_train_loop_visible": (1, "passed"), "test_train_loop_hidden": (2, "passed"),
                 "test_quiz_zero_grad": (1, "passed")}, None),
    "mona": (4, {"test_train_loop_visible": (1, "passed"), "test_train_loop_hidden": (2, "passed"),
                 "test_quiz_zero_grad": (1, "passed")}, None),
    "nina": (1, {"test_train_loop_visible": (0, "could not run: the cell defining `train` did not stop within its time "
                                                "limit (3 s, ignoring the alarm that ends a cell) and was killed, so "
                                                "`train` did not exist for this test"),
                 "test_train_loop_hidden": (0, "could not run: the cell defining `train` did not stop"),
                 "test_quiz_zero_grad": (1, "passed")}, None),
    "hank": (0, {"test_train_loop_visible": (0, "tampering detected: torch's global forward pre-hooks (which the grader "
                                                "watches the loop with) were removed by `train`"),
                 "test_train_loop_hidden": (0, "tampering detected"), "test_quiz_zero_grad": (0, "tampering detected")},
             None),
}


# Notebooks nbgrader itself does not grade (the whole run then exits 1, as nbgrader's does):
# student -> what the summary says instead. Their grades stay empty in the gradebook.
NOT_GRADED = {
    "peggy": "not graded: nbgrader could not read the notebook file (it is not valid JSON",
    "rupert": "not graded: no notebook of the assignment was submitted under its name (found: "
              "`04_training_loop (1).ipynb`",
}

# Where the grader has no namespaces (walls "weak ..."), a kill kills.
EXPECTED_WITHOUT_NAMESPACES = {
    "liam": (1, {"test_train_loop_visible": (0, f"{CALLS_TRAIN} {KILLED.format('SIGKILL')}"),
                 "test_train_loop_hidden": (0, f"{CALLS_TRAIN} {KILLED.format('SIGKILL')}"),
                 "test_quiz_zero_grad": (1, "passed")}, None),
    "mona": (1, {"test_train_loop_visible": (0, f"could not run: the cell defining `train` {KILLED.format('SIGTERM')}, "
                                                "so `train` did not exist for this test"),
                 "test_train_loop_hidden": (0, f"could not run: the cell defining `train` {KILLED.format('SIGTERM')}"),
                 "test_quiz_zero_grad": (1, "passed")}, None),
}


def expected(walls: str) -> dict:
    """EXPECTED for a class graded behind `walls` (the isolation the grader reached)."""
    return EXPECTED if walls.startswith("namespaces") else EXPECTED | EXPECTED_WITHOUT_NAMESPACES


def grade(root: Path, *args: str, timeout: int = 900, assignment: str = ASSIGNMENT) -> subprocess.CompletedProcess:
    """`python -m autograder grade ASSIGNMENT ARGS` run from the course folder, as an instructor runs it."""
    bin_dir = os.path.dirname(os.path.abspath(sys.executable))
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    return subprocess.run([os.path.abspath(sys.executable), "-m", "autograder", "grade", assignment,
                           "--log-level=WARN", *args], cwd=root, env=env, text=True, capture_output=True,
                          timeout=timeout)


def nbgrader(root: Path, *args: str, timeout: int = 300, check: bool = True) -> subprocess.CompletedProcess:
    bin_dir = os.path.dirname(os.path.abspath(sys.executable))
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    return subprocess.run([os.path.abspath(sys.executable), "-m", "nbgrader", *args], cwd=root, env=env, text=True,
                          capture_output=True, timeout=timeout, check=check)


def generate(root: Path, assignment: str) -> None:
    """`nbgrader generate_assignment ASSIGNMENT --force` from the course folder, run in this
    process as nbgrader's own tests run its commands (`nbgrader.tests.run_nbgrader`).

    Why not a command of its own: a fresh interpreter per course cost 3-6 s of CPU, nbgrader's
    imports and the `alembic heads` it runs in a subprocess for every new gradebook, and the
    suite builds some twenty courses. `alembic heads` answers the same for one nbgrader, so
    it is asked once per process. The commands under test still run as commands."""
    from nbgrader import api as nbgrader_api
    from nbgrader.tests import run_nbgrader
    if not hasattr(nbgrader_api.get_alembic_version, "cache_info"):
        nbgrader_api.get_alembic_version = functools.cache(nbgrader_api.get_alembic_version)
    bin_dir = os.path.dirname(os.path.abspath(sys.executable))  # where `alembic` is
    environment = os.environ  # it leaves a plain dict in its place, which no longer reaches putenv
    try:
        with contextlib.chdir(root):
            run_nbgrader(["generate_assignment", assignment, "--force"],
                         env=dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", "")))
    except AssertionError:  # its log is not kept: the command says why
        failed = nbgrader(root, "generate_assignment", assignment, "--force", check=False)
        raise AssertionError(f"nbgrader generate_assignment {assignment} failed in {root}:\n"
                             + failed.stdout + failed.stderr) from None
    finally:
        os.environ = environment


def make_course(root: Path, cell_seconds: float = CELL_SECONDS, extra_config: str = "") -> Path:
    """nbgrader_config.py, the source notebook, and `nbgrader generate_assignment` run.

    The short default cell limit keeps the hanging submissions cheap; plain nbgrader
    needs a longer one, since its limit also covers `import torch` in a cold kernel."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(CONFIG.replace("CELL_SECONDS", f"{cell_seconds:g}") + extra_config)
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True, exist_ok=True)
    nbformat.write(source_notebook(), str(source / f"{ASSIGNMENT}.ipynb"))
    generate(root, ASSIGNMENT)
    return root


def released(root: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)


def submit(root: Path, student: str, nb: nbformat.NotebookNode | None, *, name: str | None = None,
           raw: str | None = None) -> Path:
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{ASSIGNMENT}.ipynb")
    if raw is not None:
        path.write_text(raw)
    else:
        nbformat.write(nb, str(path))
    (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    return path


def student_notebook(root: Path, student: str) -> nbformat.NotebookNode:
    train, answer, _ = STUDENTS[student]
    nb = released(root)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "train_loop" and train is not None:
            cell.source = train
        if grade_id == "quiz_zero_grad" and answer is not None:
            cell.source = f'answer_zero_grad = "{answer}"'
    return nb


def submit_class(root: Path, students: list[str] | None = None, probe_port: int = 9) -> None:
    for student in students or STUDENTS:
        nb = student_notebook(root, student)
        edit = STUDENTS[student][2]
        if edit == "warning_cell":
            nb.cells.insert(1, nbformat.v4.new_code_cell(
                'import warnings\nwarnings.warn("a warning in a learner cell", DeprecationWarning)'))
        if edit == "exit_cell":
            nb.cells.insert(1, nbformat.v4.new_code_cell("import sys\nsys.exit(0)"))
        if edit == "delete_and_edit_tests":
            nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_train_loop_hidden"]
            for c in nb.cells:
                if c.metadata.get("nbgrader", {}).get("grade_id") == "test_train_loop_visible":
                    c.source = "pass  # I trust my code"
        if edit == "probe":
            probe = PROBE.replace("COURSE_ROOT", str(root.resolve())).replace("PROBE_PORT", str(probe_port))
            nb.cells.insert(1, nbformat.v4.new_code_cell(probe))
        if edit == "corrupt":
            submit(root, student, None, raw=nbformat.writes(nb)[:200])
        elif edit == "misnamed":
            submit(root, student, nb, name=f"{ASSIGNMENT} (1).ipynb")
        else:
            submit(root, student, nb)


def copy_course(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def gradebook_scores(root: Path, students: list[str], assignment: str = ASSIGNMENT) -> dict[str, dict[str, float | None]]:
    """{student: {test cell: score}} read straight from the course's gradebook."""
    from nbgrader.api import Gradebook
    result = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "fake-course") as gb:
        for student in students:
            notebook = gb.find_submission_notebook(assignment, assignment, student)
            result[student] = {grade.name: grade.score for grade in notebook.grades}
    return result


if __name__ == "__main__":  # build a course to poke at by hand: python -m tests.grading_fixtures.fake_class DIR
    target = make_course(Path(sys.argv[1]))
    submit_class(target)
    print(json.dumps(sorted(STUDENTS)))


# A second, smaller course whose test cells call the real inspector (`assert_passes`).
INSPECTED = "inspected"
INSPECTED_VISIBLE = 'from autograder import assert_passes\nassert_passes("train_loop", train, concern="order")'
INSPECTED_HIDDEN = ('# Hidden checks: other seeds and models.\n### BEGIN HIDDEN TESTS\n'
                    'assert_passes("train_loop", train, concern=None, hidden=True)\n### END HIDDEN TESTS')
FORGE_CACHE = """\
# Fake a pass: store a correct loop's hidden report under this (wrong) function's cache key.
import autograder.api as api
def honest(model, loss_fn, optimizer, X, y, epochs):
    model.train()
""" + textwrap.indent(CORRECT, "    ") + """
report = api.inspect("train_loop", honest, hidden=True)
for hidden in (False, True):
    api._store(api._key("train_loop", train, hidden, api.DEFAULT_TIME_LIMIT, {}), train,
               api.inspect("train_loop", honest, hidden=hidden))
print("FORGED", api.inspect("train_loop", train, hidden=True).passed)
"""
# What torch offers every user, set in the learner's own cell: not tampering.
TORCH_SETTINGS = """\
torch.set_default_dtype(torch.float64)
torch.manual_seed(3)
torch.set_num_threads(1)
torch.set_printoptions(precision=3)
torch.use_deterministic_algorithms(True)
torch.set_float32_matmul_precision("high")
torch.autograd.set_detect_anomaly(True)
torch.set_default_device("cpu")
"""
# Fake a pass without replacing anything: the exercise class inherits `teach`, this hides it.
HIDE_TEACH = """\
from autograder.exercises.train_loop import TrainLoop
TrainLoop.teach = lambda self, diagnoses: []
"""
# After the visible test cached its failing Report: empty it.
EDIT_CACHED_REPORT = """\
import autograder.api as api
for _, cached in list(api._CACHE.values()):
    cached.diagnoses.clear()
"""
# Written otherwise than the cases above, each: what torch offers every user, used inside the
# learner's own function and cell (seeds, flags, a compiled model): not tampering ...
TORCH_USED_OTHERWISE = """\
import random, warnings
import numpy as np
torch.backends.cudnn.deterministic = True
torch.backends.cudnn.benchmark = False
random.seed(0)
np.random.seed(0)
warnings.filterwarnings("ignore")
torch.compile(nn.Linear(2, 2), backend="eager")(torch.ones(1, 2))  # torch wraps its optimizers' methods
"""
# ... and three ways to fake a pass without replacing a grader function: the exercise's class
# reached through the registry, given a `teach` with type.__setattr__ ...
HIDE_TEACH_OTHERWISE = """\
from autograder.exercises import EXERCISES
type.__setattr__(type(EXERCISES["train_loop"]), "teach", staticmethod(lambda diagnoses: []))
"""
# ... every Report in memory emptied, found by walking the heap (after the visible test) ...
EMPTY_REPORTS_ON_THE_HEAP = """\
import gc
for thing in gc.get_objects():
    if type(thing).__name__ == "Report" and isinstance(getattr(thing, "diagnoses", None), list):
        thing.diagnoses[:] = []
"""
# ... and a zero_grad that clears nothing, wrapped in torch's own wrapper.
ZERO_GRAD_DOES_NOTHING = """\
torch.optim.SGD.zero_grad = torch.compiler.disable(lambda self, set_to_none=True: None)
"""
INSPECTED_STUDENTS = {
    "ann": train_body(CORRECT),
    "ben": train_body(MISSING_ZERO_GRAD),
    "fay": train_body(ZERO_FLOATS) + "\n\n" + FORGE_CACHE,
    "hal": train_body(HOOKS_REMOVED),
    "ida": TORCH_SETTINGS + train_body(CORRECT),
    "tom": HIDE_TEACH + train_body(MISSING_ZERO_GRAD),
    "uma": train_body(MISSING_ZERO_GRAD),
    "kim": TORCH_USED_OTHERWISE + train_body("torch.set_printoptions(precision=2)\ntorch.set_num_threads(1)\n"
                                             + CORRECT),
    "lex": HIDE_TEACH_OTHERWISE + train_body(MISSING_ZERO_GRAD),
    "max": train_body(MISSING_ZERO_GRAD),
    "ned": ZERO_GRAD_DOES_NOTHING + train_body(CORRECT),
}
# student -> a learner cell put right after the visible test cell
INSPECTED_EXTRA_CELLS = {"uma": EDIT_CACHED_REPORT, "max": EMPTY_REPORTS_ON_THE_HEAP}


def make_inspected_course(root: Path, students: list[str] | None = None, extra_config: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(CONFIG.replace("CELL_SECONDS", "30") + extra_config)
    cells = [
        nbformat.v4.new_code_cell("import torch\nimport torch.nn as nn"),
        nbformat.v4.new_code_cell(SOLUTION, metadata=_meta("train_loop", solution=True)),
        nbformat.v4.new_code_cell(INSPECTED_VISIBLE, metadata=_meta("test_order", grade=True, locked=True, points=1)),
        nbformat.v4.new_code_cell(INSPECTED_HIDDEN, metadata=_meta("test_all_hidden", grade=True, locked=True, points=2)),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (root / "source" / INSPECTED).mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(root / "source" / INSPECTED / f"{INSPECTED}.ipynb"))
    generate(root, INSPECTED)
    release = nbformat.read(str(root / "release" / INSPECTED / f"{INSPECTED}.ipynb"), as_version=4)
    for student, source in INSPECTED_STUDENTS.items():
        if students is not None and student not in students:
            continue
        nb = nbformat.from_dict(release)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "train_loop":
                cell.source = source
        if student in INSPECTED_EXTRA_CELLS:
            after = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "test_order")
            nb.cells.insert(after + 1, nbformat.v4.new_code_cell(INSPECTED_EXTRA_CELLS[student]))
        folder = root / "submitted" / student / INSPECTED
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(folder / f"{INSPECTED}.ipynb"))
    return root
