"""The numbers a function reports, against the numbers its own run computed.

Losses are compared with the loss values the run really produced (recorded when the
loss function ran), and accuracy with the model outputs the run really produced, so
a bug of order or mode never also shows up here as a wrong number. A mean over
batches may be plain or weighted by batch size; both are accepted.
"""
from autograder.diagnoses import Diagnosis, diagnosis
from autograder.inspector.trace import Forward, Loss, Trace
from autograder.inspector.words import count


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-4 * max(1.0, abs(b))


def batch_losses(trace: Trace, split: str, epoch: int | None = None, trained: bool = True) -> list[Loss]:
    """One loss per forward pass on `split` (in pass `epoch`), in order.

    Per forward, the loss that went through backward counts, else the first computed
    from it. With `trained`, only forwards that ran with autograd on count (a
    measurement pass under no_grad is not training).
    """
    chosen = {}
    for loss in trace.losses:
        forward = loss.forward
        if forward is None or forward.batch is None or forward.batch.split != split:
            continue
        if (epoch is not None and forward.batch.epoch != epoch) or (trained and not forward.grad_enabled):
            continue
        current = chosen.get(id(forward))
        if current is None or (loss.backward_seqs and not current.backward_seqs):
            chosen[id(forward)] = loss
    return sorted(chosen.values(), key=lambda loss: loss.forward.seq)


def means(losses: list[Loss]) -> tuple[float, float] | None:
    """(plain mean of the batch losses, mean weighted by batch size)."""
    if not losses:
        return None
    plain = sum(l.value for l in losses) / len(losses)
    weighted = sum(l.value * l.size for l in losses) / sum(l.size for l in losses)
    return plain, weighted


def check_mean_loss(reported: float, losses: list[Loss], name: str, where: str = "",
                    accum_steps: int = 1, alternatives: tuple = ()) -> list[Diagnosis]:
    """Pass when `reported` is the mean of `losses`, or of one of the `alternatives` lists."""
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


def check_loss_list(reported: list[float], losses: list[Loss], name: str) -> list[Diagnosis]:
    expected = [l.value for l in losses]
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
            last[(forward.batch.epoch, forward.batch.index)] = forward
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
