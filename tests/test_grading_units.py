"""Fast checks of the grading pieces that need no notebook run."""
import os

import pytest
import torch

import autograder.expect
from autograder.grade.kernel import integrity
from autograder.grade.reasons import hidden_text
from autograder.record.outcome import Cause, CellOutcome, SubmissionOutcome
from autograder.record.run import CellRecord, Job, JobCell, Limits, Run, Stop, StopKind
from autograder.report.class_report import count_diagnoses

LIMITS = Limits(cell_seconds=5, notebook_seconds=60, memory_bytes=2 ** 30, tmp_bytes=2 ** 26)


def test_scrub_removes_hidden_lines_and_keeps_the_rest():
    hidden = {"secret = reference_losses(seed=7)", "x"}
    text = "oops: secret = reference_losses(seed=7) went wrong, x stays"
    assert hidden_text.scrub(text, hidden) == "oops: [hidden test code removed] went wrong, x stays"
    assert hidden_text.scrub("nothing to hide", hidden) == "nothing to hide"


def test_snapshot_sees_a_replaced_grader_function_and_forgets_it_once_restored():
    snapshot = integrity.Snapshot()
    original = autograder.expect.expect_equal
    try:
        autograder.expect.expect_equal = lambda *args, **kwargs: None
        assert any("autograder.expect.expect_equal" in change for change in snapshot.changes())
    finally:
        autograder.expect.expect_equal = original
    assert snapshot.changes() == []


def test_snapshot_sees_torch_patches_but_not_torchs_own_optimizer_wrapping():
    import torch._dynamo  # noqa: F401  (it rewraps torch.manual_seed when first imported; the worker imports it early)
    snapshot = integrity.Snapshot()
    torch.optim.Adamax([torch.nn.Parameter(torch.zeros(1))])  # torch wraps Adamax.step on first use
    assert snapshot.changes() == []
    original = torch.Tensor.backward
    try:
        torch.Tensor.backward = lambda self, *args, **kwargs: None
        assert any("backward" in change for change in snapshot.changes())
    finally:
        torch.Tensor.backward = original


def test_snapshot_sees_every_kind_of_replacement_after_each_cell():
    """The quick identity check must miss nothing the entry-by-entry walk would name."""
    import torch.nn.functional as F
    snapshot = integrity.Snapshot()
    function = autograder.expect.expect_equal
    code, defaults = function.__code__, function.__defaults__

    def cheat(*args, **kwargs):
        return None

    def deleted():
        del F.mse_loss

    changes = [
        ("a function's code", lambda: setattr(function, "__code__", cheat.__code__),
         lambda: setattr(function, "__code__", code), "had its __code__ changed"),
        ("a function's defaults", lambda: setattr(function, "__defaults__", (None,) * len(defaults or (0,))),
         lambda: setattr(function, "__defaults__", defaults), "had its __defaults__ changed"),
        ("a deleted torch function", deleted, lambda: setattr(F, "mse_loss", original_mse),
         "torch.nn.functional.mse_loss` was deleted"),
        ("an optimizer method", lambda: setattr(torch.optim.SGD, "step", cheat),
         lambda: setattr(torch.optim.SGD, "step", original_step), "torch.optim.sgd.SGD.step"),
        ("a builtin", lambda: setattr(__import__("builtins"), "isinstance", cheat),
         lambda: setattr(__import__("builtins"), "isinstance", original_isinstance), "builtins.isinstance"),
    ]
    original_mse, original_isinstance, original_step = F.mse_loss, isinstance, vars(torch.optim.SGD)["step"]
    assert snapshot.changes() == []
    for what, change, undo, named in changes:
        change()
        try:
            found = snapshot.changes()
        finally:
            undo()
        assert any(named in line for line in found), (what, found)
        assert snapshot.changes() == [], what


def test_a_rebound_notebook_name_is_reported():
    namespace = {"expect_equal": autograder.expect.expect_equal, "torch": torch, "answer": 3}
    bindings = integrity.watched_bindings(namespace)
    assert set(bindings) == {"expect_equal", "torch"}
    namespace["answer"] = 4
    assert integrity.rebound(namespace, bindings) == []
    namespace["expect_equal"] = lambda *args: None
    assert integrity.rebound(namespace, bindings) == [
        "the notebook name `expect_equal` was rebound away from `autograder.expect.expect_equal`"]


