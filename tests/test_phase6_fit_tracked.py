"""fit_tracked: phase 6's graded cells, the exercise's readers and its stop-and-resume machinery.

The notebook's solution must pass every check, public and hidden; the same solution with
one line of resuming removed must fail the `tracking` cell only. The pieces the checks are
built from (the CSV reader, the interrupting loader, the early-stopping count) are tested
on their own, with files and loaders made here.
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
CALL = re.compile(r'assert_passes\("fit_tracked", fit_tracked, concern=(\w+|"\w+")(, hidden=True)?\)')


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(PATH, as_version=4)


def solutions(notebook, edit=lambda source: source) -> dict:
    """evaluate, fit and fit_tracked as the notebook's solution cells define them (fit_tracked edited)."""
    namespace = {}
    exec("import csv, json, math\nfrom pathlib import Path\nimport torch\nfrom torch import nn", namespace)
    for grade_id in ("evaluate", "fit"):
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


def test_tracking_cell_runs_visibly_and_hidden(notebook):
    cell = cell_by_grade_id(notebook, "test_fit_tracked_tracking")
    assert is_test_cell(cell)
    visible, hidden = cell.source.split("### BEGIN HIDDEN TESTS")
    assert CALL.findall(visible) == [('"tracking"', "")]
    assert CALL.findall(hidden) == [('"tracking"', ", hidden=True")]
    loop = cell_by_grade_id(notebook, "test_fit_tracked_loop")
    visible, hidden = loop.source.split("### BEGIN HIDDEN TESTS")
    assert CALL.findall(visible) == [("concern", "")] and CALL.findall(hidden) == [("concern", ", hidden=True")]


@pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
def test_the_solution_passes_every_check(notebook, hidden):
    report = inspect("fit_tracked", solutions(notebook)["fit_tracked"], hidden=hidden)
    assert report.passed, str(report)


@pytest.mark.parametrize("line, code", [
    ('torch.set_rng_state(last["rng"])', "resume-differs"),
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


def test_the_solution_stopped_and_resumed_logs_the_same_rows(notebook, tmp_path):
    """The notebook's claim, outside the checker: a KeyboardInterrupt part-way, the same call again."""
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    from course_helpers.classifier import StopsAfter
    fit_tracked = solutions(notebook)["fit_tracked"]
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(40, 5, generator=generator), torch.randint(0, 3, (40,), generator=generator))
    val = DataLoader(data, batch_size=20)

    def run(folder, loader):
        torch.manual_seed(1)
        model = nn.Sequential(nn.Linear(5, 8), nn.Dropout(0.3), nn.Linear(8, 3))
        return fit_tracked(model, loader, val, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters()), 4, folder)

    shuffled = DataLoader(data, batch_size=8, shuffle=True)
    whole = run(tmp_path / "whole", shuffled)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "stopped", StopsAfter(shuffled, 12))  # 2 epochs of 5 batches, then 2 batches
    resumed = run(tmp_path / "stopped", shuffled)
    assert resumed == whole
    rows = [read_metrics(tmp_path / name)[0] for name in ("whole", "stopped")]
    assert [r.values for r in rows[0]] == [r.values for r in rows[1]] and len(rows[0]) == 4


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
