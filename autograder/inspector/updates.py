"""Updates judged by their effect: what each step did against what the given optimizer
would have done with the gradient of the loss the run computed.

- `foreign-update`: the weights changed outside every step of the given optimizer (an
  optimizer the function built itself, `p -= lr * p.grad`, `p.data.add_(...)`). Weights
  put back to a state the given optimizer had left them in (the best weights, restored
  at the end) are not an update.
- `scaled-gradient`: every step found a constant multiple of the gradient of its batch's
  mean loss (the loss multiplied or divided before `backward()`, or summed instead of
  averaged), outside accumulation, which has its own checks. Optimizers see the same
  gradients whatever they are, so this is judged on `.grad`, not on the weights.
- `over-clipped`: clipping cut every gradient to a sliver of its size.
- `graph-cut`: `backward()` reached none (or only some) of the weights: the model's
  output was cut from its graph (`.detach()`, `.data`) or computed under `no_grad`.

Gradient clipping at a sensible norm shrinks only the large steps, and makes the
clipped steps' *norms* equal, not their ratios: it passes.
"""
import statistics

from autograder.diagnoses import Diagnosis, diagnosis
from autograder.inspector.groups import expected_gradient, flat, scale, training_groups
from autograder.inspector.order import foreign_updates
from autograder.inspector.trace import Trace
from autograder.inspector.words import count, times


def check_updates(trace: Trace, accum_steps: int = 1) -> list[Diagnosis]:
    found = _foreign(trace) + _graph_cut(trace)
    if not found:
        measured = _measured(trace, accum_steps)
        found = _over_clipped(measured, trace)
        twice = any(len(loss.backward_seqs) > 1 for loss in trace.losses)  # double-backward says it
        if not found and accum_steps == 1 and not twice:
            first = next((b for g in training_groups(trace) for b in g.backwards), None)
            found = _scaled(measured, first.where if first else None, _scaled_at_output(trace))
    return found


def _foreign(trace: Trace) -> list[Diagnosis]:
    if not foreign_updates(trace):
        return []
    given = trace.fixture_optimizer or "the given optimizer"
    stepped = f"the optimizer you were given, {given}, stepped {times(len(trace.steps))}"
    if not trace.steps:
        stepped = f"the optimizer you were given, {given}, never stepped"
    own = [s for s in trace.foreign_steps if s.moved > 0]
    if own:
        kinds = sorted({s.optimizer for s in own})
        return [diagnosis(
            "foreign-update",
            f"The weights were updated {times(len(own))} by an optimizer your function built itself "
            f"({', '.join(kinds)}), while {stepped}: the updates were not the given optimizer's.", at=own[0].where,
            fix="Use the optimizer passed to your function (`optimizer.step()`); do not build a new one "
                "inside it: its learning rate and state are part of what you were given.")]
    changes = [c for c in trace.weight_changes if not c.restored]
    largest = max(c.largest for c in changes)
    return [diagnosis(
        "foreign-update",
        f"The weights changed {times(len(changes))} outside `optimizer.step()` (the largest change to one "
        f"weight was {largest:.3g}), while {stepped}: an update written by hand "
        f"(`p -= lr * p.grad` or through `.data`) is not the given optimizer's.",
        fix="Update the weights only with `optimizer.step()`; never change `p`, `p.data` or `model.state_dict()` "
            "by hand inside the loop.")]


def _graph_cut(trace: Trace) -> list[Diagnosis]:
    groups = training_groups(trace)
    backwards = [b for g in groups for b in g.backwards]
    if not backwards:
        return []
    training = [f for f in trace.forwards if f.split != "val"]
    untracked = [f for f in training if not f.grad_enabled]
    blind = [b for b in backwards if not b.reached_weights]
    if len(blind) == len(backwards):
        if untracked and len(untracked) == len(training):
            why = (f"all {count(len(training), 'training forward pass')} ran with gradient tracking off "
                   f"(`torch.no_grad()`), so the loss had no graph back to the weights")
        else:
            why = ("the model's output was cut from its graph before the loss (`.detach()` or `.data`), "
                   "so the loss had no path back to the weights")
        return [diagnosis(
            "graph-cut",
            f"{count(len(blind), 'backward pass')} ran, but none reached the model's weights: {why}. "
            f"Every step found `.grad` empty and the model could not learn.", at=blind[0].where)]
    reached = set().union(*(b.params_seen for b in backwards))
    switched_off = set().union(*(s.frozen for s in trace.steps)) if trace.steps else set()  # frozen-parameters
    missed = [i for i in range(len(trace.param_names)) if i not in reached  # the fixture models use every weight
              and i not in switched_off]
    if not missed:
        return []
    names = ", ".join(f"`{trace.param_names[i]}`" for i in missed[:4]) + (" ..." if len(missed) > 4 else "")
    return [diagnosis(
        "graph-cut",
        f"{len(missed)} of the model's {len(trace.param_names)} parameter tensors ({names}) never received a "
        f"gradient in {count(len(backwards), 'backward pass')}: the graph was "
        f"cut part-way through the model (`.detach()` or `.data` on an intermediate result), so those layers "
        f"never learned.", at=backwards[0].where)]


