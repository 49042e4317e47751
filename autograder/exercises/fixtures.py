"""Seeded, tiny fixtures: data, models, real DataLoaders that remember what they handed out.

Everything is built from a private `torch.Generator` or inside `fork_rng`, so building
a fixture never moves the notebook's own random numbers. Sizes are small enough that
one whole check takes a few hundredths of a second.
"""
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler, TensorDataset

from autograder.inspector.batches import BatchBook


class _CountingSampler(Sampler):
    """Yields 0..n-1 in order and tells the book each time a new pass over the data begins."""

    def __init__(self, size: int, book: BatchBook, split: str):
        self.size, self.book, self.split = size, book, split

    def __iter__(self):
        self.book.new_pass(self.split)
        return iter(range(self.size))

    def __len__(self):
        return self.size


class _Collate:
    """Stacks a batch like the default collate, puts it on the learner's device, then writes
    it in the book: on a GPU, a loop that never calls `.to(device)` still works, as it
    does with the course's own loaders."""

    def __init__(self, book: BatchBook, split: str, device: str = "cpu"):
        self.book, self.split, self.device = book, split, device

    def __call__(self, samples):
        x = torch.stack([s[0] for s in samples]).to(self.device)
        y = torch.stack([s[1] for s in samples]).to(self.device)
        self.book.add(self.split, x, y)
        return x, y


def recording_loader(x, y, batch_size: int, book: BatchBook, split: str, device: str = "cpu") -> DataLoader:
    """A real DataLoader over (x, y) whose batches, on `device`, the book remembers."""
    return DataLoader(TensorDataset(x, y), batch_size=batch_size,
                      sampler=_CountingSampler(len(x), book, split),
                      collate_fn=_Collate(book, split, device))


def classification_data(seed: int, n: int, features: int, classes: int):
    """Gaussian points labelled by a random linear teacher, so a model can learn them."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, features, generator=generator)
    teacher = torch.randn(features, classes, generator=generator)
    return x, (x @ teacher).argmax(dim=1)


def regression_data(seed: int, n: int, features: int):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, features, generator=generator)
    w = torch.randn(features, 1, generator=generator)
    return x, x @ w + 0.1 * torch.randn(n, 1, generator=generator)


def make_model(seed: int, n_in: int, n_hidden: int, n_out: int, *, dropout: float = 0.0,
               batchnorm: bool = False, training: bool = True) -> nn.Module:
    """A small MLP, seeded; dropout and batch-norm make train/eval mode visible."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layers = [nn.Linear(n_in, n_hidden)]
        if batchnorm:
            layers.append(nn.BatchNorm1d(n_hidden))
        layers.append(nn.ReLU())
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(n_hidden, n_out))
        model = nn.Sequential(*layers)
    return model.train(training)


def make_optimizer(name: str, model: nn.Module, lr: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr)
    if name == "momentum":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr)
    raise ValueError(f"unknown optimizer {name!r}: use 'sgd', 'momentum' or 'adam'")


@dataclass
class Fixture:
    """What one run needs: the call's arguments and the objects the inspector watches."""

    args: tuple
    model: nn.Module
    loss_fn: nn.Module
    optimizer: torch.optim.Optimizer | None
    book: BatchBook
    params: dict
    extra: dict = field(default_factory=dict)
