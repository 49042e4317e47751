"""Phase 6, `fit(model, train_loader, val_loader, loss_fn, optimizer, epochs) -> dict`.

Per epoch: train on every training batch in training mode, then validate in
evaluation mode without gradients; returns lists of floats, one entry per epoch, under
"train_loss", "val_loss" and "val_acc". The model arrives in evaluation mode and
there are several epochs, so a `model.train()` called only once shows in epoch 2.
"""
from autograder.diagnoses import diagnosis
from autograder.exercises.base import Exercise
from autograder.exercises.fixtures import Fixture
from autograder.exercises.train_epoch import classifier_fixture
from autograder.inspector.kept_graphs import check_kept_graphs
from autograder.inspector.modes import check_train_mode, check_validation, validation_forwards
from autograder.inspector.numbers import batch_losses, check_accuracy, check_mean_loss
from autograder.inspector.order import Plan, check_order
from autograder.inspector.values import describe, read_float_list
from autograder.inspector.words import count

KEYS = ("train_loss", "val_loss", "val_acc")


class Fit(Exercise):
    name = "fit"
    phase = "06_classifier"
    function_name = "fit"
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
                       optimizer, book, params, extra={"batches": len(train)})

    def judge(self, trace, result, fixture):
        epochs, batches = fixture.params["epochs"], fixture.extra["batches"]
        found = check_order(trace, Plan(steps=epochs * batches, batches=epochs * batches))
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
        for epoch, window in enumerate(_epoch_windows(trace, epochs)):
            where = f" for epoch {epoch + 1}"
            trained, measured, val_passes = _passes_in(trace, window)
            if lists["train_loss"] is not None and trained:
                found += check_mean_loss(
                    lists["train_loss"][epoch], batch_losses(trace, "train", trained[0]),
                    "The returned history['train_loss']", where,
                    alternatives=tuple(batch_losses(trace, "train", p, trained=False) for p in measured))
            val_passes = val_passes or [epoch]
            if lists["val_loss"] is not None:
                found += check_mean_loss(
                    lists["val_loss"][epoch], batch_losses(trace, "val", val_passes[-1], trained=False),
                    "The returned history['val_loss']", where,
                    alternatives=tuple(batch_losses(trace, "val", p, trained=False) for p in val_passes))
            if lists["val_acc"] is not None:
                found += check_accuracy(
                    lists["val_acc"][epoch], _val_forwards(trace, val_passes[-1]),
                    "The returned history['val_acc']", where,
                    alternatives=tuple(_val_forwards(trace, p) for p in val_passes))
        return found


def _val_forwards(trace, epoch):
    return [f for f in validation_forwards(trace) if f.batch.epoch == epoch]


def _epoch_windows(trace, epochs):
    """(first seq, last seq) of each epoch: from one training pass to the next.

    A training pass is a pass over the training loader whose losses went through
    backward; measurement passes and validation passes belong to the window they fall in.
    """
    starts = []
    for loss in trace.losses:
        batch = loss.forward.batch if loss.forward else None
        if loss.backward_seqs and batch is not None and batch.split == "train":
            if not starts or starts[-1][0] != batch.epoch:
                starts.append((batch.epoch, loss.forward.seq))
    starts = starts[:epochs]
    bounds = [seq for _, seq in starts[1:]] + [float("inf")]
    return [(seq, end) for (_, seq), end in zip(starts, bounds)]


def _passes_in(trace, window):
    """(training passes, measurement passes over training data, validation passes) in a window."""
    start, end = window
    trained, measured, val = [], [], []
    for forward in trace.forwards:
        batch = forward.batch
        if batch is None or not start <= forward.seq < end:
            continue
        if batch.split == "val":
            target = val
        elif any(l.forward is forward and l.backward_seqs for l in trace.losses):
            target = trained
        else:
            target = measured
        if batch.epoch not in target:
            target.append(batch.epoch)
    measured = [p for p in measured if p not in trained]
    return trained, measured, val