def test_class_report_counts_each_student_once_per_exercise_and_diagnosis():
    def student(name, *codes, points=0.0):
        cells = [CellOutcome(f"t{i}", "train_loop", points, 1.0, "failed", diagnoses=[{"code": c}])
                 for i, c in enumerate(codes)]
        return SubmissionOutcome(name, "a", cells=cells or [CellOutcome("t", "train_loop", 1.0, 1.0, "passed")])
    outcomes = [student("ann", "missing-zero-grad", "missing-zero-grad"), student("ben", "missing-zero-grad"),
                student("cid"), student("dee", "eval-mode-missing")]
    rows, size = count_diagnoses(outcomes)
    assert size == 4
    assert {k: rows[0][k] for k in ("exercise", "diagnosis", "students", "percent", "who")} == {
        "exercise": "train_loop", "diagnosis": "missing-zero-grad", "students": 2, "percent": 50.0, "who": "ann; ben"}
    assert rows[1]["diagnosis"] == "eval-mode-missing" and rows[1]["students"] == 1


def job_of(sources: list[str], files: dict | None = None, trusted: set[int] = frozenset()) -> Job:
    return Job(tuple(JobCell(i, source, i in trusted, i in trusted) for i, source in enumerate(sources)),
               files or {}, LIMITS)


def run_in_worker(sources: list[str], trusted: set[int] = frozenset()) -> Run:
    from autograder.grade.backends.local import Worker, code_folders
    worker = Worker.start([], code_folders())
    try:
        return worker.run(job_of(sources, {"data.txt": b"hi"}, trusted))
    finally:
        worker.close()


def text_of(record: CellRecord) -> str:
    return "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in record.outputs)


def _ended(pid: int, seconds: float = 10.0) -> bool:
    """Whether process `pid` is gone (or a zombie nobody needs) within `seconds`."""
    import time
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_one_warm_up_serves_a_pool_of_workers_each_its_own_process(monkeypatch):
    from autograder.grade.backends.local import Launch, code_folders
    monkeypatch.setenv("AUTOGRADER_NO_NAMESPACES", "1")  # then a cell's parent is the worker itself
    launch = Launch(clones=2)
    workers = launch.workers([], code_folders(), 2)  # one copy more than wanted: never forked
    try:
        assert len(workers) == 2
        answers = [worker.run(job_of(["import os\nos.getppid()"])) for worker in workers]
        parents = [int(text_of(answer.cells[0])) for answer in answers]
        assert parents[0] == workers[0].process.pid and parents[1] not in (parents[0], os.getpid())
    finally:
        for worker in workers:
            worker.close()
    assert _ended(parents[1]), "a clone kept running after its pipes were closed"
    unused = Launch(clones=1)
    unused.close()  # at once: it is not waited for to finish warming up
    assert unused.process.poll() is not None


@pytest.mark.slow
def test_without_namespaces_the_worker_still_runs_cells_and_guards_the_network(monkeypatch):
    monkeypatch.setenv("AUTOGRADER_NO_NAMESPACES", "1")
    result = run_in_worker(["print(open('data.txt').read())\n1 + 1",
                            "import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=1)"])
    assert result.walls.startswith("weak")
    first, second = result.cells[0].outputs, result.cells[1].outputs
    assert first[0]["text"] == "hi\n" and first[1]["data"]["text/plain"] == "2"
    assert second[0]["output_type"] == "error" and "network access is disabled" in second[0]["evalue"]


@pytest.mark.slow
def test_the_run_is_resumed_after_a_dead_cell_and_hands_back_what_the_notebook_wrote():
    """A cell that ends its process costs only itself: the learner's cells before it run
    again, the test cells already scored do not, and each stop is a record with its kind."""
    result = run_in_worker(["state = 41", "state + 1", "import os\nos._exit(4)", "state + 2",
                            "open('out.txt', 'w').write('kept')\nopen('data.txt', 'w').write('changed')"],
                           trusted={1, 3})
    assert [text_of(result.cells[i]) for i in (1, 3)] == ["42", "43"]
    assert 2 not in result.cells and result.stop is None
    assert [(stop.kind, stop.cell) for stop in result.crashes] == [(StopKind.EXIT, 2)]
    assert "exit code 4" in result.crashes[0].words
    assert result.files == {"out.txt": b"kept", "data.txt": b"changed"}  # the given data.txt was b"hi"


