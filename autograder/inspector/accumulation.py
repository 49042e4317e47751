"""Gradient accumulation on purpose: one step every `accum_steps` batches, losses scaled.

Three effects are judged: after which batches the optimizer stepped (cadence, and the
step a leftover partial group still needs), whether `.grad` was cleared inside a group,
and the size of each step's gradient against the mean of its batches' own gradients
(an unscaled loss makes it `accum_steps`× too big, a wrong divisor a constant fraction;
plain SGD shows it, Adam hides it).
A last, partial group may be divided by `accum_steps` (what the contract says) or by
its own size (a mean over the group): both are accepted.
"""
from autograder.diagnoses import Diagnosis, diagnosis
from autograder.inspector.groups import expected_gradient, flat, scale, training_groups
from autograder.inspector.trace import Trace
from autograder.inspector.words import listed


def _positions(sizes: list[int]) -> list[int]:
    positions, total = [], 0
    for size in sizes:
        total += size
        positions.append(total)
    return positions


def check_accumulation(trace: Trace, batches: int, accum_steps: int) -> list[Diagnosis]:
    groups = training_groups(trace)
    stepped = [g for g in groups if g.step is not None]
    if not stepped:
        return []  # the order checks say "missing-step"
    found = []
    sizes = [g.batches for g in stepped]
    leftover = groups[-1].batches if groups[-1].step is None else 0
    full, rest = divmod(batches, accum_steps)
    expected = [accum_steps] * full + ([rest] if rest else [])
    if sizes != expected:
        if rest and sizes == expected[:-1] and leftover == rest:
            found.append(diagnosis(
                "missing-final-step",
                f"The last {'batch' if rest == 1 else f'{rest} batches'} of the {batches} formed a partial "
                f"group (accum_steps={accum_steps}) and ran `backward()`, but no step followed: "
                f"no update of this epoch used {'its' if rest == 1 else 'their'} gradients."))
        else:
            found.append(diagnosis(
                "wrong-accumulation-cadence",
                f"With {batches} batches and accum_steps={accum_steps} the optimizer should step after "
                f"{listed(_positions(expected), 'batch')}, but it stepped after "
                f"{listed(_positions(sizes), 'batch')}."))
    cleared = _cleared_inside_group(groups)
    if cleared and not any(d.code == "wrong-accumulation-cadence" for d in found):
        group_number, batch_in_group = cleared
        found.append(diagnosis(
            "wrong-accumulation-cadence",
            f"In group {group_number}, `.grad` was empty when batch {batch_in_group} of the group began "
            f"`backward()`: the gradients of the group's earlier batches were cleared before the step, "
            f"so the step used only part of the group.",
            fix="Clear gradients only right after `optimizer.step()`, not on every batch."))
    found += _unscaled(trace, groups, accum_steps)
    return found


def _cleared_inside_group(groups):
    for number, group in enumerate(groups, 1):
        seen = []
        for position, backward in enumerate(group.backwards):
            repeat = bool(backward.forwards) and all(any(f is s for s in seen) for f in backward.forwards)
            seen += backward.forwards
            if position > 0 and not repeat and not backward.stale and backward.reached_weights:
                return number, position + 1
    return None


def _unscaled(trace: Trace, groups, accum_steps: int) -> list[Diagnosis]:
    measured = []  # (step number, ratio, cosine, group size, gradient norm) of clean groups
    for number, group in enumerate([g for g in groups if g.step is not None], 1):
        if not group.backwards or group.backwards[0].stale or group.step.empty:
            continue
        expected = expected_gradient(group, trace.param_shapes, accum_steps)
        if expected is None:
            continue
        actual = flat(group.step.grads, trace.param_shapes)
        ratio, cosine = scale(actual, expected)
        measured.append((number, ratio, cosine, group.size, float(actual.norm())))
    for number, ratio, cosine, size, _ in measured:
        if ratio > 1.5 and cosine > 0.9:
            own_mean = accum_steps / size  # a partial group divided by its own size is fine
            if size < accum_steps and abs(ratio - own_mean) < 0.1 * own_mean:
                continue
            own = "its batch's own gradient" if size == 1 else f"the mean of its {size} batches' gradients"
            return [diagnosis(
                "unscaled-accumulation",
                f"At step {number} the gradient was {ratio:.1f}× {own} "
                f"(accum_steps={accum_steps}): the losses went into `backward()` without being divided by "
                f"accum_steps, so each step was {ratio:.1f}× too big.",
                at=_first_backward(groups))]
    return _over_divided(measured, accum_steps)


def _first_backward(groups) -> tuple | None:
    first = next((b for g in groups for b in g.backwards), None)
    return first.where if first else None


def _over_divided(measured, accum_steps: int) -> list[Diagnosis]:
    """Every step the same fraction of the expected gradient: divided by the wrong number.

    Gradient clipping also shrinks steps, but it makes their *norms* equal, not their
    ratios; so equal ratios with unequal norms mean a wrong divisor.
    """
    if len(measured) < 2 or any(cosine < 0.99 or ratio > 0.9 for _, ratio, cosine, _, _ in measured):
        return []
    ratios = [ratio for _, ratio, _, _, _ in measured]
    norms = [norm for _, _, _, _, norm in measured]
    if max(ratios) > 1.02 * min(ratios) or max(norms) < 1.05 * min(norms):
        return []
    ratio = sum(ratios) / len(ratios)
    return [diagnosis(
        "unscaled-accumulation",
        f"Every step's gradient was {ratio:.2f}× the mean of its batches' gradients: the losses were "
        f"divided by about {accum_steps / ratio:.0f} instead of accum_steps={accum_steps}, so every step "
        f"was {1 / ratio:.1f}× too small.")]
