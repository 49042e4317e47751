"""Phase 6, `evaluate(model, loader, loss_fn) -> tuple[float, float]`: measure, change nothing.

Evaluation mode, no gradient tracking, no weight change; returns (mean loss, accuracy
in [0, 1]). The fixture hands the model over in *training* mode, with dropout and batch-norm,
so a missing `model.eval()` shows and changes the numbers.
"""
from autograder.diagnoses import Lesson, Section, diagnosis
from autograder.exercises.base import Exercise, weights
from autograder.exercises.fixtures import (BatchBook, Fixture, classification_data, make_model,
                                           recording_loader)
from autograder.inspector.kept_graphs import check_kept_graphs
from autograder.inspector.modes import check_validation, validation_forwards
from autograder.inspector.numbers import batch_losses, check_accuracy, check_mean_loss
from autograder.inspector.validation import check_coverage
from autograder.inspector.values import describe, read_float
from autograder.inspector.words import count
import torch
from torch import nn


def evaluate(model, loader, loss_fn):
    """The contract, written plainly."""
    model.eval()
    total, correct, count_ = 0.0, 0, 0
    with torch.no_grad():
        for inputs, targets in loader:
            outputs = model(inputs)
            total += loss_fn(outputs, targets).item() * len(targets)
            correct += (outputs.argmax(dim=1) == targets).sum().item()
            count_ += len(targets)
    return total / count_, correct / count_


class Evaluate(Exercise):
    name = "evaluate"
    phase = "06_classifier"
    function_name = "evaluate"
    reference = staticmethod(evaluate)
    trains = False
    signature = "evaluate(model, loader, loss_fn) -> tuple[float, float]"
    concerns = ("modes", "logging", "numbers")
    public = dict(seed=0, samples=48, batch_size=12, features=6, hidden=16, classes=3,
                  dropout=0.2, batchnorm=True, training=True)
    hidden = dict(seed=31, samples=45, batch_size=9, features=8, hidden=12, classes=4,
                  dropout=0.3, batchnorm=True, training=True)
    purpose = "measured"
    calls = 2
    lessons = {
        "model-never-called": Lesson(
            Section("06_classifier", "Validation without gradients"),
            "Call the model on every batch of the loader (`outputs = model(inputs)`) and compute the "
            "mean loss and the accuracy from its outputs."),
    }

    def workload(self, fixture):
        return count(len(fixture.args[1]), "batch")

    def build(self, params):
        book = BatchBook()
        x, y = classification_data(params["seed"], params["samples"], params["features"], params["classes"])
        loader = recording_loader(x, y, params["batch_size"], book, "val", params["device"])
        model = make_model(params["seed"], params["features"], params["hidden"], params["classes"],
                           dropout=params["dropout"], batchnorm=params["batchnorm"],
                           training=params["training"]).to(params["device"])
        loss_fn = nn.CrossEntropyLoss()
        return Fixture((model, loader, loss_fn), model, loss_fn, None, book, params,
                       extra={"before": weights(model)})

    def judge(self, trace, result, fixture):
        found = check_validation(trace, weights_changed=trace.weights_changed)
        found += check_coverage(trace, len(fixture.args[1]), fixture.params["samples"], "evaluate")
        found += check_kept_graphs(trace)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return found + [diagnosis("wrong-return-type",
                                      f"evaluate should return a pair (mean loss, accuracy), but it "
                                      f"returned {describe(result)}.")]
        loss, loss_found = read_float(result[0], "The returned mean loss", is_loss=True)
        accuracy, accuracy_found = read_float(result[1], "The returned accuracy", is_loss=False)
        found += loss_found + accuracy_found
        if loss is not None:
            found += check_mean_loss(loss, batch_losses(trace, "val", trained=False), "The returned mean loss")
        if accuracy is not None:
            found += check_accuracy(accuracy, validation_forwards(trace), "The returned accuracy")
        return found
