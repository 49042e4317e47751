"""Training data: every example of the training data reaches a training pass once per epoch.

Read from the training forward passes (autograd on, training data), row by row (the
book knows each row's example, wherever the learner's code moved it): an example no
such pass ran on in an epoch was skipped (a `break`, a slice, a batch left out); one
that went through two passes a backward pass used, in one epoch, was used twice (a
batch repeated, the data concatenated with itself). A pass that ran but was never
backpropagated is a missing backward or step, which the order checks name. Rows the learner augmented (noise added) count as seen but are
never counted twice, so augmentation that keeps each example's pairs passes; inputs that
match no example at all are said to be what they are.
"""
from collections import Counter

from autograder.diagnoses import Diagnosis, diagnosis
from autograder.inspector.trace import Forward
from autograder.inspector.words import count, listed


def examples_of(forward: Forward) -> tuple[list, list]:
    """(every example the pass ran on, the ones it ran on with exactly their handed-out values)."""
    batch = forward.batch
    if batch is None or not batch.rows or not forward.known or len(batch.rows) != len(forward.known):
        return [], []
    seen = [row for row, known in zip(batch.rows, forward.known) if known]
    exact = [row for row, known in zip(batch.rows, forward.exact or forward.known) if known]
    return seen, exact


def _which(ids: list, batch_size: int | None, examples: int) -> str:
    """' (those of batch 8)', ' (batches 1 and 3)', or ' (from 8 batches)'; '' without batches."""
    if not batch_size or batch_size >= examples:
        return ""
    batches = sorted({i // batch_size for i in ids})
    whole = all(sum(1 for i in ids if i // batch_size == b) == min(batch_size, examples - b * batch_size)
                for b in batches)
    if whole:
        return f" (those of {listed([b + 1 for b in batches], 'batch')})"
    return f" (from {count(len(batches), 'batch')})"


def check_training_data(epochs: list[list[Forward]], examples: int, batch_size: int | None,
                        unit: str = "epoch", several: bool = True) -> list[Diagnosis]:
    """`epochs`: per epoch, its training forward passes (autograd on), in order."""
    skipped, repeated = [], []
    for number, forwards in enumerate(epochs, 1):
        if not forwards:
            continue
        seen, exact = set(), Counter()
        strangers = 0
        for forward in forwards:
            rows, exactly = examples_of(forward)
            seen.update(rows)
            if forward.trained:
                exact.update(exactly)
                strangers += not rows
        missing = sorted(set(range(examples)) - seen)
        twice = sorted(i for i, n in exact.items() if n > 1)
        if missing and not skipped:
            skipped.append((number, missing, strangers, sum(f.trained for f in forwards)))
        if twice and not repeated:
            repeated.append((number, twice, max(exact.values())))
    where = (lambda n: f"In {unit} {n}, ") if several else (lambda n: "")
    found = []
    if skipped:
        number, missing, strangers, passes = skipped[0]
        odd = (f"; {count(strangers, 'training forward pass')} of {passes} ran on inputs that match none of the "
               f"examples handed out, exactly or nearly" if strangers else "")
        found.append(diagnosis(
            "skipped-training-data",
            f"{where(number)}{len(missing)} of the {examples} training examples never reached a training forward "
            f"pass{_which(missing, batch_size, examples)}{odd}: the model never learned from them"
            f"{' that ' + unit if several else ''}."))
    if repeated:
        number, twice, most = repeated[0]
        found.append(diagnosis(
            "repeated-training-data",
            f"{where(number)}{len(twice)} of the {examples} training examples went through up to {most} training "
            f"forward passes each{_which(twice, batch_size, examples)}: they counted {most}× as much as the "
            f"others."))
    return found
