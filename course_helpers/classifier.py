"""The pieces of phase 6's digit classifier that the notebook and the benchmark share.

The notebook teaches each idea in its own cell; the pieces that must be *identical*
wherever the classifier is trained live here, so the notebook's demo run and
`benchmarks/classifier.py` train exactly the same recipe: the seeded split, the MLP,
one epoch of training, the reference evaluation, the CSV metrics log and the
confusion-matrix figure.
"""
import csv
import math
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_helpers.datasets import load_digits
from course_helpers.plotting import new_figure

# The recipe: measured to reach >= 97 % validation accuracy within 10 epochs (benchmarks/classifier.py).
VAL_FRACTION = 0.2
SPLIT_SEED = 0
BATCH_SIZE = 32
HIDDEN = 256
DROPOUT = 0.2
LEARNING_RATE = 2e-3
EPOCHS = 10


def split_digits(val_fraction: float = VAL_FRACTION, seed: int = SPLIT_SEED) -> tuple[TensorDataset, TensorDataset]:
    """Shuffle the 1,797 digits with their own seeded generator and cut off a validation set.

    The split has its own generator so it stays the same whatever else used the global
    random numbers before it: a validation image must never drift into training.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction!r}.")
    images, labels = load_digits()
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    n_val = round(len(images) * val_fraction)
    val_idx, train_idx = order[:n_val], order[n_val:]
    return TensorDataset(images[train_idx], labels[train_idx]), TensorDataset(images[val_idx], labels[val_idx])


def make_loaders(train_set, val_set, batch_size: int = BATCH_SIZE, seed: int = 0) -> tuple[DataLoader, DataLoader]:
    """A shuffling training loader (seeded, so a rerun sees the same batches) and a fixed-order validation loader."""
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True,
                              generator=torch.Generator().manual_seed(seed))
    val_loader = DataLoader(val_set, batch_size=4 * batch_size, shuffle=False)
    return train_loader, val_loader


class DigitsMLP(nn.Module):
    """64 pixels -> two hidden layers with ReLU and dropout -> 10 class scores (logits).

    Dropout zeroes a random share of the hidden activations in training mode only,
    which is why evaluation must switch the model to eval mode. With `batchnorm=True`
    each hidden layer also gets an `nn.BatchNorm1d`, whose running statistics move on
    every forward pass in training mode.
    """

    def __init__(self, hidden: int = HIDDEN, dropout: float = DROPOUT, classes: int = 10,
                 batchnorm: bool = False):
        super().__init__()
        def block(n_in):
            norm = [nn.BatchNorm1d(hidden)] if batchnorm else []
            return [nn.Linear(n_in, hidden), *norm, nn.ReLU(), nn.Dropout(dropout)]
        self.layers = nn.Sequential(*block(64), *block(hidden), nn.Linear(hidden, classes))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.layers(images.flatten(1))


def make_optimizer(model: nn.Module, lr: float = LEARNING_RATE) -> torch.optim.Optimizer:
    """Adam with the recipe's learning rate."""
    return torch.optim.Adam(model.parameters(), lr=lr)


def model_device(model: nn.Module) -> torch.device:
    """Where the model's weights live: batches must be moved there."""
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def train_one_epoch(model, loader, loss_fn, optimizer, progress=None) -> float:
    """One pass over `loader` in training mode, one update per batch; the mean batch loss.

    `progress` is an optional tqdm bar, advanced once per batch.
    """
    model.train()
    device = model_device(model)
    losses = []
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if progress is not None:
            progress.update(1)
    return sum(losses) / len(losses)


class WithProgress:
    """A loader that advances a tqdm bar by one for every batch it hands out.

    It can be iterated again and again (one pass per epoch) and has a length and a `generator`,
    like the loader it wraps, so a training function never notices it.
    """

    def __init__(self, loader, bar):
        self.loader, self.bar = loader, bar

    def __len__(self):
        return len(self.loader)

    @property
    def generator(self):
        """The wrapped loader's own shuffling generator (None if it has none), for a run to save and restore."""
        return getattr(self.loader, "generator", None)

    def __iter__(self):
        for batch in self.loader:
            yield batch
            self.bar.update(1)


class StopsAfter:
    """A loader that raises KeyboardInterrupt (what Ctrl-C raises) after handing out `batches` batches.

    Phase 6 stops a run with it part-way through an epoch, to resume it afterwards.
    """

    def __init__(self, loader, batches: int):
        self.loader, self.left = loader, batches

    def __len__(self):
        return len(self.loader)

    generator = WithProgress.generator

    def __iter__(self):
        for batch in self.loader:
            if self.left == 0:
                raise KeyboardInterrupt("stopped after the batches asked for")
            self.left -= 1
            yield batch