def _measured(trace: Trace, accum_steps: int) -> list[tuple]:
    """(step number, ratio, cosine, norm, expected norm, batch size) for each clean step."""
    measured = []
    for number, group in enumerate([g for g in training_groups(trace) if g.step is not None], 1):
        if not group.backwards or group.backwards[0].stale or group.step.empty:
            continue
        if accum_steps == 1 and group.size != 1:
            continue  # several batches in one step: the order checks say what went wrong
        expected = expected_gradient(group, trace.param_shapes, accum_steps)
        if expected is None or float(expected.norm()) == 0.0:
            continue
        actual = flat(group.step.grads, trace.param_shapes)
        ratio, cosine = scale(actual, expected)
        size = group.forwards[0].size if group.forwards else 1
        measured.append((number, ratio, cosine, float(actual.norm()), float(expected.norm()), size))
    return measured


def _over_clipped(measured: list, trace: Trace) -> list[Diagnosis]:
    """Every step's gradient a sliver of its own size: cut to one norm (`clip_grad_norm_`), or
    bent out of its direction entry by entry (`clip_grad_value_`)."""
    if not measured:
        return []
    shares = [norm / expected for _, _, _, norm, expected, _ in measured]
    if max(shares) >= 0.01:
        return []
    norms = [norm for _, _, _, norm, _, _ in measured]
    if all(cosine > 0.99 for _, _, cosine, _, _, _ in measured) and max(norms) > 1.05 * min(norms):
        return []  # the gradient's own direction at unequal sizes: a scaled loss, not a clip (see _scaled)
    moved = max((s.moved for s in trace.steps), default=0.0)
    cannot = " so the model could barely learn" if moved < 1e-4 else ""
    return [diagnosis(
        "over-clipped",
        f"At every step the gradient reached `optimizer.step()` with a norm of about {statistics.median(norms):.2g}, "
        f"{100 * statistics.median(shares):.2g} % of the norm of the loss's own gradient "
        f"({statistics.median([e for _, _, _, _, e, _ in measured]):.2g}): clipping cut it to a sliver, and the "
        f"largest change of one weight in a step was {moved:.2g},{cannot}.", at=trace.steps[0].where,
        fix="Clip at a norm near the gradients' usual size (`clip_grad_norm_(model.parameters(), max_norm=1.0)`), "
            "or do not clip.")]


def _scaled_at_output(trace: Trace) -> bool:
    """Did the scale enter at the model's output (a scaled loss), or only after it (a hook on
    the parameters, `.grad` changed by hand)? Read from the gradient that reached the output."""
    ratios = []
    for forward in trace.forwards:
        if forward.trained and forward.output_grad is not None and forward.reference_output_grad is not None:
            mine, given = float(forward.output_grad.norm()), float(forward.reference_output_grad.norm())
            if given:
                ratios.append(mine / given)
    return not ratios or not 0.99 <= statistics.median(ratios) <= 1.01


def _scaled(measured: list, at: tuple | None, at_output: bool = True) -> list[Diagnosis]:
    """Every step a constant multiple of the mean loss's gradient, or its batch size times it."""
    usable = [m for m in measured if m[2] > 0.99]
    if len(usable) < max(1, len(measured) // 2) or not usable:
        return []
    ratios = [ratio for _, ratio, _, _, _, _ in usable]
    per_example = [ratio / size for _, ratio, _, _, _, size in usable]
    summed = all(abs(r - 1) < 0.05 for r in per_example) and any(size > 1 for *_, size in usable)
    middle = statistics.median(ratios)
    if 0.8 <= middle <= 1.25:
        return []
    if not summed and max(ratios) > 1.05 * min(ratios):
        return []  # ratios that vary are not a constant scale (clipping, say)
    number = usable[0][0]
    if summed:
        return [diagnosis(
            "scaled-gradient",
            f"At step {number} the gradient was {usable[0][1]:.1f}× the gradient of the mean loss, "
            f"exactly the number of examples it was computed on ({usable[0][5]}): the loss was summed over the "
            f"examples instead of averaged, so every update was as many times too large as there were examples.",
            fix="Use the mean loss (the given `loss_fn`, or `reduction=\"mean\"`); to report a sum, "
                "multiply the *number* `loss.item()` by the number of examples, not the loss tensor.", at=at)]
    how = ("the loss was scaled before `backward()`" if at_output else
           "the gradient reached the model's output at its own size and was scaled on its way into `.grad` "
           "(a hook on the parameters, or `.grad` changed by hand)")
    return [diagnosis(
        "scaled-gradient",
        f"At every step the gradient was {middle:.3g}× the gradient of the mean loss (step {number}: "
        f"{usable[0][1]:.3g}×): {how}, so every update was {middle:.3g}× what the optimizer you were given "
        f"would have made.",
        fix=("Call `backward()` on the loss itself (`loss.backward()`), not on a multiple of it; only gradient "
             "accumulation divides the loss (by `accum_steps`)." if at_output else
             "Leave `.grad` as `backward()` fills it: no hooks that rescale parameters' gradients, no "
             "`p.grad *= ...`; change the step size only through the learning rate you were given."), at=at)]
