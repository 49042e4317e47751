"""Phase 5 (Dataset and DataLoader): the promises the notebook makes to the autograder.

The autograder's diagnoses link to sections of this notebook, the graded loop exercises
keep the grade_ids and signatures the course's contracts fix, and every graded concern
cell runs the same concern visibly and hidden. These checks read the notebook only, so
they take milliseconds; running it is course CI's job (tests/test_notebooks.py).
"""
import ast
import re

import nbformat
import pytest

from autograder.diagnoses import CODES, CONCERNS
from notebook_tools import NOTEBOOK_ROOT, cell_by_grade_id, headings, is_test_cell, nbgrader_meta

PATH = NOTEBOOK_ROOT / "05_data_loading" / "05_data_loading.ipynb"
CONTRACTS = {
    "train_epoch": ["model", "loader", "loss_fn", "optimizer"],
    "train_epoch_accumulate": ["model", "loader", "loss_fn", "optimizer", "accum_steps"],
}
CALL = re.compile(r'assert_passes\("(\w+)", (\w+), concern="(\w+)"(, hidden=True)?\)')


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(PATH, as_version=4)


def test_every_section_the_autograder_links_to_exists(notebook):
    linked = {code.section.heading for code in CODES.values() if code.section.phase == "05_data_loading"}
    assert {"The per-batch loop", "Gradient accumulation on purpose"} <= headings(notebook)
    missing = linked - headings(notebook)
    assert not missing, f"diagnoses link to sections this notebook lacks: {sorted(missing)}"


@pytest.mark.parametrize("grade_id", sorted(CONTRACTS))
def test_loop_exercises_keep_their_contract(notebook, grade_id):
    cell = cell_by_grade_id(notebook, grade_id)
    meta = nbgrader_meta(cell)
    assert meta["solution"] and not meta["grade"], f"{grade_id} must be a solution cell"
    functions = [node for node in ast.parse(cell.source).body if isinstance(node, ast.FunctionDef)]
    assert [f.name for f in functions] == [grade_id]
    assert [a.arg for a in functions[0].args.args] == CONTRACTS[grade_id]


@pytest.mark.parametrize("exercise", sorted(CONTRACTS))
def test_each_concern_cell_runs_its_concern_visibly_and_hidden(notebook, exercise):
    concerns = []
    for cell in notebook.cells:
        calls = CALL.findall(cell.source)
        if not calls or calls[0][0] != exercise:
            continue
        assert is_test_cell(cell), f"assert_passes for {exercise} outside a graded test cell"
        visible, hidden = cell.source.split("### BEGIN HIDDEN TESTS")
        (name, function, concern, flag), = CALL.findall(visible)
        assert (name, function, flag) == (exercise, exercise, "")
        assert CALL.findall(hidden) == [(exercise, exercise, concern, ", hidden=True")]
        assert concern in CONCERNS and concern != "runs"
        assert nbgrader_meta(cell)["grade_id"] == f"test_{exercise}_{concern}"
        concerns.append(concern)
    assert len(concerns) == len(set(concerns)) >= 4, f"{exercise}: concern cells {concerns}"
    if exercise == "train_epoch_accumulate":
        assert "accumulation" in concerns, "the accumulation bugs need their own graded cell"


def test_every_loop_exercise_has_an_ungraded_self_check(notebook):
    for exercise in CONTRACTS:
        checks = [cell for cell in notebook.cells
                  if cell.cell_type == "code" and f'check("{exercise}", {exercise})' in cell.source]
        assert checks and not any(nbgrader_meta(cell).get("grade") for cell in checks), exercise


# -- the graded cells, run: the reference passes everything, one bug costs one concern ------------

def solution_namespace(notebook) -> dict:
    """The notebook's reference solutions, defined by running their cells' source."""
    namespace = {}
    exec("import math, torch\nfrom torch import nn\nfrom torch.utils.data import Dataset", namespace)
    for grade_id in (*CONTRACTS, "pair_dataset", "optimizer_steps"):
        exec(cell_by_grade_id(notebook, grade_id).source, namespace)
    return namespace


