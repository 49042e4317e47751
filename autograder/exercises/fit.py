"""Phase 6, `fit(model, train_loader, val_loader, loss_fn, optimizer, epochs) -> dict`.

Per epoch: train on every training batch in training mode, then validate in
evaluation mode without gradients; returns lists of floats, one entry per epoch, under
"train_loss", "val_loss" and "val_acc". The model arrives in evaluation mode and
there are several epochs, so a `model.train()` called only once shows in epoch 2.
"""
from autograder.diagnoses import diagnosis
from autograder.exercises.base import Exercise
from autograder.exercises.contract import by_window, check_contract
from autograder.exercises.fixtures import Fixture
from autograder.exercises.evaluate import evaluate
from autograder.exercises.train_epoch import classifier_fixture, train_epoch
from autograder.inspector.kept_graphs import check_kept_graphs
from autograder.inspector.modes import check_train_mode, check_validation, validation_forwards
from autograder.inspector.numbers import batch_losses, check_accuracy, check_mean_loss, trained_losses
from autograder.inspector.order import Plan, check_order
from autograder.inspector.updates import check_updates
from autograder.inspector.validation import check_history, epoch_windows
from autograder.inspector.values import describe, read_float_list
from autograder.inspector.words import count

KEYS = ("train_loss", "val_loss", "val_acc")


def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    """The contract, written plainly: the curve a correct loop draws on the same fixtures."""
    history = {key: [] for key in KEYS}
    for _ in range(epochs):
        history["train_loss"].append(train_epoch(model, train_loader, loss_fn, optimizer))
        val_loss, val_acc = evaluate(model, val_loader, loss_fn)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


class Fit(Exercise):
    name = "fit"
    phase = "06_classifier"
    function_name = "fit"
    reference = staticmethod(fit)
    signature = "fit(model, train_loader, val_loader, loss_fn, optimizer, epochs) -> dict"
    concerns = ("order", "modes", "logging", "numbers")
    public = dict(seed=0, samples=48, val_samples=24, batch_size=8, epochs=3, features=6, hidden=16,
                  classes=3, optimizer="sgd", lr=0.1, dropout=0.0, batchnorm=False, training=False)
    hidden = dict(seed=99, samples=35, val_samples=21, batch_size=7, epochs=2, features=8, hidden=12,
                  classes=4, optimizer="adam", lr=0.01, dropout=0.3, batchnorm=True, training=False)

    def workload(self, fixture):
        return f"{count(fixture.params['epochs'], 'epoch')} of {count(fixture.extra['batches'], 'batch')}"

    def build(self, params):
        model, (train, val), loss_fn, optimizer, book = classifier_fixture(params, val=True)
        return Fixture((model, train, val, loss_fn, optimizer, params["epochs"]), model, loss_fn,
                       optimizer, book, params, extra={"batches": len(train), "val_batches": len(val)})

    def judge(self, trace, result, fixture):
        epochs, batches = fixture.params["epochs"], fixture.extra["batches"]
        found = check_order(trace, Plan(steps=epochs * batches, batches=epochs * batches))
        found += check_updates(trace)
        found += check_train_mode(trace)
        found += check_validation(trace)
        found += check_kept_graphs(trace)
        if not isinstance(result, dict) or any(key not in result for key in KEYS):
            keys = f" with keys {sorted(map(str, result))}" if isinstance(result, dict) else ""
            return found + [diagnosis("wrong-return-type",
                                      f"fit should return a dict with the keys {list(KEYS)}, but it "
                                      f"returned {describe(result)}{keys}.")]
        lists = {}
        for key in KEYS:
            values, problems = read_float_list(result[key], f"The returned history[{key!r}]", epochs,
                                               is_loss=key != "val_acc")
            found += problems
            lists[key] = values
        windows = epoch_windows(trace, epochs)
        for epoch, window in enumerate(windows):
            trained, measured = _train_passes_in(trace, window)
            if lists["train_loss"] is not None and trained:
                found += check_mean_loss(
                    lists["train_loss"][epoch], batch_losses(trace, "train", trained[0], window=window),
                    "The returned history['train_loss']", f" for epoch {epoch + 1}",
                    alternatives=(batch_losses(trace, "train", trained[0], window=window, first=True),
                                  trained_losses(trace, "train", window))
                    + tuple(batch_losses(trace, "train", p, trained=False) for p in measured))
        val_batches = fixture.extra["val_batches"]
        for key, kind in (("val_loss", "loss"), ("val_acc", "acc")):
            if lists[key] is None:
                continue
            problems, unexplained = check_history(trace, key, lists[key], epochs, val_batches, kind,
                                                  fixture.params["val_samples"])
            found += problems
            for epoch in unexplained:
                found += _plain_number(trace, key, kind, lists[key][epoch], epoch, windows[epoch])
        return self.contract(trace, found, fixture)

    def contract(self, trace, found, fixture):
        return check_contract(trace, found, epochs=by_window(trace, fixture.params["epochs"]),
                              examples=fixture.params["samples"], batch_size=fixture.params["batch_size"])


def _plain_number(trace, key, kind, figure, epoch, window):
    """A validation number that matches no pass the run measured: compare it with the epoch's own."""
    start, end = window
    own = [f for f in validation_forwards(trace) if start <= f.seq < end]
    if not own:
        return []
    last = max(f.batch.epoch for f in own)
    name, where = f"The returned history[{key!r}]", f" for epoch {epoch + 1}"
    if kind == "loss":
        return check_mean_loss(figure, batch_losses(trace, "val", last, trained=False), name, where)
    return check_accuracy(figure, [f for f in own if f.batch.epoch == last], name, where)


def _train_passes_in(trace, window):
    """(training passes, measurement passes over the training data) whose forwards lie in a window."""
    start, end = window
    trained, measured = [], []
    for forward in trace.forwards:
        if forward.split != "train" or not start <= forward.seq < end:
            continue
        target = trained if forward.trained else measured
        if forward.batch.epoch not in target:
            target.append(forward.batch.epoch)
    return trained, [p for p in measured if p not in trained]
