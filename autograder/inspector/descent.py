"""Every step goes downhill: each update is a step of the given optimizer on the loss's own gradient.

Two comparisons per step, each against what the run itself computed:

- the gradient the step found against the given loss's gradient on that step's forward
  passes (`expected`): the same direction (cosine at least 0.99), at about its size, or
  smaller where clipping cut it (every clipped step then has one norm), or clamped entry
  by entry (`clip_grad_value_`);
- the change the step made against a replay of the given optimizer, as given, on the
  gradient the step found (replay.py): exactly equal.

What breaks them has a name where it can be told: `update-climbs` (the loss negated, a
negative learning rate, `maximize`), `frozen-parameters` (part of the model never
moved although the optimizer holds it). Anything else that neither the named checks of
the run nor these explain fails as `unexplained-update`, with what was measured.
"""
from dataclasses import dataclass

import torch

from autograder.diagnoses import Diagnosis, diagnosis
from autograder.inspector.groups import Group, flat, training_groups
from autograder.inspector.numbers import value
from autograder.inspector.trace import Trace
from autograder.inspector.words import count

SAME_DIRECTION = 0.99
OPPOSITE = -0.9
EXACT = 1e-3  # relative difference between a step's change and the replay's

# Codes that already say why a step was not the loss's own: the general check stays silent.
EXPLAINED = {"labels-mismatched", "missing-zero-grad", "gradients-left-behind", "double-backward",
             "step-before-backward", "zero-grad-after-backward", "graph-cut", "frozen-parameters", "update-climbs",
             "unscaled-accumulation", "wrong-accumulation-cadence", "missing-final-step", "scaled-gradient",
             "over-clipped", "foreign-update", "missing-backward", "missing-step", "trains-on-validation",
             "autocast-missing", "scaler-unused", "clip-before-unscale", "clip-norm-wrong"}  # mixed precision


@dataclass
class Measured:
    """One step against the loss's own gradient and the given optimizer's own update."""

    number: int  # 1-based among the given optimizer's training steps
    group: Group
    used: torch.Tensor  # the gradient the step found, flat
    expected: torch.Tensor  # the given loss's gradient on the step's passes, flat
    partial: bool  # a last group smaller than accum_steps (divided by its own size or by accum_steps)

    @property
    def cosine(self) -> float:
        return _cosine(self.used, self.expected)

    @property
    def ratio(self) -> float:
        norm = float(self.expected.norm())
        return float(self.used.norm()) / norm if norm else float("nan")


def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    denominator = float(a.norm()) * float(b.norm())
    return float(a @ b) / denominator if denominator else float("nan")


def effective_backwards(group: Group) -> list:
    """The group's backward passes from its last clean start (`.grad` empty when it began):
    a step skipped by a GradScaler leaves a group whose earlier gradients were cleared unused."""
    clean = [i for i, b in enumerate(group.backwards) if not b.stale]
    return group.backwards[clean[-1]:] if clean else []


def expected_gradient(group: Group, shapes: list, divide_by: int) -> torch.Tensor | None:
    backwards = effective_backwards(group)
    forwards = []
    for backward in backwards:
        if not backward.forwards:
            return None
        for forward in backward.forwards:
            if all(forward is not f for f in forwards):
                forwards.append(forward)
    if not forwards or any(f.reference_grads is None for f in forwards):
        return None
    return sum(flat(f.reference_grads, shapes) for f in forwards) / divide_by


def measured_steps(trace: Trace, accum_steps: int = 1) -> list[Measured]:
    steps = []
    stepped = [g for g in training_groups(trace) if g.step is not None]
    for number, group in enumerate(stepped, 1):
        if group.step.empty or not effective_backwards(group):
            continue
        expected = expected_gradient(group, trace.param_shapes, accum_steps)
        if expected is None or not bool(torch.isfinite(expected).all()) or float(expected.norm()) == 0.0:
            continue
        used = flat(group.step.grads, trace.param_shapes)
        if not bool(torch.isfinite(used).all()):
            continue
        size = len(effective_backwards(group))
        steps.append(Measured(number, group, used, expected, accum_steps > 1 and size < accum_steps))
    return steps


