"""Each input with its own label: which targets did the learner's loss pair the outputs with?

The gradient a backward pass sends into the model's output says it. For cross-entropy,
row i of that gradient is (softmax(output_i) - onehot(target_i)) / N times the loss's
scale, so its one negative entry is the target the loss used for that row. For mean
squared error it is 2 (output_i - target_i) / (N D) times the scale, and the learner's
loss value gives the scale, so `output - gradient * N D / 2 / scale` is the target used.
Either is compared with the row's own target (the book knows each row's example, however
the learner reordered the batch). A loss that is neither of these shapes is left to the
general update check (descent.py), which says what it measured.
"""
import torch

from autograder.diagnoses import Diagnosis, diagnosis
from autograder.inspector.trace import Forward, Trace
from autograder.inspector.words import count

FITS = 0.02  # relative residual below which a gradient has the expected shape


def _residual(grad: torch.Tensor, shape: torch.Tensor) -> tuple[float, float]:
    """(scale, relative residual) of the best fit grad ≈ scale * shape."""
    norm = float((shape * shape).sum())
    if norm == 0.0:
        return 0.0, float("inf")
    scale = float((grad * shape).sum()) / norm
    rest = float((grad - scale * shape).norm()) / max(float(grad.norm()), 1e-30)
    return scale, rest


def _cross_entropy_targets(forward: Forward) -> torch.Tensor | None:
    """The class each output row was scored against, when the gradient is cross-entropy's."""
    grad, output = forward.output_grad.double(), forward.output.double()
    if output.dim() != 2 or grad.shape != output.shape:
        return None
    probabilities = output.softmax(dim=1)
    for sign in (1.0, -1.0):  # a loss that was negated has its targets at the other end
        targets = (grad * sign).argmin(dim=1)
        shape = probabilities - torch.nn.functional.one_hot(targets, output.shape[1]).double()
        scale, rest = _residual(grad, shape)
        if rest < FITS and scale * sign > 0:
            return targets
    return None


def _squared_error_targets(forward: Forward) -> torch.Tensor | None:
    """The target each output row was compared with, when the loss is a mean squared error."""
    backwarded = [loss for loss in forward.losses if loss.backward_seqs]
    if len(backwarded) != 1 or len(forward.backward_seqs) != 1 or forward.output is None:
        return None  # the gradient at the output is not one loss's
    grad, output = forward.output_grad.double(), forward.output.double()
    value = backwarded[0].value
    if grad.shape != output.shape or not value > 0:
        return None
    size = output.numel()
    squared = float((grad * grad).sum())
    if squared == 0.0:
        return None
    scale = size * squared / (4.0 * value)  # value = scale * mean(d^2), grad = 2 * scale * d / size
    return output - grad * size / (2.0 * scale)


def used_targets(forward: Forward, kind: str) -> torch.Tensor | None:
    if forward.output_grad is None or forward.output is None:
        return None
    if kind == "CrossEntropyLoss":
        return _cross_entropy_targets(forward)
    if kind == "MSELoss":
        return _squared_error_targets(forward)
    return None


def _mismatched(forward: Forward, kind: str) -> int | None:
    """How many rows the learner's loss scored against a target that is not their own (None: cannot tell)."""
    batch = forward.batch
    if batch is None or forward.reference_output_grad is None or not all(forward.known or (False,)):
        return None
    own = batch.y.detach().cpu()
    _, rest = _residual(forward.output_grad.double(), forward.reference_output_grad.double())
    if rest < FITS:
        return 0  # the learner's loss has the given loss's gradient with each row's own target
    used = used_targets(forward, kind)
    if used is None or len(used) != len(own):
        return None
    if kind == "CrossEntropyLoss":
        return int((used != own.long().reshape(used.shape)).sum())
    own = own.double().reshape(used.shape)
    tolerance = 1e-3 * max(1.0, float(own.abs().max()))
    off = (used - own).abs().reshape(len(own), -1).amax(dim=1) > tolerance
    # Only a pairing bug when the targets used are targets of this data, just not the rows' own.
    others = torch.cdist(used.reshape(len(own), -1), own.reshape(len(own), -1)).amin(dim=1) <= tolerance
    if not bool(others[off].all()):
        return None
    return int(off.sum())


def check_pairing(trace: Trace, kind: str, several_epochs: bool = False, full_batch: bool = False) -> list[Diagnosis]:
    """Every training pass's loss paired each input row with that row's own target.
    `full_batch`: one pass per epoch on all the data (the message speaks of epochs, not batches)."""
    trained = [f for f in trace.forwards if f.trained and f.split == "train"]
    judged, wrong = 0, []
    for forward in trained:
        rows = _mismatched(forward, kind)
        if rows is None:
            continue
        judged += 1
        if rows:
            wrong.append((forward, rows))
    if not wrong:
        return []
    forward, rows = wrong[0]
    where = forward.batch.label if forward.batch is not None else "one batch"
    if full_batch:
        where = f"epoch {next(i for i, f in enumerate(trained, 1) if f is forward)}"
    elif several_epochs and forward.batch is not None:
        where = f"epoch {forward.batch.epoch + 1}, {where}"
    theirs = forward.losses[0].value if forward.losses else None
    numbers = (f" (the loss your loop computed there was {theirs:.4g}; with each input's own label it is "
               f"{forward.reference:.4g})" if theirs is not None and forward.reference is not None else "")
    return [diagnosis(
        "labels-mismatched",
        f"In {count(len(wrong), 'training forward pass')} of {judged}, the loss scored inputs against labels that "
        f"are not their own: in {where}, {rows} of its {len(forward.batch.y)} inputs were compared with another "
        f"example's label{numbers}. The model learned to predict the wrong answers.", at=forward.where)]
