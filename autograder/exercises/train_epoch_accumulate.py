"""Phase 5, `train_epoch_accumulate(model, loader, loss_fn, optimizer, accum_steps) -> float`.

One step every `accum_steps` batches, each loss divided by `accum_steps` before
`backward()`, one final step for a leftover partial group; returns the mean
*unscaled* batch loss. Plain SGD and a batch count that is not a multiple of
`accum_steps`, in public and hidden fixtures alike: Adam would hide unscaled
gradients, and a multiple would hide a missing final step.
"""
from autograder.exercises.base import Exercise
from autograder.exercises.contract import check_contract, training_passes
from autograder.exercises.fixtures import Fixture
from autograder.exercises.train_epoch import PHASE5_LESSONS, classifier_fixture
from autograder.inspector.accumulation import check_accumulation
from autograder.inspector.kept_graphs import check_kept_graphs
from autograder.inspector.modes import check_train_mode
from autograder.inspector.numbers import batch_losses, check_mean_loss, trained_losses
from autograder.inspector.order import Plan, check_order
from autograder.inspector.updates import check_updates
from autograder.inspector.values import read_float
from autograder.inspector.words import count


def train_epoch_accumulate(model, loader, loss_fn, optimizer, accum_steps):
    """The contract, written plainly: the curve a correct loop draws on the same fixtures."""
    model.train()
    optimizer.zero_grad()
    losses = []
    for i, (inputs, targets) in enumerate(loader):
        loss = loss_fn(model(inputs), targets)
        (loss / accum_steps).backward()
        losses.append(loss.item())
        if (i + 1) % accum_steps == 0 or i + 1 == len(loader):
            optimizer.step()
            optimizer.zero_grad()
    return sum(losses) / len(losses)


class TrainEpochAccumulate(Exercise):
    name = "train_epoch_accumulate"
    phase = "05_data_loading"
    function_name = "train_epoch_accumulate"
    reference = staticmethod(train_epoch_accumulate)
    signature = "train_epoch_accumulate(model, loader, loss_fn, optimizer, accum_steps) -> float"
    concerns = ("order", "accumulation", "modes", "logging", "numbers")
    public = dict(seed=0, samples=80, batch_size=8, accum_steps=4, features=6, hidden=16, classes=3,
                  optimizer="sgd", lr=0.1, dropout=0.0, batchnorm=False, training=False)
    hidden = dict(seed=77, samples=42, batch_size=6, accum_steps=3, features=8, hidden=12, classes=4,
                  optimizer="sgd", lr=0.05, dropout=0.3, batchnorm=True, training=False)
    lessons = PHASE5_LESSONS
    calls = 2

    def workload(self, fixture):
        return count(fixture.extra["batches"], "batch")

    def build(self, params):
        model, (loader,), loss_fn, optimizer, book = classifier_fixture(params)
        return Fixture((model, loader, loss_fn, optimizer, params["accum_steps"]), model, loss_fn,
                       optimizer, book, params, extra={"batches": len(loader)})

    def judge(self, trace, result, fixture):
        batches, k = fixture.extra["batches"], fixture.params["accum_steps"]
        value, found = read_float(result, "The returned mean loss", is_loss=True)
        found += check_order(trace, Plan(steps=-(-batches // k), batches=batches, accum_steps=k))
        found += check_accumulation(trace, batches, k)
        found += check_updates(trace, accum_steps=k)
        found += check_train_mode(trace)
        found += check_kept_graphs(trace)
        if value is not None:
            found += check_mean_loss(value, batch_losses(trace, "train"), "The returned mean loss",
                                     accum_steps=k, alternatives=(batch_losses(trace, "train", first=True),
                                                   trained_losses(trace, "train")))
        return check_contract(trace, found, epochs=[training_passes(trace)], examples=fixture.params["samples"],
                              batch_size=fixture.params["batch_size"], accum_steps=k, several=False)
