"""Phase 4, `train(model, loss_fn, optimizer, X, y, epochs) -> list[float]`: full-batch training.

One update per epoch; the returned list holds each epoch's loss, computed on that
epoch's forward pass, as Python floats. Regression on seeded Gaussian data.
"""
from torch import nn

from autograder.diagnoses import Lesson, Section
from autograder.exercises.base import Exercise
from autograder.exercises.contract import by_update, check_contract
from autograder.exercises.fixtures import BatchBook, Fixture, make_model, make_optimizer, regression_data
from autograder.inspector.kept_graphs import check_kept_graphs
from autograder.inspector.numbers import check_loss_list, value
from autograder.inspector.modes import check_train_mode
from autograder.inspector.order import Plan, check_order
from autograder.inspector.updates import check_updates
from autograder.inspector.values import read_float_list
from autograder.inspector.words import count

_LOOP = "04_training_loop"


def train(model, loss_fn, optimizer, X, y, epochs):
    """The contract, written plainly: the curve a correct loop draws on the same fixtures."""
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


class TrainLoop(Exercise):
    name = "train_loop"
    phase = "04_training_loop"
    function_name = "train"
    reference = staticmethod(train)
    signature = "train(model, loss_fn, optimizer, X, y, epochs) -> list[float]"
    concerns = ("order", "modes", "logging", "numbers")
    public = dict(seed=0, samples=32, features=3, hidden=8, epochs=5, optimizer="sgd", lr=0.05,
                  dropout=0.1, batchnorm=False, training=False)
    hidden = dict(seed=1234, samples=40, features=5, hidden=12, epochs=7, optimizer="sgd", lr=0.05,
                  dropout=0.2, batchnorm=True, training=False)
    # Full batch: there is no batch loop yet, and phase 5 comes later.
    lessons = {
        "train-mode-missing": Lesson(
            Section(_LOOP, "Training mode comes first"),
            "Call `model.train()` at the start of the function, before the epoch loop: the model you are "
            "handed may be in evaluation mode."),
        "missing-zero-grad": Lesson(
            Section(_LOOP, "Forgetting zero_grad"),
            "Call `optimizer.zero_grad()` once per epoch, inside the epoch loop, before `loss.backward()`."),
        "wrong-step-count": Lesson(
            Section(_LOOP, "The five steps of the loop"),
            "Call `optimizer.step()` once per epoch, inside the epoch loop, after `loss.backward()`."),
        "wrong-loss-values": Lesson(
            Section(_LOOP, "Logging the loss with .item()"),
            "Append each epoch's loss, computed on that epoch's forward pass, as `loss.item()`."),
        "skipped-training-data": Lesson(
            Section(_LOOP, "The five steps of the loop"),
            "Train on all of `X` every epoch: `model(X)`, not a slice or a sample of its rows."),
        "repeated-training-data": Lesson(
            Section(_LOOP, "The five steps of the loop"),
            "Run the model once per epoch on `X` itself (not on `X` repeated or concatenated with itself)."),
        "labels-mismatched": Lesson(
            Section(_LOOP, "The five steps of the loop"),
            "Compute the loss on `model(X)` and `y` row for row: if you reorder the rows, index `X` and `y` "
            "with the same indices."),
    }

    def workload(self, fixture):
        return count(fixture.params["epochs"], "epoch")

    def build(self, params):
        x, y = regression_data(params["seed"], params["samples"], params["features"])
        model = make_model(params["seed"], params["features"], params["hidden"], 1,
                           dropout=params["dropout"], batchnorm=params["batchnorm"],
                           training=params["training"]).to(params["device"])
        optimizer = make_optimizer(params["optimizer"], model, params["lr"])
        loss_fn = nn.MSELoss()
        book = BatchBook()
        book.new_pass("train")
        x, y = x.to(params["device"]), y.to(params["device"])
        book.add("train", x, y)
        return Fixture((model, loss_fn, optimizer, x, y, params["epochs"]), model, loss_fn, optimizer,
                       book, params)

    def judge(self, trace, result, fixture):
        epochs = fixture.params["epochs"]
        values, found = read_float_list(result, "The returned list of losses", epochs, is_loss=True)
        found += check_order(trace, Plan(steps=epochs, batches=epochs, unit="epoch"))
        found += check_updates(trace)
        found += check_train_mode(trace)
        found += check_kept_graphs(trace)
        if values is not None:
            passes = [f for f in trace.forwards if f.split == "train" and f.grad_enabled and value(f) is not None]
            trained = [f for f in passes if f.trained]
            found += check_loss_list(values, trained if len(trained) == epochs else passes,
                                     "The returned loss")
        return check_contract(trace, found, epochs=by_update(trace), examples=fixture.params["samples"],
                              batch_size=None)
