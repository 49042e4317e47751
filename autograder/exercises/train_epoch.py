"""Phase 5, `train_epoch(model, loader, loss_fn, optimizer) -> float`: the per-batch loop.

One pass over the loader, one update per batch, training mode set by the function
itself (the fixture hands the model over in evaluation mode, so a missing
`model.train()` shows); returns the mean batch loss as a float.
"""
from torch import nn

from autograder.diagnoses import Lesson, Section
from autograder.exercises.base import Exercise
from autograder.exercises.contract import check_contract, training_passes
from autograder.exercises.fixtures import (BatchBook, Fixture, classification_data, make_model,
                                           make_optimizer, recording_loader)
from autograder.inspector.kept_graphs import check_kept_graphs
from autograder.inspector.modes import check_train_mode
from autograder.inspector.numbers import batch_losses, check_mean_loss, trained_losses
from autograder.inspector.order import Plan, check_order
from autograder.inspector.updates import check_updates
from autograder.inspector.values import read_float
from autograder.inspector.words import count

# Phase 5 teaches `model.train()` with the per-batch loop; phase 6 is not reached yet.
PHASE5_LESSONS = {
    "train-mode-missing": Lesson(
        Section("05_data_loading", "The per-batch loop"),
        "Call `model.train()` (with parentheses) at the start of the function, before the batch loop."),
}


def train_epoch(model, loader, loss_fn, optimizer):
    """The contract, written plainly: the curve a correct loop draws on the same fixtures."""
    model.train()
    losses = []
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def classifier_fixture(params, *, val: bool = False):
    """Model, training loader (and a validation loader), cross-entropy, optimizer, book."""
    book = BatchBook()
    x, y = classification_data(params["seed"], params["samples"], params["features"], params["classes"])
    train = recording_loader(x, y, params["batch_size"], book, "train", params["device"])
    model = make_model(params["seed"], params["features"], params["hidden"], params["classes"],
                       dropout=params["dropout"], batchnorm=params["batchnorm"],
                       training=params["training"]).to(params["device"])
    optimizer = make_optimizer(params["optimizer"], model, params["lr"]) if "optimizer" in params else None
    loaders = [train]
    if val:
        vx, vy = classification_data(params["seed"] + 1, params["val_samples"], params["features"],
                                     params["classes"])
        loaders.append(recording_loader(vx, vy, params["batch_size"], book, "val", params["device"]))
    return model, loaders, nn.CrossEntropyLoss(), optimizer, book


class TrainEpoch(Exercise):
    name = "train_epoch"
    phase = "05_data_loading"
    function_name = "train_epoch"
    reference = staticmethod(train_epoch)
    signature = "train_epoch(model, loader, loss_fn, optimizer) -> float"
    concerns = ("order", "modes", "logging", "numbers")
    public = dict(seed=0, samples=64, batch_size=8, features=6, hidden=16, classes=3, optimizer="sgd",
                  lr=0.1, dropout=0.0, batchnorm=False, training=False)
    hidden = dict(seed=2024, samples=60, batch_size=6, features=8, hidden=12, classes=4,
                  optimizer="momentum", lr=0.05, dropout=0.3, batchnorm=True, training=False)
    lessons = PHASE5_LESSONS
    calls = 2

    def workload(self, fixture):
        return count(fixture.extra["batches"], "batch")

    def build(self, params):
        model, (loader,), loss_fn, optimizer, book = classifier_fixture(params)
        return Fixture((model, loader, loss_fn, optimizer), model, loss_fn, optimizer, book, params,
                       extra={"batches": len(loader)})

    def judge(self, trace, result, fixture):
        return check_contract(trace, self.checks(trace, result, fixture), epochs=[training_passes(trace)],
                              examples=fixture.params["samples"], batch_size=fixture.params["batch_size"],
                              several=False)

    def checks(self, trace, result, fixture) -> list:
        """The per-batch loop's own checks; the contract's run after them, knowing what they found
        (an exercise built on this loop adds its own here)."""
        batches = fixture.extra["batches"]
        value, found = read_float(result, "The returned mean loss", is_loss=True)
        found += check_order(trace, Plan(steps=batches, batches=batches))
        found += check_updates(trace)
        found += check_train_mode(trace)
        found += check_kept_graphs(trace)
        if value is not None:
            found += check_mean_loss(value, batch_losses(trace, "train"), "The returned mean loss",
                                     alternatives=(batch_losses(trace, "train", first=True),
                                                   trained_losses(trace, "train")))
        return found
