"""Epoch boundaries: what one call of a per-epoch function leaves behind for the next.

A per-epoch function (`train_epoch`, `train_epoch_accumulate`, `evaluate`) is called
twice in a row on the same model, loader and optimizer, as `fit` calls it. Its second
call is judged on its own like the first (modes, numbers, steps); what is judged here is
the one effect that crosses the boundary: gradients the first call left in `.grad`
that the second call's first step then used. A function that clears at its start, at
its end, or both, leaves nothing that matters.
"""
import math

from autograder.diagnoses import Diagnosis, diagnosis
from autograder.inspector.groups import flat, size_ratio, training_groups
from autograder.inspector.trace import Trace


def check_left_behind(trace: Trace, calls: list, accum_steps: int = 1) -> list[Diagnosis]:
    if len(calls) < 2:
        return []
    if _stale_inside(training_groups(trace.part(calls[0]))):
        return []  # the function leaves gradients in `.grad` between its own steps too: named on its own
    groups = training_groups(trace.part(calls[1]))
    if not groups or not groups[0].backwards or not groups[0].backwards[0].stale:
        return []
    group = groups[0]
    figure = ""
    expected = _own_gradient(group, trace.param_shapes, accum_steps) if group.step is not None else None
    if expected is not None:
        ratio = size_ratio(flat(group.step.grads, trace.param_shapes), expected)
        if not math.isnan(ratio):
            figure = f": the second call's first step followed a gradient {ratio:.2g}× the size of its own"
    return [diagnosis(
        "gradients-left-behind",
        f"Your function's first `backward()` began while `.grad` still held gradients from the end of "
        f"the first call{figure}. "
        f"They were added to the new epoch's first gradient.", at=group.backwards[0].where)]


def _stale_inside(groups) -> bool:
    """A step group after the first that began on gradients an earlier step had used."""
    return any(g.backwards and g.backwards[0].stale for g in groups[1:])


def _own_gradient(group, shapes, accum_steps):
    """The given loss's gradient on the group's own passes, as a clean start would have found it."""
    forwards = group.forwards
    if not forwards or any(f.reference_grads is None for f in forwards):
        return None
    return sum(flat(f.reference_grads, shapes) for f in forwards) / accum_steps
