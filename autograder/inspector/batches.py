"""The batches a run handed out, found again by their content wherever the learner moved them.

The fixture's loaders write every batch here as they hand it out; the recorder asks,
for each forward pass, which examples went in. By content, so `.to(device)`, tqdm, a
`zip` or an iterator in a `while` loop make no difference; and row by row, so a batch
whose rows the learner reordered, cut or put together from several batches is still
known example by example, each with its own target.

A row that matches no example exactly (augmented: noise added, rescaled) is matched to
the nearest example of the same pass when that one is clearly nearer than any other:
its target is that example's. A row near no example is not an example of this data.
"""
from dataclasses import dataclass

import torch

from autograder.inspector.trace import Batch

NEARLY = 0.5  # a nearest example at most this fraction of the distance to the next one


def content_key(tensor: torch.Tensor) -> bytes:
    """A key that finds a batch again from its values, wherever the learner moved it."""
    data = tensor.detach()
    if data.device.type != "cpu":
        data = data.cpu()
    return str(tuple(data.shape)).encode() + data.contiguous().numpy().tobytes()


def row_keys(tensor: torch.Tensor) -> list[bytes]:
    """One key per row (the row's values, whatever its shape), so reordered rows are found."""
    data = tensor.detach()
    if data.device.type != "cpu":
        data = data.cpu()
    flat = data.contiguous().reshape(len(data), -1).numpy()
    kind = str(data.dtype).encode()
    return [kind + row.tobytes() for row in flat]


@dataclass
class Located:
    """What a forward pass ran on: the batch (handed out, or made by the learner's code),
    and per row whether it is a known example and whether its values are exactly the ones handed out."""

    batch: Batch | None
    known: tuple = ()
    exact: tuple = ()


class BatchBook:
    """Remembers every batch the fixture loaders handed out, findable by content."""

    def __init__(self):
        self.batches: list[Batch] = []
        self._by_key: dict[bytes, Batch] = {}
        self._rows: dict[bytes, tuple] = {}  # row key -> (batch, row) of its latest hand-out
        self._epochs: dict[str, int] = {}
        self._index: dict[str, int] = {}
        self._start: dict[str, int] = {}

    def new_pass(self, split: str) -> None:
        self._epochs[split] = self._epochs.get(split, -1) + 1
        self._index[split] = 0
        self._start[split] = 0

    def add(self, split: str, x: torch.Tensor, y: torch.Tensor) -> Batch:
        start = self._start.get(split, 0)
        batch = Batch(split, self._epochs.get(split, 0), self._index.get(split, 0), x, y,
                      rows=tuple(range(start, start + len(y))))
        self._index[split] = batch.index + 1
        self._start[split] = start + len(y)
        self.batches.append(batch)
        self._by_key[content_key(x)] = batch  # the latest pass wins
        try:
            for row, key in enumerate(row_keys(x)):
                self._rows[key] = (batch, row)
        except (RuntimeError, TypeError, ValueError):
            pass
        return batch

    def find(self, x) -> Batch | None:
        if not isinstance(x, torch.Tensor) or x.dtype.is_complex:
            return None
        try:
            return self._by_key.get(content_key(x))
        except (RuntimeError, TypeError):
            return None

    def locate(self, x) -> Located:
        """The examples a forward pass ran on, row by row; the latest batch when nothing is known."""
        whole = self.find(x)
        if whole is not None:
            rows = (True,) * len(whole.y)
            return Located(whole, rows, rows)
        if not isinstance(x, torch.Tensor) or x.dim() == 0 or x.dtype.is_complex or not x.dtype.is_floating_point:
            return Located(self.latest)
        try:
            keys = row_keys(x)
        except (RuntimeError, TypeError, ValueError):
            return Located(self.latest)
        found = [self._rows.get(key) for key in keys]
        exact = tuple(f is not None for f in found)
        if not all(exact):
            found = self._nearest(x, found)
        known = tuple(f is not None for f in found)
        if not any(known):
            return Located(self.latest, known, exact)
        if not all(known):
            latest = self.latest
            same = latest is not None and len(latest.y) == len(x)
            return Located(latest if same else None, known, exact)
        return Located(self._made(found), known, exact)

    def _made(self, found: list) -> Batch:
        """The batch these rows make: a handed-out batch itself, when they are all of it in order."""
        first = found[0][0]
        if all(b is first and r == i for i, (b, r) in enumerate(found)) and len(found) == len(first.y):
            return first
        x = torch.stack([b.x[r] for b, r in found])
        y = torch.stack([b.y[r] for b, r in found])
        return Batch(first.split, max(b.epoch for b, _ in found), first.index, x, y,
                     rows=tuple(b.rows[r] for b, r in found), made=True)

    def _nearest(self, x: torch.Tensor, found: list) -> list:
        """Rows not found exactly, matched to the clearly nearest example handed out in the same pass."""
        known = [f for f in found if f is not None]
        split = known[0][0].split if known else (self.latest.split if self.latest else None)
        pool = [b for b in self.batches if b.split == split and b.epoch == self._epochs.get(split, 0)]
        if not pool:
            return found
        try:
            examples = torch.cat([b.x.detach().cpu().reshape(len(b.x), -1).double() for b in pool])
            inputs = x.detach().cpu().reshape(len(x), -1).double()
            if inputs.shape[1] != examples.shape[1] or len(examples) < 2:
                return found
            distances = torch.cdist(inputs, examples)
        except (RuntimeError, TypeError, ValueError):
            return found
        places = [(b, r) for b in pool for r in range(len(b.y))]
        nearest, order = distances.topk(2, dim=1, largest=False)
        matched = list(found)
        for row, item in enumerate(found):
            if item is None and bool(torch.isfinite(nearest[row]).all()) \
                    and float(nearest[row, 0]) <= NEARLY * float(nearest[row, 1]):
                matched[row] = places[int(order[row, 0])]
        return _in_order(matched, pool, inputs)

    @property
    def latest(self) -> Batch | None:
        """The batch handed out last: where a forward pass on transformed inputs came from."""
        return self.batches[-1] if self.batches else None

    def passes(self, split: str) -> int:
        return self._epochs.get(split, -1) + 1


def _in_order(matched: list, pool: list, inputs: torch.Tensor) -> list:
    """A whole batch transformed in place (standardized, noise added) keeps its order: when
    most of its rows were found as rows 1, 2, 3 ... of one batch of the same size, or the
    inputs, value for value, follow that batch's values closely (correlation above 0.9),
    every row is that batch's row in the same place."""
    rows = len(inputs)
    for batch in reversed(pool):
        if len(batch.y) != rows:
            continue
        in_place = sum(1 for i, m in enumerate(matched) if m is not None and m[0] is batch and m[1] == i)
        if in_place * 2 > rows or _follows(inputs, batch.x):
            return [m if m is not None and m[0] is batch else (batch, i) for i, m in enumerate(matched)]
    return matched


def _follows(inputs: torch.Tensor, original: torch.Tensor) -> bool:
    a = inputs.reshape(-1).double()
    b = original.detach().cpu().reshape(-1).double()
    if len(a) != len(b) or len(a) < 2:
        return False
    a, b = a - a.mean(), b - b.mean()
    denominator = float(a.norm()) * float(b.norm())
    return denominator > 0 and float(a @ b) / denominator > 0.9
