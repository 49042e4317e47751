"""fit_logged and fit_tracked: phase 6's graded cells, the exercises' readers and fixtures, and the
stop-and-resume machinery.

The notebook's solutions must pass every check, public and hidden; the same solution with
one line of resuming removed must fail the `tracking` cell only. The fixtures must let every
clause of the contract show (the best loss and the best accuracy in different epochs, a
patience that is reached, an optimizer and random states that a resume needs), on a CPU and on
a simulated GPU whose generator dropout draws from. The pieces the checks are built from (the
CSV reader, the interrupting loader, the early-stopping count) are tested on their own, with
files and loaders made here.
"""
import csv
import re

import nbformat
import pytest
import torch

from autograder import inspect
from autograder.exercises.fit_tracked import RunInterrupted, _Interrupting, stop_after
from autograder.exercises.fixtures import BatchBook, recording_loader
from autograder.exercises.run_folder import COLUMNS, _half_unit, names_best_checkpoint, read_config, read_metrics
from notebook_tools import NOTEBOOK_ROOT, cell_by_grade_id, headings, is_test_cell, nbgrader_meta

PATH = NOTEBOOK_ROOT / "06_classifier" / "06_classifier.ipynb"
CALL = re.compile(r'assert_passes\("(fit_tracked|fit_logged)", \1, concern=(\w+|"\w+")(, hidden=True)?\)')


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(PATH, as_version=4)


def solutions(notebook, edit=lambda source: source) -> dict:
    """evaluate, fit, fit_logged and fit_tracked as the notebook's solution cells define them (fit_tracked edited)."""
    namespace = {}
    exec("import csv, json, math\nfrom pathlib import Path\nimport torch\nfrom torch import nn", namespace)
    for grade_id in ("evaluate", "fit", "fit_logged"):
        exec(cell_by_grade_id(notebook, grade_id).source, namespace)
    exec(edit(cell_by_grade_id(notebook, "fit_tracked").source), namespace)
    return namespace


def test_the_sections_tracking_diagnoses_link_to_exist(notebook):
    assert {"The metrics log", "The run's config", "The best checkpoint", "Early stopping",
            "Resuming a run"} <= headings(notebook)


def test_fit_tracked_keeps_its_contract(notebook):
    import ast
    cell = cell_by_grade_id(notebook, "fit_tracked")
    assert nbgrader_meta(cell)["solution"]
    (function,) = [node for node in ast.parse(cell.source).body if isinstance(node, ast.FunctionDef)]
    assert [a.arg for a in function.args.args] == ["model", "train_loader", "val_loader", "loss_fn", "optimizer",
                                                    "epochs", "run_dir", "patience"]
    assert len(function.args.defaults) == 1 and function.args.defaults[0].value is None


@pytest.mark.parametrize("name", ["fit_logged", "fit_tracked"])
def test_tracking_cells_run_visibly_and_hidden(notebook, name):
    cell = cell_by_grade_id(notebook, f"test_{name}_tracking")
    assert is_test_cell(cell)
    visible, hidden = cell.source.split("### BEGIN HIDDEN TESTS")
    assert CALL.findall(visible) == [(name, '"tracking"', "")]
    assert CALL.findall(hidden) == [(name, '"tracking"', ", hidden=True")]
    loop = cell_by_grade_id(notebook, f"test_{name}_loop")
    visible, hidden = loop.source.split("### BEGIN HIDDEN TESTS")
    assert CALL.findall(visible) == [(name, "concern", "")]
    assert CALL.findall(hidden) == [(name, "concern", ", hidden=True")]


def test_fit_logged_keeps_its_contract_and_comes_before_fit_tracked(notebook):
    import ast
    cell = cell_by_grade_id(notebook, "fit_logged")
    assert nbgrader_meta(cell)["solution"]
    (function,) = [node for node in ast.parse(cell.source).body if isinstance(node, ast.FunctionDef)]
    assert [a.arg for a in function.args.args] == ["model", "train_loader", "val_loader", "loss_fn", "optimizer",
                                                    "epochs", "run_dir"]
    assert notebook.cells.index(cell) < notebook.cells.index(cell_by_grade_id(notebook, "fit_tracked"))