def graded_concerns(notebook, exercise) -> list[str]:
    return [concern for cell in notebook.cells if is_test_cell(cell)
            for name, _, concern, hidden in CALL.findall(cell.source) if name == exercise and not hidden]


@pytest.mark.parametrize("exercise", sorted(CONTRACTS))
@pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
def test_reference_solutions_pass_every_check(notebook, exercise, hidden):
    from autograder import inspect
    report = inspect(exercise, solution_namespace(notebook)[exercise], hidden=hidden)
    assert report.passed, str(report)


def no_train_mode(model, loader, loss_fn, optimizer):
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def no_zero_grad(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def keeps_loss_tensors(model, loader, loss_fn, optimizer):
    model.train()
    kept = []
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        kept.append(loss)
    return sum(kept).item() / len(kept)


def returns_the_sum(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total


def accumulate(scale=True, final_step=True, log_scaled=False, clear_every_batch=False):
    """A train_epoch_accumulate with the chosen bugs switched on."""
    def train_epoch_accumulate(model, loader, loss_fn, optimizer, accum_steps):
        model.train()
        optimizer.zero_grad()
        logged = []
        for i, (xb, yb) in enumerate(loader):
            if clear_every_batch:
                optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            scaled = loss / accum_steps if scale else loss
            scaled.backward()
            logged.append((scaled if log_scaled else loss).item())
            if (i + 1) % accum_steps == 0 or (final_step and i + 1 == len(loader)):
                optimizer.step()
                optimizer.zero_grad()
        return sum(logged) / len(logged)
    return train_epoch_accumulate


BUGS = [
    ("train_epoch", no_train_mode, "modes"),
    ("train_epoch", no_zero_grad, "order"),
    ("train_epoch", keeps_loss_tensors, "logging"),
    ("train_epoch", returns_the_sum, "numbers"),
    ("train_epoch_accumulate", accumulate(scale=False), "accumulation"),
    ("train_epoch_accumulate", accumulate(final_step=False), "accumulation"),
    ("train_epoch_accumulate", accumulate(clear_every_batch=True), "accumulation"),
    ("train_epoch_accumulate", accumulate(log_scaled=True), "numbers"),
]


@pytest.mark.parametrize("exercise, function, concern", BUGS,
                         ids=[f"{e}-{c}-{i}" for i, (e, _, c) in enumerate(BUGS)])
@pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
def test_one_bug_fails_only_its_own_graded_cell(notebook, exercise, function, concern, hidden):
    from autograder import inspect
    report = inspect(exercise, function, hidden=hidden)
    failing = [c for c in graded_concerns(notebook, exercise) if not report.passes(c)]
    assert failing == [concern], f"expected only the {concern} cell to fail, got {failing}:\n{report}"


def test_reference_dataset_and_step_count(notebook):
    import torch
    from torch.utils.data import DataLoader
    namespace = solution_namespace(notebook)
    pairs = namespace["TensorPairDataset"](torch.arange(10, dtype=torch.uint8).reshape(5, 2),
                                           torch.tensor([1.0, 0.0, 2.0, 1.0, 0.0]))
    x, y = pairs[-1]
    assert len(pairs) == 5 and x.dtype == torch.float32 and y.dtype == torch.int64 and y.item() == 0
    with pytest.raises(ValueError, match="5.*4"):
        namespace["TensorPairDataset"](torch.zeros(5, 2), torch.zeros(4))
    for n, batch, drop, k in [(1000, 32, True, 4), (1797, 64, False, 1), (7, 3, False, 2), (5, 10, False, 3)]:
        batches = len(DataLoader(range(n), batch_size=batch, drop_last=drop))
        assert namespace["optimizer_steps"](n, batch, drop, k) == -(-batches // k)
