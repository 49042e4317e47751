"""The checks every training exercise shares, read straight from its contract.

Whatever else an exercise asks, its training part promises three things: each epoch
trains on every training example once, each input with its own label; every step is a
descent step of the given optimizer on the given loss's gradient; and an update the
contract cannot explain is never passed in silence. The named checks say why where they
can; `check_unexplained` runs last, knowing what they found.
"""
from autograder.inspector.coverage import check_training_data
from autograder.inspector.descent import check_climbing, check_frozen, check_unexplained, measured_steps
from autograder.inspector.groups import training_groups
from autograder.inspector.pairing import check_pairing
from autograder.inspector.validation import epoch_windows


def training_passes(trace) -> list:
    """Forward passes on the training data with autograd on: what an epoch trains with."""
    return [f for f in trace.forwards if f.grad_enabled and f.split == "train"]


def by_window(trace, epochs: int) -> list[list]:
    """The training passes of each epoch, epoch by epoch as `epoch_windows` cuts the run."""
    training = training_passes(trace)
    return [[f for f in training if start <= f.seq < end] for start, end in epoch_windows(trace, epochs)]


def by_update(trace) -> list[list]:
    """Full-batch training: each pass a backward went through is an epoch, with the passes
    since the one before it (a layer run on its own, its output cut from the graph)."""
    epochs, current = [], []
    for forward in training_passes(trace):
        current.append(forward)
        if forward.trained:
            epochs.append(current)
            current = []
    return epochs


def check_contract(trace, found: list, *, epochs: list[list], examples: int, batch_size: int | None,
                   accum_steps: int = 1, several: bool = True, unit: str = "epoch") -> list:
    """`found` (the exercise's own checks) with what the contract itself adds."""
    data = check_training_data(epochs, examples, batch_size, unit=unit, several=several)
    if data:  # a step count that only follows from the batches skipped or repeated says nothing more
        trained = {f.batch.key for epoch in epochs for f in epoch if f.batch is not None}
        steps = sum(1 for g in training_groups(trace) if g.step is not None)
        if accum_steps == 1 and steps == len(trained):
            found = [d for d in found if d.code != "wrong-step-count"]
    pairing = check_pairing(trace, trace.loss_kind, several_epochs=several, full_batch=batch_size is None)
    if pairing:  # the loop's numbers are its own losses: what is wrong is what they were computed against
        found = [d for d in found if d.code != "wrong-loss-values"]
    found = found + data + pairing
    steps = measured_steps(trace, accum_steps)
    found += check_climbing(trace, steps) + check_frozen(trace)
    found += check_unexplained(trace, steps, found, accum_steps)
    return found
