"""Phase 7, `train_epoch_onecycle(model, loader, loss_fn, optimizer, scheduler) -> float`.

A learning-rate schedule planned per batch (`OneCycleLR`, or a cosine over the batches):
phase 5's per-batch loop with `scheduler.step()` after every `optimizer.step()`, so that
optimizer step k uses the schedule's k-th learning rate. Stepped once per epoch, as an
epoch scheduler would be, the run stays at the schedule's first values; stepped before
the optimizer, every step uses the next step's rate and the first one is never used.

Judged by effect: the learning rate each step of the given optimizer used (read by a hook
on that optimizer) against the rates a twin of the scheduler, stepped once per step,
plans; and how many times the given scheduler stepped.
"""
import torch

from autograder.diagnoses import diagnosis
from autograder.exercises.fixtures import Fixture
from autograder.exercises.train_epoch import TrainEpoch, classifier_fixture
from autograder.inspector.words import count, times


def train_epoch_onecycle(model, loader, loss_fn, optimizer, scheduler):
    """The contract, written plainly: the curve a correct loop draws on the same fixtures."""
    model.train()
    losses = []
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def make_scheduler(params: dict, optimizer, batches: int):
    """The fixture's per-batch schedule, planned for three epochs (so extra steps in one epoch do not
    run past its end and raise)."""
    if params["scheduler"] == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=params["max_lr"], total_steps=3 * batches,
                                                   cycle_momentum=False)
    if params["scheduler"] == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=batches, eta_min=params["lr"] / 20)
    raise ValueError(f"unknown scheduler {params['scheduler']!r}: use 'onecycle' or 'cosine'")


def planned_rates(params: dict, batches: int, steps: int) -> list[float]:
    """The learning rate of each of the first `steps` optimizer steps, from a twin of the fixture's
    scheduler stepped once after every step of a twin optimizer."""
    twin = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=params["lr"])
    schedule = make_scheduler(params, twin, batches)
    rates = []
    for _ in range(steps):
        rates.append(twin.param_groups[0]["lr"])
        twin.step()
        schedule.step()
    return rates


class _RateLog:
    """The learning rate the given optimizer held at each of its steps (a hook on that optimizer only)."""

    def __init__(self, optimizer):
        self.rates = []
        optimizer.register_step_pre_hook(lambda opt, args, kwargs: self.rates.append(opt.param_groups[0]["lr"]))


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(b), 1e-12)


def check_schedule(rates: list[float], scheduler_steps: int, params: dict, batches: int) -> list:
    if not rates:
        return []  # no step at all: the order checks say so
    planned = planned_rates(params, batches, len(rates) + 1)
    if all(_same(r, p) for r, p in zip(rates, planned)) and scheduler_steps == len(rates):
        return []
    if all(_same(r, p) for r, p in zip(rates, planned[1:])) and len(rates) > 1:
        return [diagnosis(
            "scheduler-before-step",
            f"The scheduler stepped before the optimizer: step 1 used the learning rate {rates[0]:.4g}, the "
            f"schedule's second value, step 2 its third ({rates[1]:.4g}), and the first value, "
            f"{planned[0]:.4g}, was never used.")]
    first = next((k for k, (r, p) in enumerate(zip(rates, planned)) if not _same(r, p)), None)
    if first is None:  # every rate right so far, but the scheduler ends the epoch out of step
        where = (f"all {count(len(rates), 'step')} used the planned rates, but the scheduler stepped "
                 f"{times(scheduler_steps)}, so the next epoch starts from the wrong place in the schedule")
    else:
        where = (f"step {first + 1} used the learning rate {rates[first]:.4g} where the schedule planned "
                 f"{planned[first]:.4g}")
    return [diagnosis(
        "scheduler-cadence",
        f"The scheduler stepped {times(scheduler_steps)} in {count(batches, 'batch')} (this schedule plans one "
        f"step per batch, after each optimizer step): {where}.")]


class TrainEpochOnecycle(TrainEpoch):
    name = "train_epoch_onecycle"
    phase = "07_debugging"
    function_name = "train_epoch_onecycle"
    reference = staticmethod(train_epoch_onecycle)
    signature = "train_epoch_onecycle(model, loader, loss_fn, optimizer, scheduler) -> float"
    public = TrainEpoch.public | dict(scheduler="onecycle", max_lr=0.5)
    hidden = TrainEpoch.hidden | dict(scheduler="cosine", max_lr=None)
    lessons = {}

    def build(self, params):
        model, (loader,), loss_fn, optimizer, book = classifier_fixture(params)
        scheduler = make_scheduler(params, optimizer, len(loader))
        return Fixture((model, loader, loss_fn, optimizer, scheduler), model, loss_fn, optimizer, book, params,
                       extra={"batches": len(loader), "rates": _RateLog(optimizer), "scheduler": scheduler,
                              "start": scheduler.last_epoch})

    def judge(self, trace, result, fixture):
        found = super().judge(trace, result, fixture)
        extra = fixture.extra
        stepped = extra["scheduler"].last_epoch - extra["start"]
        return found + check_schedule(extra["rates"].rates, stepped, fixture.params, extra["batches"])
