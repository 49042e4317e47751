"""Validation coverage: every batch of the validation loader, every epoch, after that
epoch's training, and each reported number the one measured then.

An epoch's *window* runs from the start of its training pass (the first forward pass
on training data that a backward pass went through) to the start of the next one. A
validation pass counts for the epoch whose window it lies in. Allowed on purpose: a
validation pass before any training (a baseline), several validation passes in one
epoch, and measurement passes over the training data.
"""
from dataclasses import dataclass

from autograder.diagnoses import Diagnosis, diagnosis
from autograder.inspector.coverage import examples_of
from autograder.inspector.numbers import accuracies, batch_losses, close, means
from autograder.inspector.trace import Trace
from autograder.inspector.words import count, listed


@dataclass
class Pass:
    """One pass over a loader: its forward passes, one per batch (the last one counts)."""

    split: str
    number: int  # 0-based pass over that loader
    forwards: list

    @property
    def start(self) -> int:
        return self.forwards[0].seq

    @property
    def batches(self) -> int:
        return len({f.batch.index for f in self.forwards})

    @property
    def examples(self) -> set:
        """The examples the pass ran on (row by row, as far as the book knows them)."""
        return {row for f in self.forwards for row in examples_of(f)[0]}

    def covers(self, batches: int, examples: int | None = None) -> bool:
        if examples is not None and self.examples:
            return len(self.examples) >= examples
        return self.batches >= batches

    def matches(self, reported: float, kind: str) -> bool:
        pair = means(self.forwards) if kind == "loss" else accuracies(self.forwards)
        return pair is not None and any(close(reported, figure) for figure in pair)


def passes(trace: Trace, split: str) -> list[Pass]:
    by_number = {}
    for forward in trace.forwards:
        if forward.batch is not None and forward.batch.split == split:
            by_number.setdefault(forward.batch.epoch, {})[forward.batch.key] = forward
    return [Pass(split, number, sorted(batches.values(), key=lambda f: f.seq))
            for number, batches in sorted(by_number.items())]


def measured(trace: Trace, split: str) -> list[Pass]:
    """Passes whose forward passes all have a loss value (the given loss function could read them)."""
    return [Pass(split, p.number, batch_losses(trace, split, p.number, trained=False)) for p in passes(trace, split)
            if batch_losses(trace, split, p.number, trained=False)]


def epoch_windows(trace: Trace, epochs: int) -> list[tuple]:
    """(first seq, end seq) of each epoch: from one pass over the training loader to the next;
    or, for a function that kept the loader's batches and reused them (one loader pass for
    every epoch), from one training pass after a validation pass to the next."""
    starts, by_validation, validated = [], [], False
    for forward in trace.forwards:
        batch = forward.batch
        if forward.split == "val":
            validated = True
        if forward.trained and batch is not None and batch.split == "train":
            if not starts or starts[-1][0] != batch.epoch:
                starts.append((batch.epoch, forward.seq))
            if not by_validation or validated:
                by_validation.append((batch.epoch, forward.seq))
            validated = False
    if len(starts) == 1 and epochs > 1:
        starts = by_validation
    starts = starts[:epochs]
    bounds = [seq for _, seq in starts[1:]] + [float("inf")]
    return [(seq, end) for (_, seq), end in zip(starts, bounds)]


def check_coverage(trace: Trace, batches: int, examples: int, name: str) -> list[Diagnosis]:
    """`evaluate`: the model ran on every example of every batch of the loader it was given."""
    val = passes(trace, "val")
    if not val:
        return []
    seen = {row for p in val for row in p.examples}
    indices = {f.batch.index for p in val for f in p.forwards}
    if (len(seen) >= examples if seen else len(indices) >= batches):
        return []
    shown = len(seen) if seen else sum(len(f.batch.y) for p in val for f in p.forwards if not f.batch.made)
    return [diagnosis(
        "partial-validation",
        f"{name} ran the model on {shown} of the loader's {examples} examples (in {len(indices)} of its {batches} "
        f"batches): the loss and accuracy it returned describe only part of the data.",
        fix="Loop over every batch of the loader (`for inputs, targets in loader:`) and average over all of "
            "them, each batch whole; never `break` out early or take only `next(iter(loader))`.")]


