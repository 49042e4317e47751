"""Phase 7, `train_epoch_onecycle(model, loader, loss_fn, optimizer, scheduler) -> float`.

A learning-rate schedule planned per batch (`OneCycleLR`, or a cosine over the batches):
phase 5's per-batch loop with `scheduler.step()` after every `optimizer.step()`, so that
optimizer step k uses the schedule's k-th learning rate. Stepped once per epoch, as an
epoch scheduler would be, the run stays at the schedule's first values; stepped before
the optimizer, every step uses the next step's rate and the first one is never used.

Judged by effect: the learning rate each step of the given optimizer used (read by a
hook on that optimizer) against the rates a twin of the scheduler, stepped
once per step, plans. The function is called twice in a row on the same scheduler, as
`fit` calls it, so a schedule left one step off at the end of an epoch shows in the
next call's first rate.
"""
import torch

from autograder.diagnoses import diagnosis
from autograder.exercises.fixtures import Fixture
from autograder.exercises.train_epoch import TrainEpoch, classifier_fixture
from autograder.inspector.words import count


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
    """The fixture's per-batch schedule, planned for six epochs: the function is called twice in a row,
    and a loop that steps it too often must show as such, not run past the schedule's end and raise."""
    if params["scheduler"] == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=params["max_lr"], total_steps=6 * batches,
                                                   cycle_momentum=False)
    if params["scheduler"] == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=2 * batches, eta_min=params["lr"] / 20)
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


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(b), 1e-12)


def check_schedule(rates: list[float], before: list[float], params: dict, batches: int) -> list:
    """The rates one call's steps used against the plan; `before`: the rates of the calls before it."""
    if not rates:
        return []  # no step at all: the order checks say so
    done = len(before)
    planned = planned_rates(params, batches, done + len(rates) + 1)
    on_plan_so_far = all(_same(r, p) for r, p in zip(before, planned))
    planned = planned[done:]
    if all(_same(r, p) for r, p in zip(rates, planned)):
        return []
    ahead = all(_same(r, p) for r, p in zip(rates, planned[1:]))
    if ahead and done and on_plan_so_far:
        return [diagnosis(
            "scheduler-cadence",
            f"Every step of the previous call used its planned rate, but this call started one step ahead: its "
            f"first step (step {done + 1} of the run) used {rates[0]:.4g}, the schedule's value for step "
            f"{done + 2}, where {planned[0]:.4g} was planned. The scheduler stepped once more than the optimizer "
            f"between the two calls: a `scheduler.step()` at the end (or the start) of the epoch, on top of the "
            f"one after every batch.",
            fix="Step a per-batch schedule only right after each `optimizer.step()`, inside the batch loop, and "
                "nowhere else.")]
    if ahead and len(rates) > 1:
        return [diagnosis(
            "scheduler-before-step",
            f"The scheduler stepped before the optimizer: step {done + 1} of the run used the learning rate "
            f"{rates[0]:.4g}, the schedule's value for step {done + 2}, step {done + 2} the value for step "
            f"{done + 3} ({rates[1]:.4g}), and the value planned for step {done + 1}, {planned[0]:.4g}, was "
            f"never used.")]
    first = next(k for k, (r, p) in enumerate(zip(rates, planned)) if not _same(r, p))
    where = "this call's first step" if first == 0 else f"step {first + 1} of {count(len(rates), 'step')}"
    held = sum(1 for r in rates if _same(r, rates[0]))
    return [diagnosis(
        "scheduler-cadence",
        f"The schedule plans one learning rate per batch, the next one after each optimizer step, but {where} "
        f"in {count(batches, 'batch')} used the learning rate {rates[first]:.4g} where the schedule planned "
        f"{planned[first]:.4g} ({held} of the {len(rates)} steps used the rate the first one used, "
        f"{rates[0]:.4g}).")]


class _RateLog:
    """The learning rate the given optimizer held at each of its steps, over every call (a hook on that
    optimizer only): a call's own rates, and those of the calls before it."""

    def __init__(self, optimizer):
        self.rates = []
        optimizer.register_step_pre_hook(lambda opt, args, kwargs: self.rates.append(opt.param_groups[0]["lr"]))


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
                       extra={"batches": len(loader), "rates": _RateLog(optimizer)})

    def checks(self, trace, result, fixture):
        found = super().checks(trace, result, fixture)
        logged, done = fixture.extra["rates"].rates, trace.steps_before
        rates = logged[done:done + len(trace.steps)]
        return found + check_schedule(rates, logged[:done], fixture.params, fixture.extra["batches"])
