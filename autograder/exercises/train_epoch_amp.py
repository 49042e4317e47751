"""Phase 7, `train_epoch_amp(model, loader, loss_fn, optimizer, scaler, max_norm) -> float`.

Mixed precision with gradient clipping: phase 5's per-batch loop, with the forward pass
and the loss under `torch.autocast`, the loss scaled by the given `GradScaler` before
`backward()`, the gradients unscaled (`scaler.unscale_(optimizer)`) *before* they are
clipped to `max_norm`, and the step and the scale update through the scaler.

Why it needs checks of its own: clipping is a statement about the true gradient. Clipped
while still multiplied by the scale (2^10 here, 2^16 by default), every gradient is far
above `max_norm` and is cut to it; the scaler then divides by the scale, and the step gets
`max_norm / scale`. The fixture's `max_norm` sits among the gradients' own norms, so some
steps must be clipped and some must not: each way of getting it wrong moves some step's
gradient norm away from `min(own norm, max_norm)`, and which value it lands on says how.
The scale is not a power of two the learner could know by heart (the default): the fixture
gives its own, so a scaler built inside the function shows too.

In float16 (autocast's type on a GPU) a scaled gradient can overflow: the scaler then skips
that step and halves its scale. That is its job, so the checks accept every scale the given
scaler really held, and a step count short by exactly the steps it skipped (`Scales`).
"""
import math

import torch

from autograder.diagnoses import diagnosis
from autograder.exercises.fixtures import Fixture
from autograder.exercises.train_epoch import TrainEpoch, classifier_fixture
from autograder.inspector.groups import expected_gradient, flat, scale, training_groups
from autograder.inspector.numbers import value
from autograder.inspector.words import count

LOW_PRECISION = (torch.float16, torch.bfloat16)
CLOSE = 0.02  # relative: bfloat16 rounding moves a norm by far less; a wrong path by orders of magnitude


def train_epoch_amp(model, loader, loss_fn, optimizer, scaler, max_norm):
    """The contract, written plainly: the curve a correct loop draws on the same fixtures."""
    model.train()
    device_type = next(model.parameters()).device.type
    losses = []
    for inputs, targets in loader:
        optimizer.zero_grad()
        with torch.autocast(device_type=device_type):
            loss = loss_fn(model(inputs), targets)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        scaler.step(optimizer)
        scaler.update()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def _near(a: float, b: float) -> bool:
    return abs(a - b) <= CLOSE * max(abs(b), 1e-30)


def step_norms(trace) -> list[tuple[int, float, float, float, object]]:
    """(step number, norm of `.grad` at the step, norm of the loss's own gradient, cosine of the
    two, the step) for every step that used one batch's fresh gradient."""
    found = []
    for number, group in enumerate([g for g in training_groups(trace) if g.step is not None], 1):
        if group.size != 1 or not group.backwards or group.backwards[0].stale or group.step.empty:
            continue
        own = expected_gradient(group, trace.param_shapes, 1)
        if own is None or float(own.norm()) == 0.0:
            continue
        actual = flat(group.step.grads, trace.param_shapes)
        found.append((number, float(actual.norm()), float(own.norm()), scale(actual, own)[1], group.step))
    return found


def check_autocast(trace) -> list:
    """Every training forward pass computed its scores in float16 or bfloat16."""
    training = [f for f in trace.forwards if f.split == "train" and f.grad_enabled and f.output is not None]
    full = [f for f in training if f.output.dtype not in LOW_PRECISION]
    if not full:
        return []
    return [diagnosis(
        "autocast-missing",
        f"{len(full)} of {count(len(training), 'training forward pass')} returned {full[0].output.dtype} scores: "
        f"the model ran outside `torch.autocast`, in full precision, so the run was not mixed precision at all.",
        at=full[0].where)]


class Scales:
    """What the given GradScaler did: every scale it held when it scaled a loss (its own to begin with,
    less after each step it skipped for inf or NaN, as float16 on a GPU may), and how many times its
    `update()` lowered the scale, each time after a step it skipped. Such steps are the scaler's job."""

    def __init__(self, scaler):
        self.held = {float(scaler.get_scale())}
        self.backoffs = 0
        scale, update = scaler.scale, scaler.update

        def scale_and_note(outputs):
            self.held.add(float(scaler.get_scale()))
            return scale(outputs)

        def update_and_note(*args, **kwargs):
            before = float(scaler.get_scale())
            update(*args, **kwargs)
            self.backoffs += float(scaler.get_scale()) < before

        scaler.scale, scaler.update = scale_and_note, update_and_note


def skipped_steps(trace) -> int:
    """Batches whose gradients no step used, the next batch starting clean: steps a GradScaler skipped."""
    clean = sum(1 for group in training_groups(trace) for backward in group.backwards if not backward.stale)
    return clean - sum(1 for group in training_groups(trace) if group.step is not None)