@pytest.mark.slow
def test_notebook_habits_run_as_in_a_kernel_and_are_not_tampering():
    """`%matplotlib inline`, a progress bar from tqdm.auto, a widget: no stderr (nbgrader
    would score it 0), no error, and nothing mistaken for tampering."""
    result = run_in_worker(["%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([1, 2]); plt.show()",
                            "from tqdm.auto import tqdm\nfor _ in tqdm(range(3)):\n    pass",
                            "import ipywidgets\nipywidgets.IntSlider(3)",
                            "import torch\nopt = torch.optim.Adamax([torch.nn.Parameter(torch.zeros(1))])\nopt.step()"])
    for cell in result.cells.values():
        kinds = [(o["output_type"], o.get("name")) for o in cell.outputs]
        assert ("stream", "stderr") not in kinds and ("error", None) not in kinds, cell
        assert cell.tampering == []


# -- diagnoses and reports as data ------------------------------------------------------------

from autograder.diagnoses import Diagnosis, diagnosis  # noqa: E402
from autograder.inspector.report import Report  # noqa: E402


def a_report(**fields) -> Report:
    found = [Diagnosis("missing-zero-grad", "At step 3 the gradient was 3.0× its own.", "Call `opt.zero_grad()`.",
                       diagnosis("missing-zero-grad", "x").section, line=4, code_line="    loss.backward()"),
             diagnosis("loss-tensor-logged", "Epoch 1 logged a `<tensor>`.")]
    return Report("train_loop", True, found, params={"seed": 3, "optimizer": torch.optim.SGD},
                  curve=[1.0, 0.5, float("inf")], reference_curve=[1.0, 0.4, 0.2], facts={"steps": 3}, **fields)


def test_a_report_and_its_diagnoses_survive_json():
    import json
    report = a_report()
    back = Report.from_dict(json.loads(json.dumps(report.to_dict())))
    assert back.diagnoses == report.diagnoses and back.diagnoses[0].line == 4
    assert back.curve[:2] == [1.0, 0.5] and back.reference_curve == [1.0, 0.4, 0.2] and back.facts == {"steps": 3}
    assert back.params["optimizer"] == "SGD"
    data = report.diagnoses[0].to_dict()
    assert data["title"] == "Gradients piled up across steps" and data["section"]["href"].endswith("#Forgetting-zero_grad")


def test_assert_passes_failure_carries_the_report_and_publishes_it_only_under_the_grader(monkeypatch):
    from autograder import handoff
    from autograder.record.cell_report import MIMETYPE, reports_in
    published = []
    monkeypatch.setattr("IPython.display.display", lambda data, raw=False: published.append(data))
    report = a_report()
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    error = handoff.failure(report, report.diagnoses[:1], "order")
    assert error.report is report and str(error).startswith("[missing-zero-grad] At step 3")
    assert published == []
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    handoff.failure(report, report.diagnoses[:1], "order")
    outputs = [{"output_type": "display_data", "data": published[0]}, {"output_type": "stream", "text": "x"},
               {"output_type": "display_data", "data": {MIMETYPE: {"no": "report"}}}]
    found = reports_in(outputs)
    assert len(found) == 1 and found[0]["failing"] == ["missing-zero-grad"] and found[0]["concern"] == "order"


def test_one_renderer_shows_code_spans_the_learners_line_and_escapes_everything():
    from autograder.render import html, html_diagnosis, paragraph
    d = a_report().diagnoses[0]
    page = html_diagnosis(d)
    assert "<code>opt.zero_grad()</code>" in page and "line 4" in page and "loss.backward()" in page
    assert "`" not in page
    assert "&lt;tensor&gt;" in html(a_report()) and "<tensor>" not in html(a_report())
    assert paragraph(d).startswith("[missing-zero-grad] At step 3") and "Your code, line 4: `loss.backward()`" in paragraph(d)


def cell_outcome(report=None, **fields) -> CellOutcome:
    report = report or a_report()
    return CellOutcome("test_hidden", "train_loop", 0.0, 2.0, "failed: [missing-zero-grad]", True,
                       diagnoses=[d.to_dict() for d in report.diagnoses], message="failed: [missing-zero-grad]",
                       curve=report.curve, reference_curve=report.reference_curve, **fields)


def test_feedback_page_plots_the_curve_shows_the_line_and_says_when_there_is_no_curve():
    from autograder.report.feedback_page import render
    page = render(SubmissionOutcome("ann", "a1", "a1", cells=[cell_outcome()]))
    assert "data:image/png;base64," in page and "No loss curve" not in page
    assert "<code>opt.zero_grad()</code>" in page and "loss.backward()" in page and "0 / 2" in page
    flat = render(SubmissionOutcome("ann", "a1", "a1", cells=[cell_outcome(Report("train_loop", True, []))]))
    assert "No loss curve was recorded" in flat and "data:image/png" not in flat


