"""The five steps of the loop: did clear → forward → loss → backward → step happen in order?

Judged by effects, not by which calls were written: what each backward pass found in
`.grad` when it began, what each optimizer step found there, and which loss each
backward pass belonged to. So `optimizer.zero_grad()`, `model.zero_grad()` and
`p.grad = None` are all the same clear, and a clear written without parentheses is
simply a clear that never happened.
"""
import math
from dataclasses import dataclass

from autograder.diagnoses import Diagnosis, diagnosis
from autograder.inspector.groups import expected_gradient, flat, size_ratio, training_groups
from autograder.inspector.trace import Trace
from autograder.inspector.words import count, times


@dataclass
class Plan:
    """What a correct function does with the fixture."""

    steps: int  # optimizer steps a correct function takes
    batches: int  # training batches it backpropagates
    accum_steps: int = 1
    unit: str = "batch"  # one step per "batch" or per "epoch" (full-batch train_loop)


def _start(backward) -> int | None:
    """Where the graph of a backward pass began: its earliest forward pass."""
    return backward.forwards[0].seq if backward.forwards else None


def late_backwards(trace: Trace) -> list:
    """First backward passes of losses that an optimizer step came between (forward → step → backward)."""
    late = []
    for group in training_groups(trace):
        for backward in group.backwards:
            root = backward.root
            start = _start(backward)
            if start is None or (root is not None and root.backward_seqs[0] != backward.seq):
                continue
            if any(start < step.seq < backward.seq for step in trace.steps):
                late.append(backward)
    return late


def foreign_updates(trace: Trace) -> bool:
    """Did something other than the given optimizer change the weights?"""
    return (any(s.moved > 0 for s in trace.foreign_steps)
            or any(not change.restored for change in trace.weight_changes))


def check_order(trace: Trace, plan: Plan) -> list[Diagnosis]:
    groups = training_groups(trace)
    stepped = [g for g in groups if g.step is not None]
    backwards = [b for g in groups for b in g.backwards]
    found = []
    if not backwards:
        forwards = sum(1 for f in trace.forwards if f.grad_enabled and f.split != "val")
        steps = (f", so {'the' if len(trace.steps) == 1 else 'all'} {count(len(trace.steps), 'optimizer step')} "
                 f"found `.grad` empty" if trace.steps else "")
        unchanged = "" if trace.weights_changed else " and the weights never changed"
        found.append(diagnosis(
            "missing-backward",
            f"The model ran {count(forwards, 'training forward pass')}, but `backward()` never ran on a loss "
            f"computed from them{steps}: no gradients were computed{unchanged}."))
    if not stepped and not foreign_updates(trace):
        unchanged = ("the weights never changed" if not trace.weights_changed
                     else "the optimizer you were given never updated the weights")
        found.append(diagnosis(
            "missing-step",
            f"`optimizer.step()` never ran: {count(len(backwards), 'backward pass')} filled `.grad`, but "
            f"{unchanged}. (`optimizer.step` without parentheses does nothing.)"))
    if found or not stepped:
        return found

    found += _double_backward(groups)
    late = late_backwards(trace)
    if late:
        found.append(_step_before_backward(trace, late))
    found += _cleared_before_step(groups, late)
    found += _stale(trace, groups, plan)
    if plan.accum_steps == 1 and len(stepped) != plan.steps:
        epochs = plan.unit == "epoch"
        what = count(plan.steps, "epoch") if epochs else count(plan.batches, "training batch")
        found.append(diagnosis(
            "wrong-step-count",
            f"The optimizer stepped {times(len(stepped))} for {what}; it should step once per "
            f"{'epoch' if epochs else 'batch'} ({count(plan.steps, 'step')})."))
    return found


def _double_backward(groups) -> list[Diagnosis]:
    twice = {}
    for group in groups:
        for backward in group.backwards:
            for loss in backward.losses:
                if len(loss.backward_seqs) > 1:
                    twice[id(loss)] = loss
    if not twice:
        return []
    worst = max(len(loss.backward_seqs) for loss in twice.values())
    again = next(iter(twice.values())).backward_seqs[1]
    at = next((b.where for g in groups for b in g.backwards if b.seq == again), None)
    return [diagnosis(
        "double-backward",
        f"{count(len(twice), 'loss')} went through `backward()` more than once "
        f"(up to {worst} times each): every extra backward adds the same gradient to `.grad` again, "
        f"so the step moves the weights {worst}× too far.", at=at)]


def _step_before_backward(trace: Trace, late: list) -> Diagnosis:
    first = late[0]
    start = _start(first)
    step_number = next(i for i, s in enumerate(trace.steps, 1) if s.seq > start)
    step = trace.steps[step_number - 1]
    found = "empty" if step.empty else "the previous batch's gradients"
    return diagnosis(
        "step-before-backward",
        f"In {len(late)} of the loop's iterations, `optimizer.step()` ran after the forward pass "
        f"but before `loss.backward()`: at step {step_number} the optimizer found `.grad` {found}, "
        f"so each update used stale or no gradients.", at=step.where)


def _cleared_before_step(groups, late) -> list[Diagnosis]:
    on_time = [g for g in groups if g.step is not None and g.step.empty and g.reached_weights
               and any(all(b is not x for x in late) for b in g.backwards)]
    if not on_time:
        return []
    stepped = sum(1 for g in groups if g.step is not None)
    return [diagnosis(
        "zero-grad-after-backward",
        f"At {len(on_time)} of {stepped} steps the optimizer found `.grad` empty although "
        f"`loss.backward()` had just filled it: the gradients were cleared between `backward()` and "
        f"`step()`, so those steps had no gradient to follow.", at=on_time[0].step.where)]


def _stale(trace: Trace, groups, plan: Plan) -> list[Diagnosis]:
    """A group's first backward pass began with gradients an earlier step had already used."""
    stale_groups = [g for i, g in enumerate(groups)
                    if i > 0 and g.backwards and g.backwards[0].stale]
    if not stale_groups:
        return []
    worst, where = None, None
    for group in stale_groups:
        if group.step is None:
            continue
        expected = expected_gradient(group, trace.param_shapes, plan.accum_steps)
        if expected is None:
            continue
        ratio = size_ratio(flat(group.step.grads, trace.param_shapes), expected)
        if worst is None or ratio > worst:
            worst, where = ratio, 1 + [g.step for g in groups if g.step is not None].index(group.step)
    stepped = sum(1 for g in groups if g.step is not None)
    figure = (f" At step {where} the gradient was {worst:.1f}× that step's own gradient."
              if worst is not None and not math.isnan(worst) else "")
    return [diagnosis(
        "missing-zero-grad",
        f"At {len(stale_groups)} of {stepped} steps, `backward()` began while `.grad` still held "
        f"gradients an earlier step had already used, so they piled up.{figure}",
        at=stale_groups[0].backwards[0].where)]
