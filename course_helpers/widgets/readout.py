"""Read loss curves the way an experienced practitioner would, and say it in plain words.

A learner staring at a curve does not yet know what "flat", "zig-zag" or "the validation
loss turns up" mean. The explorers put one sentence under the plot, and that sentence
must be honest: it is computed from the numbers in the curves, never from the settings
that produced them. The verdicts, checked in this order:

- diverged     a NaN or inf appeared, or the loss grew far above where it started
- oscillating  the loss keeps jumping up and down far above the best value it reached
- stalled      the loss barely fell (or did not move at all)
- overfitting  validation loss climbed back up while training loss kept falling
- slow         the loss fell well but was still falling clearly when training stopped
- converged    none of the above

Epoch-to-epoch noise (mini-batches, dropout) is not a trend: the checks for swings,
overfitting and slowness look at curves averaged over a few epochs.
"""
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """What the curves show: a one-word kind (for code and tests) and a sentence (for people)."""

    kind: str
    text: str


def _finite(values) -> bool:
    return all(math.isfinite(v) for v in values)


def _first_bad_epoch(values) -> int | None:
    """1-based epoch of the first NaN or inf, or None."""
    for index, value in enumerate(values):
        if not math.isfinite(value):
            return index + 1
    return None


def _cycles(values) -> float:
    """How many times the curve travels its own range: 1 for a monotone curve, 2 per up-and-down."""
    span = max(values) - min(values)
    if span == 0:
        return 0.0
    return sum(abs(b - a) for a, b in zip(values, values[1:])) / span


def _moving_average(values, window: int) -> list[float]:
    """Each value averaged with its neighbours, `window // 2` on each side (fewer at the ends)."""
    half = window // 2
    return [sum(values[max(0, i - half):i + half + 1]) / len(values[max(0, i - half):i + half + 1])
            for i in range(len(values))]


def _still_falling(curve, first: float) -> bool:
    """True when the last fifth of the epochs still brought a tenth or more of the whole drop."""
    smooth = _moving_average(curve, 5)
    recent = smooth[int(0.8 * len(curve)) - 1] - smooth[-1]
    return recent > 0.1 * (first - smooth[-1]) > 0


def read_curves(train_losses, val_losses=None, start: float | None = None) -> Verdict:
    """Classify a training run from its per-epoch losses.

    `train_losses[i]` and `val_losses[i]` are the losses of epoch i + 1; `start` is the
    loss before any training (the first epoch's loss is used when it is not given).
    """
    train = [float(v) for v in train_losses]
    val = [float(v) for v in val_losses] if val_losses is not None else []
    if not train:
        raise ValueError("read_curves needs at least one epoch of training loss.")
    verdict = _non_finite(train, val)
    if verdict:
        return verdict
    first = train[0] if start is None or not math.isfinite(start) else float(start)
    for check in (_growing, _oscillating, _stalled, _overfitting, _slow):
        verdict = check(train, val, first)
        if verdict:
            return verdict
    ending = f"; validation loss ends at {val[-1]:.3g}" if val else ""
    return Verdict("converged", f"Converged: the training loss fell from {first:.3g} to "
                   f"{train[-1]:.3g} in {len(train)} epochs{ending}.")


def _non_finite(train, val) -> Verdict | None:
    bad_epochs = [e for e in (_first_bad_epoch(train), _first_bad_epoch(val)) if e is not None]
    if not bad_epochs:
        return None
    epoch = min(bad_epochs)
    curve = train if _first_bad_epoch(train) == epoch else val
    word = "NaN" if math.isnan(curve[epoch - 1]) else "inf"
    before = f" (it was {curve[epoch - 2]:.3g} at epoch {epoch - 1})" if epoch > 1 else ""
    return Verdict("diverged", f"Diverged to {word} at epoch {epoch}{before}: each step "
                   "overshot the minimum by more than the last. Lower the learning rate.")


def _growing(train, val, first) -> Verdict | None:
    last = train[-1]
    if last > 10 * first and last == max(train):
        return Verdict("diverged", f"Diverging: the training loss grew from {first:.3g} to {last:.3g} "
                       f"in {len(train)} epochs and is still growing. Lower the learning rate.")
    return None


def _oscillating(train, val, first) -> Verdict | None:
    """Big swings in the second half (after 3-epoch smoothing), far above the best value."""
    smooth = _moving_average(train, 3)
    tail = smooth[len(smooth) // 2:]
    tail_middle = sorted(tail)[len(tail) // 2]
    if (len(tail) >= 6 and _cycles(tail) >= 3 and max(tail) >= 2 * min(tail)
            and tail_middle >= 1.5 * min(smooth)):
        raw_tail = train[len(train) // 2:]
        return Verdict("oscillating", f"Oscillating: in the last {len(tail)} epochs the training loss "
                       f"keeps swinging between {min(raw_tail):.3g} and {max(raw_tail):.3g} instead of "
                       f"settling near the best value it reached ({min(train):.3g}). The steps are too "
                       "large: lower the learning rate (or check that old gradients are cleared "
                       "before each step).")
    return None


def _stalled(train, val, first) -> Verdict | None:
    epochs, last = len(train), train[-1]
    if max(train) == min(train) == first:
        return Verdict("stalled", f"Stalled: the training loss stayed at exactly {last:.3g} for "
                       f"{epochs} epochs, so the weights never changed.")
    drop = 1 - last / first if first > 0 else 0.0
    if drop >= 0.5:
        return None
    best_epoch = min(range(epochs), key=train.__getitem__) + 1
    lost = (f" It reached {train[best_epoch - 1]:.3g} at epoch {best_epoch} but did not stay there."
            if train[best_epoch - 1] < 0.5 * first else "")
    return Verdict("stalled", f"Stalled: in {epochs} epochs the training loss only went from "
                   f"{first:.3g} to {last:.3g} ({drop:.0%} lower).{lost} The steps are too small or "
                   "the weights are barely updated: raise the learning rate, train longer, or "
                   "check the loop.")


def _overfitting(train, val, first) -> Verdict | None:
    """Validation (averaged over 5 epochs) 20 % above its low point, set early, while training fell."""
    if len(val) < 10:
        return None
    smooth = _moving_average(val, 5)  # so that epoch-to-epoch noise is not read as a trend
    best_epoch = min(range(len(smooth)), key=smooth.__getitem__) + 1
    val_best, val_last = smooth[best_epoch - 1], smooth[-1]
    train_at_best = train[min(best_epoch, len(train)) - 1]
    if best_epoch <= 0.8 * len(val) and val_last > 1.2 * val_best and train[-1] < train_at_best:
        return Verdict("overfitting", f"Overfitting: validation loss (averaged over 5 epochs) was "
                       f"lowest ({val_best:.3g}) at epoch {best_epoch} and rose to {val_last:.3g} by "
                       f"epoch {len(val)}, while training loss kept falling ({train_at_best:.3g} → "
                       f"{train[-1]:.3g}). The model is memorising the training points: stop near "
                       f"epoch {best_epoch}.")
    return None


def _slow(train, val, first) -> Verdict | None:
    epochs = len(train)
    falling = _still_falling(train, first) or (len(val) == epochs and _still_falling(val, val[0]))
    if epochs >= 10 and falling:
        return Verdict("slow", f"Still falling: the training loss went from {first:.3g} to "
                       f"{train[-1]:.3g} and the curves were still dropping clearly in the last "
                       f"{epochs - int(0.8 * epochs) + 1} epochs. Train for more epochs or raise "
                       "the learning rate.")
    return None
