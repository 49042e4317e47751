"""Fast checks of the grading pieces that need no notebook run."""
import pytest
import torch

import autograder.expect
from autograder.report import diagnoses
from autograder.grade import integrity
from autograder.grade.outcome import CellOutcome, SubmissionOutcome
from autograder.report.class_report import count_diagnoses

MESSAGE = """[missing-zero-grad] At step 3 the weight gradient was 3.0x this batch's own gradient.
Fix: call `optimizer.zero_grad()` once per step.

[loss-kept-as-tensor] The loss of epoch 1 was logged as a tensor. Fix: log `loss.item()`."""


def test_parse_finds_each_coded_paragraph():
    found = diagnoses.parse(MESSAGE)
    assert [d["code"] for d in found] == ["missing-zero-grad", "loss-kept-as-tensor"]
    assert found[0]["text"].startswith("At step 3") and "zero_grad()" in found[0]["text"]


def test_parse_ignores_plain_messages():
    assert diagnoses.parse("assert 3 == 4") == []
    assert diagnoses.parse("") == []


def test_scrub_removes_hidden_lines_and_keeps_the_rest():
    hidden = {"secret = reference_losses(seed=7)", "x"}
    text = "oops: secret = reference_losses(seed=7) went wrong, x stays"
    assert diagnoses.scrub(text, hidden) == "oops: [hidden test code removed] went wrong, x stays"
    assert diagnoses.scrub("nothing to hide", hidden) == "nothing to hide"


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
        cells = [CellOutcome(f"t{i}", "train_loop", points, 1.0, "failed", diagnoses=[{"code": c, "text": ""}])
                 for i, c in enumerate(codes)]
        return SubmissionOutcome(name, "a", cells=cells or [CellOutcome("t", "train_loop", 1.0, 1.0, "passed")])
    outcomes = [student("ann", "missing-zero-grad", "missing-zero-grad"), student("ben", "missing-zero-grad"),
                student("cid"), student("dee", "eval-mode-missing")]
    rows, size = count_diagnoses(outcomes)
    assert size == 4
    assert rows[0] == {"exercise": "train_loop", "diagnosis": "missing-zero-grad", "students": 2, "percent": 50.0}
    assert rows[1]["diagnosis"] == "eval-mode-missing" and rows[1]["students"] == 1


def run_in_worker(sources: list[str], **limits) -> dict:
    from autograder.grade.pool import Worker, code_folders
    worker = Worker([], code_folders())
    try:
        cells = [{"index": i, "source": source, "trusted": False} for i, source in enumerate(sources)]
        limits = {"cell_seconds": 5, "notebook_seconds": 60, "memory_bytes": 2 ** 30, "tmp_bytes": 2 ** 26} | limits
        return worker.run({"id": 0, "cells": cells, "files": {"data.txt": "aGk="}, "limits": limits})
    finally:
        worker.close()


@pytest.mark.slow
def test_without_namespaces_the_worker_still_runs_cells_and_guards_the_network(monkeypatch):
    monkeypatch.setenv("AUTOGRADER_NO_NAMESPACES", "1")
    result = run_in_worker(["print(open('data.txt').read())\n1 + 1",
                            "import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=1)"])
    assert result["walls"].startswith("weak")
    first, second = result["cells"]["0"]["outputs"], result["cells"]["1"]["outputs"]
    assert first[0]["text"] == "hi\n" and first[1]["data"]["text/plain"] == "2"
    assert second[0]["output_type"] == "error" and "network access is disabled" in second[0]["evalue"]


@pytest.mark.slow
def test_notebook_habits_run_as_in_a_kernel_and_are_not_tampering():
    """`%matplotlib inline`, a progress bar from tqdm.auto, a widget: no stderr (nbgrader
    would score it 0), no error, and nothing mistaken for tampering."""
    result = run_in_worker(["%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([1, 2]); plt.show()",
                            "from tqdm.auto import tqdm\nfor _ in tqdm(range(3)):\n    pass",
                            "import ipywidgets\nipywidgets.IntSlider(3)",
                            "import torch\nopt = torch.optim.Adamax([torch.nn.Parameter(torch.zeros(1))])\nopt.step()"])
    for cell in result["cells"].values():
        kinds = [(o["output_type"], o.get("name")) for o in cell["outputs"]]
        assert ("stream", "stderr") not in kinds and ("error", None) not in kinds, cell
        assert cell["tampering"] == []