def test_feedback_page_names_the_root_cause_once_per_exercise():
    from autograder.report.feedback_page import render
    cause = Cause(StopKind.CRASH, 3, "the cell defining `train`", "crashed the kernel with a segmentation fault (SIGSEGV)")
    cells = [CellOutcome(f"t{i}", "train_loop", 0.0, 1.0, "could not run: " + cause.text, message="could not run: "
                         + cause.text, cause=cause) for i in range(2)]
    page = render(SubmissionOutcome("ann", "a1", "a1", cells=cells))
    assert page.count("What stopped the tests") == 1
    assert "the cell defining <code>train</code> crashed the kernel with a segmentation fault" in page


# -- root causes -------------------------------------------------------------------------------

def notebook(*cells):
    import nbformat
    nb = nbformat.v4.new_notebook()
    for source, outputs, grade in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.outputs = [nbformat.from_dict(o) for o in outputs]
        if grade:
            cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade, "locked": True, "solution": False,
                                         "points": 1}
        nb.cells.append(cell)
    return nb


def name_error(name):
    return {"output_type": "error", "ename": "NameError", "evalue": f"name '{name}' is not defined", "traceback": []}


def ran(nb, *left_out) -> dict[int, CellRecord]:
    """A record for every cell of `nb` but `left_out`, of its outputs."""
    return {i: CellRecord(i, [dict(o) for o in cell.outputs], i + 1) for i, cell in enumerate(nb.cells)
            if i not in left_out}


def test_a_test_meeting_nameerror_is_blamed_on_the_cell_that_died_defining_the_name():
    from autograder.grade.reasons.causes import Causes
    nb = notebook(("import torch", [], None),
                  ("import os\ndef train(model):\n    return []\nos._exit(3)", [], None),
                  ("helper = 1", [], None),
                  ("train(None)", [name_error("train")], "test_a"),
                  ("undefined_thing()", [name_error("undefined_thing")], "test_b"),
                  ("assert False", [{"output_type": "error", "ename": "AssertionError", "evalue": "",
                                     "traceback": []}], "test_c"))
    run = Run(cells=ran(nb, 1), crashes=[Stop(StopKind.EXIT, "ended the grading process itself", 1)])
    found = Causes(nb, run)
    why = found.of_test(3, None, "train")
    assert why.text == "the cell defining `train` ended the grading process itself" and why.cell == 1
    assert why.kind is StopKind.EXIT
    assert found.of_test(4, None, "train(None)") is None  # nothing the learner can see defines it
    assert found.of_test(5, None, "") is None  # failed on its own


def test_a_test_whose_process_died_in_it_names_the_learner_function_it_called():
    from autograder.grade.reasons.causes import Causes
    nb = notebook(("def train(model):\n    return []", [], None), ("train(None)", [], "test_a"))
    run = Run(cells=ran(nb, 1), stop=Stop(StopKind.CRASH, "crashed the kernel with a segmentation fault (SIGSEGV)",
                                           1, "SIGSEGV"))
    why = Causes(nb, run).of_test(1, None, "")
    assert why.text == "this test, which calls `train`, crashed the kernel with a segmentation fault (SIGSEGV)"
    assert why.kind is StopKind.CRASH and why.signal == "SIGSEGV"


def test_a_stop_is_read_from_the_record_not_from_an_output_that_looks_like_one():
    """A learner's own exception named like the grader's (or a printed fake) stops nothing:
    only the run's record says a cell stopped; a cell that never ran is blamed on the stop before it."""
    from autograder.grade.reasons.causes import Causes
    fake = {"output_type": "error", "ename": "CellTimeoutError", "evalue": "cell time limit exceeded (3 s)",
            "traceback": []}
    nb = notebook(("def train():\n    raise CellTimeoutError('fake')", [], None), ("train()", [fake], "test_a"),
                  ("x = 1", [], None), ("train()", [], "test_b"))
    real_stop = Stop(StopKind.KILLED, "was killed by SIGTERM", 2, "SIGTERM")
    found = Causes(nb, Run(cells=ran(nb, 2, 3), stop=real_stop))
    assert found.of_test(1, None, "") is None  # the test failed on its own error
    assert found.of_test(3, None, "").kind is StopKind.KILLED and found.of_test(3, None, "").cell == 2


