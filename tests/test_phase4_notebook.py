"""Phase 4 (the training loop): the promises the notebook makes to the autograder and the browser test.

The autograder's diagnoses link to sections of this notebook; the `train_loop` exercise keeps
the grade_id and signature the course's contract fixes; every graded concern cell runs its
concern visibly and hidden; the loss explorer cell the browser test drives is there. These
checks read the notebook only (milliseconds); the ones at the bottom also run the notebook's
reference solution and some broken loops through the inspector, to prove each graded cell
can fail and that a correct loop earns every point. Running the whole notebook is course CI's
job (tests/test_notebooks.py).
"""
import ast
import re

import nbformat
import pytest

from notebook_tools import NOTEBOOK_ROOT, cell_by_grade_id, headings, is_test_cell, nbgrader_meta

PATH = NOTEBOOK_ROOT / "04_training_loop" / "04_training_loop.ipynb"
REQUIRED_HEADINGS = {"The five steps of the loop", "Forgetting zero_grad", "Stepping before backward",
                     "Logging the loss with .item()", "Training mode comes first"}
CALL = re.compile(r'assert_passes\("(\w+)", (\w+), concern="(\w+)"(, hidden=True)?\)')


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(PATH, as_version=4)


def concern_cells(notebook, exercise="train_loop") -> dict[str, nbformat.NotebookNode]:
    """grade_id -> cell, for every cell that calls assert_passes on `exercise`."""
    return {nbgrader_meta(cell).get("grade_id", f"<ungraded {i}>"): cell
            for i, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and any(call[0] == exercise for call in CALL.findall(cell.source))}


def test_the_sections_the_autograder_links_to_exist(notebook):
    missing = REQUIRED_HEADINGS - headings(notebook)
    assert not missing, f"the notebook lacks the sections the diagnoses link to: {sorted(missing)}"


def test_every_phase_4_section_a_diagnosis_names_exists(notebook):
    diagnoses = pytest.importorskip("autograder.diagnoses")
    linked = {code.section.heading for code in diagnoses.CODES.values()
              if code.section.phase == "04_training_loop"}
    missing = linked - headings(notebook)
    assert not missing, f"diagnoses link to sections this notebook lacks: {sorted(missing)}"


def test_train_loop_keeps_its_contract(notebook):
    cell = cell_by_grade_id(notebook, "train_loop")
    meta = nbgrader_meta(cell)
    assert meta["solution"] and not meta["grade"], "train_loop must be a solution cell"
    functions = [node for node in ast.parse(cell.source).body if isinstance(node, ast.FunctionDef)]
    assert [f.name for f in functions] == ["train"]
    assert [a.arg for a in functions[0].args.args] == ["model", "loss_fn", "optimizer", "X", "y", "epochs"]


def test_each_concern_cell_runs_its_concern_visibly_and_hidden(notebook):
    cells = concern_cells(notebook)
    concerns = []
    for grade_id, cell in cells.items():
        assert is_test_cell(cell), f"assert_passes for train_loop outside a graded test cell ({grade_id})"
        assert nbgrader_meta(cell)["points"] > 0
        visible, hidden = cell.source.split("### BEGIN HIDDEN TESTS")
        (name, function, concern, flag), = CALL.findall(visible)
        assert (name, function, flag) == ("train_loop", "train", "")
        assert CALL.findall(hidden) == [("train_loop", "train", concern, ", hidden=True")]
        assert grade_id == f"test_train_loop_{concern}"
        concerns.append(concern)
    assert len(concerns) == len(set(concerns)) >= 3, f"concern cells: {concerns}"
    assert {"order", "logging", "numbers", "modes"} <= set(concerns)


def test_a_self_check_comes_before_the_graded_cells(notebook):
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    checks = [i for i, s in enumerate(sources) if re.search(r'\bcheck\("train_loop", train\)', s)]
    graded = [i for i, cell in enumerate(c for c in notebook.cells if c.cell_type == "code")
              if is_test_cell(cell) and '"train_loop"' in cell.source and CALL.search(cell.source)]
    assert checks, "no ungraded check(\"train_loop\", train) cell"
    assert checks[0] < min(graded)
    check_cell = [c for c in notebook.cells if c.cell_type == "code"][checks[0]]
    assert not nbgrader_meta(check_cell).get("grade"), "the self-check must not be graded"