def check_scaled_losses(trace, scale_factor: float, held: set = frozenset()) -> list:
    """`backward()` ran on the loss times the given scaler's scale (`scale_factor` to begin with, or any
    scale in `held`, the ones the scaler really held). A product that overflowed to inf is the scaler's to
    catch, and it skips that step."""
    allowed = {scale_factor, *held}
    ratios = []
    for group in training_groups(trace):
        for backward in group.backwards:
            root = backward.root
            if root is None or len(root.forwards) != 1 or value(root.forwards[0]) in (None, 0.0):
                continue
            if not math.isfinite(root.value):
                continue
            ratios.append((root.value / value(root.forwards[0]), root.value, backward))
    wrong = [(r, v, b) for r, v, b in ratios if not any(_near(r, a) for a in allowed)]
    if not wrong:
        return []
    ratio, loss, backward = wrong[0]
    if _near(ratio, 1.0):
        what = (f"`backward()` ran on the loss itself ({loss:.4g} at the first of them), never on "
                f"`scaler.scale(loss)`, the loss times the scaler's scale {scale_factor:g}")
    else:
        what = (f"`backward()` ran on the loss times {ratio:.4g}, but the scaler you were given scales by "
                f"{scale_factor:g}: the losses were scaled by something else")
    return [diagnosis(
        "scaler-unused",
        f"At {len(wrong)} of {count(len(ratios), 'backward pass')}, {what}. In float16 small gradients underflow "
        f"to zero without the scale, and the scaler's skip-on-overflow protects only the steps it scaled.",
        at=backward.where)]


def check_clipping(trace, max_norm: float, scale_factor: float, held: set = frozenset()) -> list:
    """Each step's gradient norm is min(its own norm, max_norm); a miss says which path it took (the scale
    that path multiplied by: `scale_factor`, or another the scaler held, in `held`)."""
    measured = step_norms(trace)
    if not measured:
        return []
    for number, actual, own, cosine, step in measured:
        scale_factor = next((s for s in sorted({scale_factor, *held}, key=lambda s: s != scale_factor)
                             if _near(actual, min(own * s, max_norm) / s) or _near(actual, min(own * s, max_norm))
                             or _near(actual, own * s)), scale_factor)
        correct = min(own, max_norm)
        if cosine < 0.99:
            return [diagnosis(
                "clip-norm-wrong",
                f"At step {number} the gradient reached the step pointing another way than the loss's own "
                f"gradient (cosine {cosine:.3f}), with a norm of {actual:.3g}: it was clipped entry by entry "
                f"(`clip_grad_value_`) or changed otherwise, not scaled down as a whole to max_norm={max_norm:g}.",
                at=step.where)]
        if _near(actual, correct):
            continue
        if _near(actual, min(own * scale_factor, max_norm) / scale_factor):
            return [diagnosis(
                "clip-before-unscale",
                f"At step {number} the loss's own gradient had a norm of {own:.3g}, but the gradient reached "
                f"the step with a norm of {actual:.3g}, {max_norm:g} / {scale_factor:g}: it was clipped to "
                f"max_norm={max_norm:g} while still multiplied by the scale {scale_factor:g}, and only then "
                f"unscaled, so the step was {own / actual:.3g}× too small.", at=step.where)]
        if _near(actual, min(own * scale_factor, max_norm)) or _near(actual, own * scale_factor):
            return [diagnosis(
                "scaler-unused",
                f"At step {number} the gradient reached `optimizer.step()` with a norm of {actual:.3g}, but the "
                f"loss's own gradient had a norm of {own:.3g}: the gradients were still multiplied by the "
                f"scale {scale_factor:g}, because the step did not go through `scaler.step(optimizer)`, which "
                f"unscales them first.", at=step.where)]
        if _near(actual, own):
            unclipped = sum(1 for _, a, o, _, _ in measured if o > max_norm and _near(a, o))
            return [diagnosis(
                "clip-norm-wrong",
                f"At step {number} the gradient reached the step with its own norm, {actual:.3g}, above "
                f"max_norm={max_norm:g}: {unclipped} of {count(len(measured), 'step')} were not clipped at all.",
                at=step.where)]
        return [diagnosis(
            "clip-norm-wrong",
            f"At step {number} the gradient reached the step with a norm of {actual:.3g}, but clipped to "
            f"max_norm={max_norm:g} a gradient of norm {own:.3g} has a norm of {correct:.3g}: it was clipped "
            f"at another norm, or in another way.", at=step.where)]
    return []


class TrainEpochAmp(TrainEpoch):
    name = "train_epoch_amp"
    phase = "07_debugging"
    function_name = "train_epoch_amp"
    reference = staticmethod(train_epoch_amp)
    signature = "train_epoch_amp(model, loader, loss_fn, optimizer, scaler, max_norm) -> float"
    public = TrainEpoch.public | dict(init_scale=2.0 ** 10, max_norm=0.7)
    hidden = TrainEpoch.hidden | dict(init_scale=2.0 ** 12, max_norm=1.5)
    lessons = {}  # phase 7 is reached after every phase that teaches the shared codes

    def build(self, params):
        model, (loader,), loss_fn, optimizer, book = classifier_fixture(params)
        device_type = torch.device(params["device"]).type
        scaler = torch.amp.GradScaler(device_type, init_scale=params["init_scale"])
        return Fixture((model, loader, loss_fn, optimizer, scaler, params["max_norm"]), model, loss_fn,
                       optimizer, book, params, extra={"batches": len(loader), "scales": Scales(scaler)})

    def checks(self, trace, result, fixture):
        found = super().checks(trace, result, fixture)
        skipped = skipped_steps(trace)
        if fixture.extra["scales"].backoffs and skipped > 0 \
                and len(trace.steps) + skipped == fixture.extra["batches"]:
            found = [d for d in found if d.code != "wrong-step-count"]  # the scaler skipped them, as it should
        scale_factor, max_norm = fixture.params["init_scale"], fixture.params["max_norm"]
        held = fixture.extra["scales"].held
        amp = check_scaled_losses(trace, scale_factor, held) or check_clipping(trace, max_norm, scale_factor, held)
        if amp:  # the inspector's general codes describe the same steps less precisely
            found = [d for d in found if d.code not in ("over-clipped", "scaled-gradient")]
        return found + amp + check_autocast(trace)