def test_why_stopped_tells_a_fault_from_a_kill_and_never_blames_memory_for_a_signal():
    import signal
    from autograder.grade.kernel.supervise import why_stopped
    limits = Limits(3, 60, 2 ** 30, 2 ** 26)
    assert why_stopped(None, signal.SIGSEGV, limits, cell=4) == Stop(
        StopKind.CRASH, "crashed the kernel with a segmentation fault (SIGSEGV)", 4, "SIGSEGV")
    killed = why_stopped(None, signal.SIGKILL, limits)
    assert killed.kind is StopKind.KILLED and killed.words.startswith("was killed by SIGKILL, a signal the grader did not")
    assert "not the memory limit" in killed.words
    assert why_stopped(None, 3 << 8, limits).kind is StopKind.EXIT and "exit code 3" in why_stopped(None, 3 << 8, limits).words
    walled = why_stopped(None, signal.SIGKILL, limits, "namespaces (mount, network, pid), private /tmp")
    assert walled.kind is StopKind.KILLED and "from outside the notebook" in walled.words
    assert "own code" not in walled.words  # it cannot signal its cell runner there
    assert why_stopped("cell", 0, limits).kind is StopKind.TIMEOUT
    assert why_stopped(None, signal.SIGXCPU, limits).kind is StopKind.CPU_LIMIT


def test_records_travel_as_json_and_back_unchanged():
    import json
    record = CellRecord(3, [{"output_type": "stream", "name": "stdout", "text": "x"}], 2, 0.5,
                        Stop(StopKind.TIMEOUT, "did not finish within its time limit (3 s)"), ["`torch.x` was replaced"])
    assert CellRecord.from_dict(json.loads(json.dumps(record.to_dict()))) == record
    cause = Cause(StopKind.MEMORY, 4, "this test", "ran out of memory")
    cell = CellOutcome("t", "train_loop", 0.0, 2.0, "r", cause=cause)
    back = CellOutcome.from_dict(json.loads(json.dumps(cell.to_dict())))
    assert back == cell and back.cause.kind is StopKind.MEMORY


# -- torch's hook tables ------------------------------------------------------------------------

@pytest.fixture
def guard():
    from autograder.grade.kernel.hook_guard import HookGuard
    installed = HookGuard()
    yield installed
    installed.remove()