def _part(p: Pass, batches: int, examples: int | None) -> str:
    if examples is not None and p.examples:
        return f"{len(p.examples)} of val_loader's {examples} examples"
    return f"{p.batches} of val_loader's {batches} batches"


def _when(trace_windows: list, seq: int) -> str:
    for number, (start, end) in enumerate(trace_windows, 1):
        if start <= seq < end:
            return f"after epoch {number}'s training"
    return "before any training"


def check_history(trace: Trace, key: str, reported: list[float], epochs: int, val_batches: int,
                  kind: str, val_examples: int | None = None) -> tuple[list[Diagnosis], list[int]]:
    """Judge history[key] epoch by epoch. Returns the diagnoses and the epochs (0-based) whose
    number matched nothing the run measured (for the plain numbers check to explain)."""
    windows = epoch_windows(trace, epochs)
    val, train = measured(trace, "val"), measured(trace, "train")
    if kind == "acc":
        val, train = passes(trace, "val"), passes(trace, "train")
    name = f"history[{key!r}]"
    if not any(passes(trace, "val")):
        on_train = [e for e, r in enumerate(reported) if any(p.matches(r, kind) for p in train)]
        what = (f"; the numbers it reported for {listed([e + 1 for e in on_train], 'epoch')} match passes over "
                f"the training data" if on_train else "")
        return [diagnosis(
            "wrong-validation-data",
            f"fit never ran the model on a batch of val_loader in {count(epochs, 'epoch')}{what}: {name} "
            f"does not measure the validation data.",
            fix="Validate on `val_loader` (the second loader you are given), not on `train_loader`.")], []
    partial, stale, elsewhere, unexplained = [], [], [], []
    for epoch, figure in enumerate(reported[:len(windows)]):
        start, end = windows[epoch]
        inside = [p for p in val if start <= p.start < end]
        if any(p.matches(figure, kind) and p.covers(val_batches, val_examples) for p in inside):
            continue
        if any(p.matches(figure, kind) for p in inside):
            partial.append((epoch, next(p for p in inside if p.matches(figure, kind))))
        elif any(p.matches(figure, kind) for p in val):
            stale.append((epoch, next(p for p in val if p.matches(figure, kind))))
        elif any(p.matches(figure, kind) for p in train):
            elsewhere.append(epoch)
        elif not inside:
            stale.append((epoch, None))
        else:
            unexplained.append(epoch)
    found = []
    if partial:
        epoch, p = partial[0]
        found.append(diagnosis(
            "partial-validation",
            f"{name} for epoch {epoch + 1} came from a validation pass that ran the model on "
            f"{_part(p, val_batches, val_examples)} ({count(len(partial), 'epoch')} like this): it measured only "
            f"part of the validation data.",
            fix="Validate on every batch of `val_loader` each epoch; never `break` out of the validation loop."))
    if stale:
        epoch, p = stale[0]
        ran = len(passes(trace, "val"))
        if p is None:
            what = f"no validation pass ran after epoch {epoch + 1}'s training"
        else:
            what = f"that is the value measured {_when(windows, p.start)}"
        found.append(diagnosis(
            "stale-validation",
            f"{name} for epoch {epoch + 1} was {reported[epoch]:.6g}, but {what} "
            f"(validation ran {count(ran, 'time')} in {count(epochs, 'epoch')}; {count(len(stale), 'epoch')} "
            f"reported a number not measured after its own training).",
            fix="Validate once per epoch, right after that epoch's training, and append that epoch's own "
                "numbers to the history."))
    if elsewhere:
        figures = ", ".join(f"{reported[e]:.4g}" for e in elsewhere)
        found.append(diagnosis(
            "wrong-validation-data",
            f"{name} for {listed([e + 1 for e in elsewhere], 'epoch')} ({figures}) matches what the model scored "
            f"on the training data, not on val_loader: it measures the data the model learned from.",
            fix="Validate on `val_loader` (the second loader you are given), not on `train_loader`."))
    return found, unexplained