def _update_against_replay(trace: Trace, step) -> tuple[float, float] | None:
    """(cosine, size ratio) of the step's change against the given optimizer's own, or None when equal."""
    if step.update is None or step.expected_update is None:
        return None
    actual = flat(step.update, trace.param_shapes)
    replay = flat(step.expected_update, trace.param_shapes)
    if not bool(torch.isfinite(actual).all()) or not bool(torch.isfinite(replay).all()):
        return None
    gap = float((actual - replay).norm())
    if gap <= EXACT * max(float(replay.norm()), float(actual.norm())) + 1e-9:
        return None
    size = float(replay.norm())
    return _cosine(actual, replay), (float(actual.norm()) / size if size else float("inf"))


def _curve_words(trace: Trace) -> str:
    losses = [value(f) for f in trace.forwards if f.trained and f.split == "train" and value(f) is not None]
    if len(losses) < 2:
        return ""
    return f"; the training loss went from {losses[0]:.4g} at the first step to {losses[-1]:.4g} at the last"


def check_climbing(trace: Trace, steps: list[Measured]) -> list[Diagnosis]:
    """Steps that move the weights up the loss instead of down."""
    given = trace.fixture_optimizer or "the given optimizer"
    for step in trace.steps:
        against = _update_against_replay(trace, step)
        if against is not None and against[0] < OPPOSITE:
            number = trace.steps.index(step) + 1
            why = f": {step.flipped}" if step.flipped else ""
            return [diagnosis(
                "update-climbs",
                f"At step {number} `optimizer.step()` moved the weights opposite to the update {given} makes "
                f"from the gradient it found (cosine {against[0]:.2f}){why}, so each update climbed the loss "
                f"instead of descending it{_curve_words(trace)}.", at=step.where,
                fix="Leave the optimizer's settings as you were given them: a positive learning rate and "
                    "`maximize=False`; change the learning rate only through a scheduler.")]
    uphill = [s for s in steps if s.cosine < OPPOSITE]
    if uphill and len(uphill) * 2 >= len(steps):
        first = uphill[0]
        return [diagnosis(
            "update-climbs",
            f"At {len(uphill)} of {count(len(steps), 'step')} the gradient `optimizer.step()` followed pointed "
            f"uphill: at step {first.number} it was {first.ratio:.2g}× the size of the loss's own gradient, in the "
            f"opposite direction (cosine {first.cosine:.2f}), so each update made the loss larger"
            f"{_curve_words(trace)}.", at=first.group.backwards[0].where,
            fix="Call `backward()` on the loss itself (`loss.backward()`), never on `-loss` or a gradient "
                "you negated: `optimizer.step()` already subtracts the gradient.")]
    return []


def check_frozen(trace: Trace) -> list[Diagnosis]:
    """Parameters the optimizer holds and the loss needs, which no step ever moved."""
    steps = [s for s in trace.steps if s.update is not None]
    names = trace.param_names
    if not steps or not names:
        return []
    moved = [any(bool(s.update[i].any()) for s in steps) for i in range(len(names))]
    if not any(moved):
        return []  # nothing moved at all: missing-step, graph-cut or an empty .grad say why
    needed, share = [0.0] * len(names), [0.0] * len(names)  # the loss's gradient: its norm, its part of the whole
    for forward in trace.forwards:
        if forward.trained and forward.split == "train" and forward.reference_grads:
            norms = [0.0 if g is None else float(g.norm()) for g in forward.reference_grads]
            total = sum(n * n for n in norms) ** 0.5
            for i, norm in enumerate(norms):
                needed[i] = max(needed[i], norm)
                share[i] = max(share[i], norm / total if total else 0.0)
    reached = set().union(*(b.params_seen for b in trace.backwards)) if trace.backwards else set()

    def frozen(i):
        return all(i in s.frozen for s in steps)

    def emptied(i):  # backward reached it, but `.grad` was empty at every step
        return i in reached and all(s.grads[i] is None or not bool(s.grads[i].any()) for s in steps)

    def held_back(i):  # the optimizer as given would have moved it
        return any(s.expected_update is not None and bool(s.expected_update[i].any()) for s in steps)

    still = [i for i in range(len(names)) if not moved[i] and (frozen(i) or share[i] > 1e-3  # a bias before
             and (emptied(i) or held_back(i)))]                                             # batch-norm has none
    if not still:
        return []
    frozen, emptied = [i for i in still if frozen(i)], [i for i in still if not frozen(i) and emptied(i)]
    needing = [needed[i] for i in still if needed[i] > 0]
    though = (f"though the loss's gradient for them was not zero (its norm up to {max(needing):.3g}) and "
              if needing else "though ")
    if frozen:
        cause = "`requires_grad` was switched off for them, so no gradient reached them"
        fix = "Leave `requires_grad` on for every parameter you train; freeze layers only when an exercise asks."
    elif emptied:
        cause = "their `.grad` was cleared or zeroed after `backward()` and before `optimizer.step()`"
        fix = "Clear gradients only before `loss.backward()` (`optimizer.zero_grad()`), for every parameter."
    else:
        cause = ("their gradients reached `.grad`, but the optimizer did not update them: they were taken out of "
                 "`optimizer.param_groups` or given a learning rate of 0")
        fix = "Leave the optimizer's `param_groups` as you were given them: it must update every parameter."
    shown = ", ".join(f"`{names[i]}`" for i in still[:4]) + (" ..." if len(still) > 4 else "")
    given = trace.fixture_optimizer or "the given optimizer"
    return [diagnosis(
        "frozen-parameters",
        f"{len(still)} of the model's {len(names)} parameter tensors ({shown}) never moved in "
        f"{count(len(steps), 'step')} of {given}, {though}the optimizer holds them: {cause}. Only the rest of "
        f"the model learned.", fix=fix)]