def correct_train(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_the_inspector_and_a_learners_own_hooks_are_not_tampering(guard):
    from autograder.api import check
    assert check("train_loop", correct_train).passed
    handle = torch.nn.modules.module.register_module_forward_hook(lambda *args: None)
    torch.nn.Linear(2, 2)(torch.zeros(1, 2))
    handle.remove()
    assert guard.changes() == []


def test_removing_the_inspectors_hooks_inside_the_function_is_tampering(guard):
    from collections import OrderedDict

    from autograder.api import inspect

    def clears(model, loss_fn, optimizer, X, y, epochs):
        torch.nn.modules.module._global_forward_hooks.clear()
        return correct_train(model, loss_fn, optimizer, X, y, epochs)
    inspect("train_loop", clears, hidden=True)
    assert guard.changes() == ["torch's global forward hooks (which the grader watches the loop with) were removed "
                               "by `clears`"]

    def bypasses(model, loss_fn, optimizer, X, y, epochs):
        from torch.optim import optimizer as optimizer_hooks
        OrderedDict.clear(optimizer_hooks._global_optimizer_pre_hooks)
        return correct_train(model, loss_fn, optimizer, X, y, epochs)
    # blinded: the weights are seen changing with no step seen, a false bug
    assert inspect("train_loop", bypasses, hidden=True).codes == ["foreign-update"]
    assert "torch's global optimizer step pre-hooks (which the grader watches the loop with) were emptied behind " \
           "the grader's back" in guard.changes()


def test_replacing_a_hook_table_or_leaving_a_torch_mode_on_is_tampering(guard):
    from collections import OrderedDict

    from torch.overrides import TorchFunctionMode
    original = torch.nn.modules.module._global_forward_pre_hooks
    torch.nn.modules.module._global_forward_pre_hooks = OrderedDict()
    try:
        assert guard.changes() == ["torch's global forward pre-hooks table (which the grader watches the loop with) "
                                   "was replaced"]
    finally:
        torch.nn.modules.module._global_forward_pre_hooks = original

    class Passthrough(TorchFunctionMode):  # the notebook's own mode
        pass

    mode = Passthrough()
    mode.__enter__()
    try:
        assert any("torch function or dispatch mode of the notebook's own (`" in change and "Passthrough" in change
                   for change in guard.changes())
    finally:
        mode.__exit__(None, None, None)


@pytest.mark.slow
def test_without_namespaces_a_self_kill_is_named_as_a_kill(monkeypatch):
    monkeypatch.setenv("AUTOGRADER_NO_NAMESPACES", "1")
    result = run_in_worker(["x = 1", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"])
    assert result.stop.cell == 1 and result.stop.kind is StopKind.KILLED
    assert result.stop.signal == "SIGKILL" and "memory" not in result.stop.words.split("(")[0]


@pytest.mark.slow
def test_the_warm_worker_loads_every_grader_module_a_notebook_reaches_before_its_snapshot():
    """Modules loaded later would be neither watched for tampering nor put back before tests."""
    import subprocess
    import sys
    probe = ("import sys\nfrom autograder.grade.kernel import worker\nworker.warm_up()\n"
             "before = {m for m in sys.modules if m.startswith(('autograder', 'course_helpers'))}\n"
             "import autograder, course_helpers\n"
             "for package in (autograder, course_helpers):\n"
             "    for name in package.__all__:\n"
             "        getattr(package, name)\n"
             "print(sorted({m for m in sys.modules if m.startswith(('autograder', 'course_helpers'))} - before))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, MPLBACKEND="Agg"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.slow
def test_a_dask_worker_warms_its_grading_worker_before_the_first_job(monkeypatch):
    from autograder.grade.backends import local as pool
    monkeypatch.setattr(pool, "_IDLE", {})
    monkeypatch.setattr(pool, "_LAUNCHED", [])
    assert pool.warm_up_soon() is True
    assert pool.warm_up_soon() is False  # one head start is enough
    started = pool._LAUNCHED[0].process.pid
    result, walls = pool.run_here(job_of(["6 * 7"]), [])
    assert text_of(result.cells[0]) == "42" and walls
    assert pool._LAUNCHED == [] and [w.process.pid for ws in pool._IDLE.values() for w in ws] == [started]
    assert pool.warm_up_soon() is False  # a warm worker is waiting
    for workers in pool._IDLE.values():
        for worker in workers:
            worker.close()


@pytest.mark.slow
def test_the_parent_holds_only_a_few_jobs_ahead_however_big_the_class(tmp_path, monkeypatch):
    """Jobs are sent ahead of nbgrader as workers free up, not all at once: memory stays flat;
    and each one made ahead is used (nbgrader asks for the very job that was predicted)."""
    from grading_fixtures import fake_class
    from autograder.grade.app import grade_app, session
    course = fake_class.make_course(tmp_path / "course")
    for number in range(8):
        fake_class.submit(course, f"s{number}", fake_class.student_notebook(course, "alice"))
    seen = {"most": 0, "sessions": []}
    send = session.GradingSession._send

    def counted(self, key, job, place):
        send(self, key, job, place)
        seen["most"] = max(seen["most"], self.in_flight)
        if self not in seen["sessions"]:
            seen["sessions"].append(self)

    monkeypatch.setattr(session.GradingSession, "_send", counted)
    monkeypatch.chdir(course)
    assert grade_app.main([fake_class.ASSIGNMENT, "--jobs=1", "--log-level=WARN"]) == 0
    (ran,) = seen["sessions"]
    assert len(ran.outcomes) == 8 and seen["most"] <= session.AHEAD * 1 + 1, seen
    assert ran.predicted == 8 and ran.hits == 8


@pytest.mark.slow
def test_a_course_generated_in_this_process_leaves_the_environment_working(tmp_path, monkeypatch):
    """nbgrader's in-process helper swaps os.environ for a plain dict: a variable set after it
    would no longer reach the processes a later test starts."""
    import subprocess
    from grading_fixtures import fake_class
    real = os.environ
    course = fake_class.make_course(tmp_path / "course")
    assert (course / "release" / fake_class.ASSIGNMENT / f"{fake_class.ASSIGNMENT}.ipynb").exists()
    assert os.environ is real
    monkeypatch.setenv("COURSE_PROBE", "seen")
    assert subprocess.run(["sh", "-c", "echo $COURSE_PROBE"], capture_output=True, text=True).stdout.strip() == "seen"