def reference_evaluate(model, loader, loss_fn) -> tuple[float, float]:
    """The course's evaluation: eval mode, no graphs; (mean loss per example, accuracy in [0, 1])."""
    model.eval()
    device = model_device(model)
    total_loss, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            scores = model(images)
            total_loss += loss_fn(scores, labels).item() * len(labels)
            correct += (scores.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
    return total_loss / seen, correct / seen


def reference_fit(model, train_loader, val_loader, loss_fn, optimizer, epochs) -> dict:
    """The course's `fit`: per epoch, train on every batch, then validate in eval mode without graphs.

    The notebook trains with the learner's own `fit`; this one stands in until that is written.
    """
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        history["train_loss"].append(train_one_epoch(model, train_loader, loss_fn, optimizer))
        val_loss, val_acc = reference_evaluate(model, val_loader, loss_fn)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


def confusion_matrix(model, loader, classes: int = 10) -> torch.Tensor:
    """counts[true, predicted] over every example in `loader`, predicted in eval mode without graphs."""
    model.eval()
    device = model_device(model)
    counts = torch.zeros(classes, classes, dtype=torch.int64)
    with torch.no_grad():
        for images, labels in loader:
            predicted = model(images.to(device)).argmax(dim=1).cpu()
            counts += torch.bincount(labels * classes + predicted, minlength=classes * classes).view(classes, classes)
    return counts


def plot_confusion(counts: torch.Tensor, title: str = "Validation confusion matrix"):
    """A figure of the confusion matrix with every count written in its square."""
    figure, (axes,) = new_figure(5.0, 4.4)
    axes.imshow(counts.numpy(), cmap="Blues")
    classes = counts.shape[0]
    high = counts.max().item()
    for true in range(classes):
        for predicted in range(classes):
            value = counts[true, predicted].item()
            if value:
                colour = "white" if value > high / 2 else "black"
                axes.text(predicted, true, str(value), ha="center", va="center", fontsize=8, color=colour)
    axes.set_xticks(range(classes))
    axes.set_yticks(range(classes))
    axes.set_xlabel("predicted digit")
    axes.set_ylabel("true digit")
    accuracy = counts.diag().sum().item() / max(counts.sum().item(), 1)
    axes.set_title(f"{title} (accuracy {accuracy:.1%})")
    return figure


class MetricsLog:
    """A CSV file with one row per epoch, written (and flushed) as training goes.

    A crash at epoch 7 still leaves epochs 1-6 on disk. Only plain numbers, text and
    paths are accepted: a tensor in a log row is almost always a forgotten `.item()`.
    """

    def __init__(self, path, fields: list[str]):
        self.path = Path(path)
        self.fields = list(fields)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("w", newline="") as handle:
            csv.writer(handle).writerow(self.fields)

    def write(self, **row) -> None:
        """Append one row; every field must be given, as a number, a string or a path."""
        missing = [name for name in self.fields if name not in row]
        extra = [name for name in row if name not in self.fields]
        if missing or extra:
            raise ValueError(f"A row of {self.path.name} needs exactly the fields {self.fields}; "
                             f"missing {missing}, unexpected {extra}.")
        for name, value in row.items():
            if isinstance(value, torch.Tensor):
                raise TypeError(f"The field {name!r} is a tensor ({value!r}); log numbers, not tensors: "
                                f"use `.item()` to take the Python number out.")
        with self.path.open("a", newline="") as handle:
            csv.writer(handle).writerow([_cell(row[name]) for name in self.fields])

    def read(self) -> list[dict[str, str]]:
        """Every row written so far, as dictionaries of strings (as a CSV holds them)."""
        with self.path.open(newline="") as handle:
            return list(csv.DictReader(handle))


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else str(value)
    return str(value)


def train_reference(epochs: int = EPOCHS, seed: int = 0, device="cpu", fit=reference_fit) -> dict:
    """The whole recipe without display: split, MLP, Adam, `epochs` epochs, best validation accuracy.

    `fit` trains it: the course's `reference_fit`, or any function with its contract (the
    benchmark passes the notebook's own `fit`). Returns the per-epoch history, the best
    validation accuracy, its epoch and the seconds spent training (data loading and model
    set-up excluded). Seeds torch's global generator with `seed` (the starting weights, dropout).
    """
    torch.manual_seed(seed)
    train_set, val_set = split_digits()
    train_loader, val_loader = make_loaders(train_set, val_set, seed=seed)
    model = DigitsMLP().to(device)
    optimizer = make_optimizer(model)
    start = time.perf_counter()
    history = fit(model, train_loader, val_loader, nn.CrossEntropyLoss(), optimizer, epochs)
    seconds = time.perf_counter() - start
    best = max(range(epochs), key=lambda i: history["val_acc"][i])
    return {"history": history, "best_val_acc": history["val_acc"][best], "best_epoch": best + 1,
            "seconds": seconds}