def _clamped(step: Measured) -> bool:
    """The gradient clamped entry by entry to ±v (`clip_grad_value_`): explained."""
    bound = float(step.used.abs().max())
    clamped = step.expected.clamp(-bound, bound)
    return float((clamped - step.used).norm()) <= 1e-3 * max(float(step.expected.norm()), 1e-30)


def _clipped_norms(steps: list[Measured]) -> bool:
    """Every step that came out smaller than its gradient has one and the same norm (`clip_grad_norm_`)."""
    cut = [float(s.used.norm()) for s in steps if s.ratio < 0.999]
    return bool(cut) and max(cut) <= 1.02 * min(cut) and all(s.ratio <= 1.001 for s in steps)


def check_unexplained(trace: Trace, steps: list[Measured], found: list[Diagnosis],
                      accum_steps: int = 1) -> list[Diagnosis]:
    """A step the contract cannot explain, when nothing named already says why."""
    if any(d.code in EXPLAINED for d in found):
        return []
    given = trace.fixture_optimizer or "the given optimizer"
    for step in trace.steps:
        against = _update_against_replay(trace, step)
        if against is not None:
            number = trace.steps.index(step) + 1
            return [diagnosis(
                "unexplained-update",
                f"At step {number} `optimizer.step()` changed the weights by an update that {given}, as you were "
                f"given it, does not make from the gradient it found: cosine {against[0]:.2f} with that update, "
                f"{against[1]:.2g}× its size.", at=step.where,
                fix="Leave the optimizer's settings as you were given them (change the learning rate only with a "
                    "scheduler), and change the weights only through `optimizer.step()`.")]
    for step in steps:
        if step.cosine < SAME_DIRECTION and not _clamped(step):
            return [_unexplained_gradient(step, f"cosine {step.cosine:.2f} with it, {step.ratio:.2g}× its size")]
    if _clipped_norms(steps):
        return []
    for step in steps:
        if _clamped(step):
            continue
        ratio, allowed = step.ratio, [1.0]
        if step.partial:
            allowed.append(accum_steps / len(effective_backwards(step.group)))
        if all(not 0.8 <= ratio / a <= 1.25 for a in allowed):
            ratios = sorted({round(s.ratio, 2) for s in steps})
            if len(ratios) == 1:
                continue  # one constant scale: scaled-gradient or unscaled-accumulation names it
            return [_unexplained_gradient(step, f"the same direction, {ratio:.2g}× its size, while other "
                                                f"steps' gradients ranged from {min(ratios):.2g}× to {max(ratios):.2g}×")]
    return []


def _unexplained_gradient(step: Measured, what: str) -> Diagnosis:
    return diagnosis(
        "unexplained-update",
        f"At step {step.number} the gradient `optimizer.step()` found was not the gradient of the given loss on "
        f"the data that step trained on: {what}.", at=step.group.backwards[0].where,
        fix="Compute the loss with the given `loss_fn` on the model's outputs and their own targets, call "
            "`loss.backward()` on it alone, and leave `.grad` as backward() filled it before `optimizer.step()` "
            "(clipping is fine).")