@pytest.mark.parametrize("name", ["fit_logged", "fit_tracked"])
@pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
def test_the_solution_passes_every_check(notebook, name, hidden):
    report = inspect(name, solutions(notebook)[name], hidden=hidden)
    assert report.passed, str(report)


@pytest.mark.parametrize("line, code", [
    ('torch.set_rng_state(last["rng"]["cpu"])', "resume-differs"),
    ('shuffler.set_state(last["rng"]["loader"])', "resume-differs"),
    ('optimizer.load_state_dict(last["optimizer"])', "resume-differs"),
])
@pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
def test_a_resume_without_one_piece_fails_only_the_tracking_cell(notebook, line, code, hidden):
    def without(source):
        assert line in source
        return source.replace(line, "pass")
    report = inspect("fit_tracked", solutions(notebook, without)["fit_tracked"], hidden=hidden)
    assert report.codes == [code], str(report)
    assert not report.passes("tracking") and all(report.passes(c) for c in ("order", "modes", "logging", "numbers"))


@pytest.mark.parametrize("own_generator", [False, True], ids=["global-shuffle", "loader-generator"])
def test_the_solution_stopped_and_resumed_logs_the_same_rows(notebook, tmp_path, own_generator):
    """The notebook's claim, outside the checker: a KeyboardInterrupt part-way, the same call again, with a
    loader that shuffles from the global generator or from its own (built afresh, as a new process would)."""
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    from course_helpers.classifier import StopsAfter
    fit_tracked = solutions(notebook)["fit_tracked"]
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(40, 5, generator=generator), torch.randint(0, 3, (40,), generator=generator))
    val = DataLoader(data, batch_size=20)

    def run(folder, stop=None):
        torch.manual_seed(1)
        model = nn.Sequential(nn.Linear(5, 8), nn.Dropout(0.3), nn.Linear(8, 3))
        loader = DataLoader(data, batch_size=8, shuffle=True,
                            generator=torch.Generator().manual_seed(5) if own_generator else None)
        if stop is not None:
            loader = StopsAfter(loader, stop)
        return fit_tracked(model, loader, val, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters()), 4, folder)

    whole = run(tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "stopped", stop=12)  # 2 epochs of 5 batches, then 2 batches
    resumed = run(tmp_path / "stopped")
    assert resumed == whole
    rows = [read_metrics(tmp_path / name)[0] for name in ("whole", "stopped")]
    assert [r.values for r in rows[0]] == [r.values for r in rows[1]] and len(rows[0]) == 4


# -- the fixtures: every clause shows ---------------------------------------------------------------

def reference_history(name, hidden):
    """What a correct fit measures on the exercise's fixtures, epoch by epoch."""
    from autograder.exercises import get_exercise
    from autograder.exercises.fit import fit
    from autograder.inspector.guard import run_guarded
    exercise = get_exercise(name)
    params = exercise.parameters(hidden, {})
    fixture = exercise.build(params)
    outcome = run_guarded(fit, fixture.args[:6], 10, seed=params["seed"])
    return params, outcome.result


@pytest.mark.parametrize("name", ["fit_logged", "fit_tracked"])
@pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
def test_the_fixtures_lowest_loss_and_best_accuracy_fall_in_different_epochs(name, hidden):
    params, history = reference_history(name, hidden)
    losses, accuracies = history["val_loss"], history["val_acc"]
    lowest = min(range(len(losses)), key=losses.__getitem__)
    best_accuracies = [i for i, a in enumerate(accuracies) if a == max(accuracies)]
    assert 0 < lowest < params["epochs"] - 1, f"the lowest validation loss must be neither first nor last: {losses}"
    assert lowest not in best_accuracies, f"loss {losses} and accuracy {accuracies} agree on the best epoch"
    assert accuracies[lowest] < max(accuracies)


@pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
def test_the_fixtures_patience_is_reached_after_the_stop_for_resuming(hidden):
    params, history = reference_history("fit_tracked", hidden)
    stop = stop_after(history["val_loss"], params["patience"])
    assert stop is not None and params["stop_epoch"] < stop < params["epochs"], (stop, history["val_loss"])
    assert params["dropout"] > 0 and params["optimizer"] in {"momentum", "adam"}


@pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
def test_the_fixtures_training_loader_shuffles_with_its_own_generator(hidden):
    from autograder.exercises import get_exercise
    exercise = get_exercise("fit_tracked")
    loader = exercise.build(exercise.parameters(hidden, {})).args[1]
    assert isinstance(loader.generator, torch.Generator)
    first, second = ([y.tolist() for _, y in loader] for _ in range(2))
    assert first != second and sorted(sum(first, [])) == sorted(sum(second, []))


# -- the pieces -------------------------------------------------------------------------------------

def test_interrupting_collate_stops_in_the_asked_epoch_after_the_asked_batches():
    book = BatchBook()
    loader = recording_loader(torch.arange(12.0).view(6, 2), torch.zeros(6, dtype=torch.long), 2, book, "train")
    loader.collate_fn = _Interrupting(loader.collate_fn, book, epoch=2, batches=1)
    assert len(list(loader)) == 3  # epoch 1 whole
    handed = []
    with pytest.raises(RunInterrupted):
        for batch in loader:
            handed.append(batch)
    assert len(handed) == 1
    with pytest.raises(RunInterrupted):  # and on every batch after that
        next(iter(loader))


@pytest.mark.parametrize("losses, patience, stop", [
    ([3, 2, 1, 2, 3, 4], 2, 5),
    ([3, 2, 1, 2, 3, 4], 1, 4),
    ([3, 2, 2.5, 1.5, 2, 2, 2], 2, 6),  # a lower loss after a worse epoch starts the count again
    ([3, 2, 1, 0.5], 1, None),
    ([1, 1, 1], 2, 3),  # equal is not lower
])
def test_stop_after_counts_epochs_without_a_lower_loss(losses, patience, stop):
    assert stop_after(losses, patience) == stop


def _write(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def test_read_metrics_reads_numbers_with_their_written_precision(tmp_path):
    _write(tmp_path / "metrics.csv", [*COLUMNS, "seconds"],
           [[1, "0.1235", "2.5e-05", "0.5", "0.01", tmp_path / "best.pt", 3], [2, 0.1, 0.2, 0.75, 0.01, "best.pt", 1]])
    rows, problem = read_metrics(tmp_path)
    assert problem == "" and [row.epoch for row in rows] == [1, 2]
    first = rows[0]
    assert first.matches("train_loss", 0.12345) and not first.matches("train_loss", 0.1237)
    assert first.matches("val_loss", 2.54e-05) and not first.matches("val_loss", 2.6e-05)
    assert names_best_checkpoint(first.checkpoint, tmp_path) and names_best_checkpoint(rows[1].checkpoint, tmp_path)
    assert not names_best_checkpoint("", tmp_path) and not names_best_checkpoint("last.pt", tmp_path)
    assert _half_unit("0.125") == pytest.approx(0.0005) and _half_unit("abc") == 0.0


@pytest.mark.parametrize("header, rows, says", [
    (["epoch", "train_loss", "val_loss", "val_acc", "checkpoint"], [], "lack ['lr']"),
    (list(COLUMNS), [[1, "tensor(0.5)", 0.2, 0.3, 0.1, "best.pt"]], "not a number"),
    (list(COLUMNS), [[1, "nan", 0.2, 0.3, 0.1, "best.pt"]], "not finite"),
])
def test_read_metrics_says_what_is_wrong(tmp_path, header, rows, says):
    _write(tmp_path / "metrics.csv", header, rows)
    found, problem = read_metrics(tmp_path)
    assert found is None and says in problem


def test_readers_say_when_a_file_is_missing_or_not_what_it_should_be(tmp_path):
    assert read_metrics(tmp_path) == (None, "there is no metrics.csv in run_dir")
    assert read_config(tmp_path)[1] == "there is no config.json in run_dir"
    (tmp_path / "config.json").write_text("[1, 2]")
    assert "not a JSON object" in read_config(tmp_path)[1]
    (tmp_path / "config.json").write_text("{oops")
    assert "not valid JSON" in read_config(tmp_path)[1]


# -- resuming on a GPU, simulated: a second device's generator that dropout draws from ---------------

@pytest.fixture
def simulated_gpu(monkeypatch):
    """CUDA as the checker and a learner's code see it, on this CPU: `torch.cuda.is_available()` is True and
    `get_rng_state_all` / `set_rng_state_all` read and set a real `torch.Generator` of its own, which
    `torch.manual_seed` seeds too (as it seeds every CUDA device) and which dropout draws its masks from
    (as dropout on a GPU does), never from the CPU's generator."""
    device = torch.Generator()
    seed_cpu = torch.manual_seed

    def manual_seed(seed):
        device.manual_seed(seed)
        return seed_cpu(seed)

    def dropout(input, p=0.5, training=True, inplace=False):
        if not training or p == 0:
            return input
        keep = (torch.rand(input.shape, generator=device) >= p).to(input.dtype)
        return input * keep / (1 - p)

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: [device.get_state()])
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", lambda states: device.set_state(list(states)[0]))
    monkeypatch.setattr(torch, "manual_seed", manual_seed)
    monkeypatch.setattr(torch.nn.functional, "dropout", dropout)
    return device