def test_the_loss_explorer_cell_the_browser_test_drives(notebook):
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert any("from course_helpers.widgets import loss_explorer" in s and "explorer = loss_explorer()" in s
               for s in sources)
    assert "The symptom table, live" in headings(notebook)


def test_no_demo_cell_uses_the_learners_train(notebook):
    """Only the self-check and the graded cells may call the learner's (maybe unfinished) train."""
    for cell in notebook.cells:
        if cell.cell_type != "code" or nbgrader_meta(cell):
            continue
        calls = {node.func.id for node in ast.walk(ast.parse(cell.source))
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        names = {node.id for node in ast.walk(ast.parse(cell.source)) if isinstance(node, ast.Name)}
        if "train" in calls or "train" in names:
            assert re.fullmatch(r'(?s)\s*from autograder import [\w, ]+\n+report = check\("train_loop", train\)\s*',
                                cell.source), f"a demo cell uses the learner's train:\n{cell.source[:300]}"


# ---- the reference solution and broken loops, through the inspector --------------------------

def solution_namespace(notebook) -> dict:
    """Run the train_loop solution cell (solution kept) and return its namespace."""
    namespace = {}
    exec(compile(cell_by_grade_id(notebook, "train_loop").source, "<train_loop>", "exec"), namespace)
    return namespace


BROKEN = {
    # name -> (source of train, the concern whose graded cell must fail)
    "no zero_grad": ("""
def train(model, loss_fn, optimizer, X, y, epochs):
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
""", "order"),
    "step before backward": ("""
def train(model, loss_fn, optimizer, X, y, epochs):
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        optimizer.step()
        loss.backward()
        losses.append(loss.item())
    return losses
""", "order"),
    "loss tensors logged": ("""
def train(model, loss_fn, optimizer, X, y, epochs):
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss)
    return losses
""", "logging"),
    "loss after the step logged": ("""
def train(model, loss_fn, optimizer, X, y, epochs):
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            losses.append(loss_fn(model(X), y).item())
    return losses
""", "numbers"),
}

CORRECT_VARIANTS = {
    "zero_grad after step, float(), while loop": """
def train(model, loss_fn, optimizer, X, y, epochs):
    history, epoch = [], 0
    model.train(True)
    while epoch < epochs:
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=False)
        history.append(float(loss))
        epoch += 1
    return history
""",
    "p.grad = None, clipping, detach().item()": """
def train(model, loss_fn, optimizer, X, y, epochs):
    losses = []
    for _ in range(epochs):
        model.train()                      # at the top of every epoch: also right
        for p in model.parameters():
            p.grad = None
        loss = loss_fn(model(X), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1e6)
        optimizer.step()
        losses.append(loss.detach().item())
    return losses
""",
}


def _inspect():
    autograder = pytest.importorskip("autograder")
    if not hasattr(autograder, "inspect"):
        pytest.skip("the inspector is not importable yet")
    return autograder.inspect


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_the_reference_solution_passes_every_concern(notebook, hidden):
    inspect = _inspect()
    report = inspect("train_loop", solution_namespace(notebook)["train"], hidden=hidden)
    assert report.passed, [d.code for d in report.diagnoses]


@pytest.mark.parametrize("name", sorted(CORRECT_VARIANTS))
def test_other_correct_shapes_pass(name):
    inspect = _inspect()
    import torch
    namespace = {"torch": torch}
    exec(CORRECT_VARIANTS[name], namespace)
    for hidden in (False, True):
        report = inspect("train_loop", namespace["train"], hidden=hidden)
        assert report.passed, f"{name} (hidden={hidden}): {[d.code for d in report.diagnoses]}"


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_broken_loop_fails_the_graded_cell_of_its_concern(notebook, name):
    inspect = _inspect()
    import torch
    source, concern = BROKEN[name]
    assert f"test_train_loop_{concern}" in concern_cells(notebook)
    namespace = {"torch": torch}
    exec(source, namespace)
    for hidden in (False, True):
        report = inspect("train_loop", namespace["train"], hidden=hidden)
        concerns = {d.concern for d in report.diagnoses}
        assert concern in concerns or "runs" in concerns, \
            f"{name} (hidden={hidden}) should fail {concern}: got {[d.code for d in report.diagnoses]}"


def test_the_reference_without_model_train_fails_the_modes_cell(notebook):
    """The solution with its `model.train()` line deleted: only the modes concern may fail.

    The practice model starts in training mode, so only the grading run (whose model is
    handed over in evaluation mode) can catch it.
    """
    inspect = _inspect()
    from autograder.exercises import get_exercise
    if "modes" not in get_exercise("train_loop").concerns:
        pytest.skip("train_loop does not check the modes concern yet (the lead adds it, issue 10)")
    source = cell_by_grade_id(notebook, "train_loop").source
    assert source.count("    model.train()\n") == 1, "the train_loop solution should call model.train() once"
    namespace = {}
    exec(source.replace("    model.train()\n", ""), namespace)
    report = inspect("train_loop", namespace["train"], hidden=True)
    assert {d.concern for d in report.diagnoses} == {"modes"}, [d.code for d in report.diagnoses]
    assert "test_train_loop_modes" in concern_cells(notebook)


# ---- train_until: the second exercise, a loop that stops itself -----------------------------------

UNTIL_CALL = re.compile(r'assert_passes\("train_until", train_until, concern=(\w+|"\w+")(, hidden=True)?\)')


def test_train_until_comes_after_train_with_its_section_self_check_and_graded_cells(notebook):
    cell = cell_by_grade_id(notebook, "train_until")
    (function,) = [node for node in ast.parse(cell.source).body if isinstance(node, ast.FunctionDef)]
    assert [a.arg for a in function.args.args] == ["model", "loss_fn", "optimizer", "X", "y", "target_loss",
                                                    "max_epochs"]
    cells = notebook.cells
    assert cells.index(cell_by_grade_id(notebook, "train_loop")) < cells.index(cell)
    assert "Stopping at a target loss" in headings(notebook)
    check = [i for i, c in enumerate(cells) if 'check("train_until", train_until)' in c.source]
    loop, stopping = cell_by_grade_id(notebook, "test_train_until_loop"), cell_by_grade_id(notebook,
                                                                                         "test_train_until_stopping")
    assert check and cells.index(cell) < check[0] < cells.index(loop) < cells.index(stopping)
    for test, concern in ((loop, "concern"), (stopping, '"tracking"')):
        assert is_test_cell(test) and nbgrader_meta(test)["points"] > 0
        visible, hidden = test.source.split("### BEGIN HIDDEN TESTS")
        assert UNTIL_CALL.findall(visible) == [(concern, "")]
        assert UNTIL_CALL.findall(hidden) == [(concern, ", hidden=True")]


def until_namespace(notebook) -> dict:
    namespace = {}
    exec(compile(cell_by_grade_id(notebook, "train_until").source, "<train_until>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_the_train_until_solution_passes_and_its_fixtures_stop_half_way(notebook, hidden):
    """The target lies where a correct loop stops well inside its budget, so stopping too early, too late
    and never all show."""
    inspect = _inspect()
    report = inspect("train_until", until_namespace(notebook)["train_until"], hidden=hidden)
    assert report.passed, [d.message for d in report.diagnoses]
    epochs, budget = len(report.curve), report.params["max_epochs"]
    assert 3 <= epochs <= budget - 3, f"the correct loop stopped after {epochs} of {budget} epochs"
    assert min(report.curve[:-1]) >= report.params["target_loss"] > report.curve[-1]


def test_the_example_in_the_train_until_task_stops_at_the_epoch_the_demo_prints(notebook):
    """The task says: on the noisy line, lr 0.3, target_loss=0.02, max_epochs=40, train_until returns as many
    losses as the demo before it prints. Run the notebook's own cells (its data, fit_line, the demo) and the
    solution, and hold the text to it."""
    import torch
    from torch import nn

    def cell_with(text):
        (cell,) = [c for c in notebook.cells if c.cell_type == "code" and text in c.source]
        return cell.source

    namespace = {"torch": torch, "nn": nn, "np": __import__("numpy"), "device": torch.device("cpu")}
    for text in ("X = torch.linspace(-1, 1, 100)", "def fit_line(", "stop = next("):
        exec(compile(cell_with(text), "<phase 4>", "exec"), namespace)
    task = cell_by_grade_id(notebook, "train_until_instructions").source
    assert "lr 0.3, `target_loss=0.02` and `max_epochs=40`" in task and namespace["target"] == 0.02
    torch.manual_seed(0)  # as fit_line makes its model
    model = nn.Linear(1, 1)
    losses = until_namespace(notebook)["train_until"](model, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.3),
                                                      namespace["X"], namespace["y"], 0.02, 40)
    assert 1 < len(losses) == namespace["stop"] < 40


@pytest.mark.parametrize("name, line, broken, overrides", [
    ("never stops", "if losses[-1] < target_loss:\n            break", "pass", {}),
    ("stops while the loss is high", "if losses[-1] < target_loss:", "if losses[-1] > target_loss:", {}),
    ("one epoch over the budget", "range(max_epochs)", "range(max_epochs + 1)", {"target_loss": 0.0}),
])
def test_a_broken_stop_fails_only_the_stopping_cell(notebook, name, line, broken, overrides):
    inspect = _inspect()
    solution = cell_by_grade_id(notebook, "train_until").source
    assert line in solution
    namespace = {}
    exec(solution.replace(line, broken), namespace)
    for hidden in (False, True):
        report = inspect("train_until", namespace["train_until"], hidden=hidden, **overrides)
        assert {d.concern for d in report.diagnoses} == {"tracking"}, (name, hidden, report.codes)
        assert inspect("train_until", until_namespace(notebook)["train_until"], hidden=hidden, **overrides).passed


def test_train_until_speaks_of_epochs_never_of_batches():
    inspect = _inspect()
    from zoo import all_cases
    for case in all_cases():
        if case.exercise == "train_until":
            for d in inspect(case.exercise, case.function).diagnoses:
                assert "batch" not in f"{d.message} {d.fix}".lower(), (case.name, d.message, d.fix)
                # phase 4 or a phase before it (phase 3 teaches the sign of a step): never one not yet read
                assert d.section.phase <= "04_training_loop", (case.name, d.code, d.section)


# ---- schedulers at their own cadence: the notebook's claims, and the inspector inside fit ----------

def test_the_notebook_steps_each_scheduler_at_its_cadence(notebook):
    sources = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "OneCycleLR(" in sources and "ReduceLROnPlateau(" in sources
    assert "plateau.step(measured)" in sources
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    assert "all are stepped the same way" not in text


@pytest.mark.parametrize("name", ["one_cycle_stepped_every_batch", "plateau_stepped_with_the_validation_loss"])
@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_the_scheduler_zoo_cases_really_change_the_rate_inside_fit(name, hidden):
    """The zoo's scheduler cases pass (tests/test_inspector_zoo.py); here: they are not vacuous, the rate moves
    from step to step (OneCycleLR) or from epoch to epoch (ReduceLROnPlateau) on the very fixtures."""
    import torch
    from autograder.exercises import get_exercise
    from zoo import schedulers
    exercise = get_exercise("fit")
    fixture = exercise.build(exercise.parameters(hidden, {}))
    rates = []
    fixture.optimizer.register_step_pre_hook(lambda opt, args, kwargs: rates.append(opt.param_groups[0]["lr"]))
    torch.manual_seed(0)
    getattr(schedulers, name)(*fixture.args)
    distinct = len(set(rates))
    batches = len(fixture.args[1])
    if name.startswith("one_cycle"):
        assert distinct == len(rates), f"OneCycleLR stepped per batch gives every step its own rate: {rates}"
    else:
        assert distinct == fixture.params["epochs"] and len(rates) == distinct * batches, rates


# ---- the README's graded points, phase by phase ------------------------------------------------------

@pytest.mark.parametrize("phase", ["04_training_loop", "05_data_loading", "06_classifier"])
def test_the_readme_states_each_phases_graded_points_as_its_notebook_adds_them_up(phase):
    from notebook_tools import ROOT
    number = int(phase[:2])
    (row,) = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
              if line.startswith(f"| {number} | [`notebooks/{phase}`]")]
    stated = re.search(r"\*\*(\d+) graded points\*\*", row)
    assert stated, f"README's row for phase {number} does not say how many graded points it has"
    notebook = nbformat.read(NOTEBOOK_ROOT / phase / f"{phase}.ipynb", as_version=4)
    total = sum(nbgrader_meta(cell)["points"] for cell in notebook.cells if is_test_cell(cell))
    assert int(stated.group(1)) == total, \
        f"README says {stated.group(1)} points for phase {number}, the notebook has {total}"
