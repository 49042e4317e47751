"""The numbers a function reports, against the numbers its own run computed.

Losses are compared with what the given loss function says of the model outputs the
run really produced (however the learner computed their own loss), and accuracy with
those outputs, so a bug of order or mode never also shows up here as a wrong number. A mean over
batches may be plain or weighted by batch size; both are accepted.
"""
import math

from autograder.diagnoses import Diagnosis, diagnosis
from autograder.inspector.trace import Forward, Trace
from autograder.inspector.words import count


def close(a: float, b: float) -> bool:
    """Equal up to float noise; inf equals inf and NaN equals NaN (a run that blew up reports them)."""
    if a == b or (math.isnan(a) and math.isnan(b)):
        return True
    return abs(a - b) <= 1e-4 * max(1.0, abs(b))


def value(forward: Forward) -> float | None:
    """The loss of one forward pass: the given loss function's value on its output, or,
    where that could not be computed, the loss the learner's code computed from it alone."""
    if forward.reference is not None:
        return forward.reference
    return forward.losses[0].value if forward.losses else None


def batch_losses(trace: Trace, split: str, epoch: int | None = None, trained: bool = True,
                 window: tuple | None = None, first: bool = False) -> list[Forward]:
    """One forward pass per batch of `split` (in pass `epoch`, or between the seqs of
    `window`), in order, each with a loss value.

    Per batch, the pass that went through backward counts (the last such, or with `first`
    the first), else the last one. With `trained`, only passes that ran with autograd on
    count (a measurement pass under no_grad is not training).
    """
    chosen = {}
    for forward in trace.forwards:
        batch = forward.batch
        if batch is None or batch.split != split or value(forward) is None:
            continue
        if (epoch is not None and batch.epoch != epoch) or (trained and not forward.grad_enabled):
            continue
        if window is not None and not window[0] <= forward.seq < window[1]:
            continue
        key = batch.key
        current = chosen.get(key)
        if current is None or (forward.trained and not (first and current.trained)) or not current.trained:
            chosen[key] = forward
    return sorted(chosen.values(), key=lambda forward: forward.seq)


def trained_losses(trace: Trace, split: str, window: tuple | None = None) -> list[Forward]:
    """Every pass of `split` a backward pass went through, repeats included: what a loop that
    trains on one batch more than once has computed (its data bug is judged on its own)."""
    return [f for f in trace.forwards if f.batch is not None and f.batch.split == split and f.trained
            and value(f) is not None and (window is None or window[0] <= f.seq < window[1])]


def means(forwards: list[Forward]) -> tuple[float, float] | None:
    """(plain mean of the batch losses, mean weighted by batch size)."""
    if not forwards:
        return None
    values = [value(f) for f in forwards]
    plain = sum(values) / len(values)
    weighted = sum(v * f.size for v, f in zip(values, forwards)) / sum(f.size for f in forwards)
    return plain, weighted


def check_mean_loss(reported: float, losses: list[Forward], name: str, where: str = "",
                    accum_steps: int = 1, alternatives: tuple = ()) -> list[Diagnosis]:
    """Pass when `reported` is the mean loss of the passes `losses`, or of one of the `alternatives`."""
    expected = means(losses)
    others = [m for other in alternatives if (m := means(other)) is not None]
    if expected is None or any(close(reported, e) for pair in [expected, *others] for e in pair):
        return []
    hint = ""
    if accum_steps > 1 and close(reported * accum_steps, expected[0]):
        hint = f" It is the mean divided by accum_steps={accum_steps}: log the loss before dividing it."
    return [diagnosis(
        "wrong-loss-values",
        f"{name}{where} was {reported:.6g}, but the mean of the {count(len(losses), 'batch loss')} your "
        f"loop computed was {expected[0]:.6g}.{hint}")]


def check_loss_list(reported: list[float], forwards: list[Forward], name: str) -> list[Diagnosis]:
    expected = [value(f) for f in forwards]
    if len(expected) != len(reported):
        return []  # a count problem is reported by the order checks
    for epoch, (mine, theirs) in enumerate(zip(reported, expected), 1):
        if not close(mine, theirs):
            return [diagnosis(
                "wrong-loss-values",
                f"{name} for epoch {epoch} was {mine:.6g}, but the loss computed on that epoch's "
                f"forward pass was {theirs:.6g}.")]
    return []


def accuracies(forwards: list[Forward]) -> tuple[float, float] | None:
    """(correct / examples, mean of per-batch accuracies) from the outputs the run produced.

    For each batch the last forward pass counts (a learner may run a batch twice).
    """
    last = {}
    for forward in forwards:
        if forward.output is not None and forward.output.dim() == 2:
            last[forward.batch.key] = forward
    if not last:
        return None
    correct, total, per_batch = 0, 0, []
    for forward in last.values():
        hits = int((forward.output.argmax(dim=1) == forward.batch.y.cpu()).sum())
        correct, total = correct + hits, total + len(forward.batch.y)
        per_batch.append(hits / len(forward.batch.y))
    return correct / total, sum(per_batch) / len(per_batch)


def check_accuracy(reported: float, forwards: list[Forward], name: str, where: str = "",
                   alternatives: tuple = ()) -> list[Diagnosis]:
    expected = accuracies(forwards)
    others = [a for other in alternatives if (a := accuracies(other)) is not None]
    if expected is None or any(close(reported, e) for pair in [expected, *others] for e in pair):
        return []
    hint = ""
    if close(reported / 100, expected[0]):
        hint = " It looks like a percentage: return a fraction between 0 and 1."
    elif reported > 1 or reported < 0:
        hint = " An accuracy lies between 0 and 1."
    return [diagnosis(
        "wrong-accuracy",
        f"{name}{where} was {reported:.6g}, but the model's outputs in your run classified "
        f"{expected[0]:.4f} of the validation examples correctly.{hint}")]