def test_the_simulated_gpu_generator_is_the_one_dropout_draws_from(simulated_gpu):
    """The simulation holds what it stands for: restoring the CPU's state does not repeat a mask,
    restoring the device's does."""
    drop = torch.nn.Dropout(0.5).train()
    torch.manual_seed(0)
    cpu, device = torch.get_rng_state(), torch.cuda.get_rng_state_all()
    first = drop(torch.ones(64))
    torch.set_rng_state(cpu)
    assert not torch.equal(drop(torch.ones(64)), first)
    torch.cuda.set_rng_state_all(device)
    assert torch.equal(drop(torch.ones(64)), first)


@pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
def test_a_resume_that_saves_every_generator_passes_on_a_gpu(notebook, simulated_gpu, hidden):
    from zoo.fit_tracked import reference_shape
    for function in (reference_shape, solutions(notebook)["fit_tracked"]):
        report = inspect("fit_tracked", function, hidden=hidden)
        assert report.passed, str(report)


@pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
def test_a_resume_that_saves_only_the_cpu_generator_fails_on_a_gpu(simulated_gpu, hidden):
    """Right on a CPU (the zoo holds it so), wrong on a GPU: the device's dropout masks start over."""
    from zoo.fit_tracked import tracked
    cpu_only = tracked("cpu_random_state_only", last_keys=("model", "optimizer", "epoch", "rng", "loader_rng",
                                                           "best_loss", "best_epoch", "since", "history"))
    assert inspect("fit_tracked", cpu_only, hidden=hidden).codes == ["last-checkpoint-wrong", "resume-differs"]
    message = inspect("fit_tracked", cpu_only, hidden=hidden).diagnoses[0].message
    assert "`torch.cuda.get_rng_state_all()` (1 CUDA device)" in message
    assert "a run on a GPU cannot be resumed exactly" in message  # what this lack costs, said as such
    saved_not_set = tracked("cuda_state_saved_never_set", restore_rng=False)
    assert inspect("fit_tracked", saved_not_set, hidden=hidden).codes == ["resume-differs"]


def test_on_a_cpu_the_same_cpu_only_resume_passes():
    from zoo.fit_tracked import tracked
    cpu_only = tracked("cpu_random_state_only", last_keys=("model", "optimizer", "epoch", "rng", "loader_rng",
                                                           "best_loss", "best_epoch", "since", "history"))
    assert inspect("fit_tracked", cpu_only).passed
