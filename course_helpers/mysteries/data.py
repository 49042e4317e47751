"""The mysteries' data and model: a few hundred digits and a small MLP, both seeded.

Runs must take a fraction of a second, so they train on a subset of the 1,797 digits
that ship with the course; ten classes put chance level at 10 %.
"""
from collections import OrderedDict

import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

from course_helpers.datasets import load_digits

_DIGITS = None


def digits() -> tuple[torch.Tensor, torch.Tensor]:
    """The digits, read from disk once per process."""
    global _DIGITS
    if _DIGITS is None:
        _DIGITS = load_digits()
    return _DIGITS


def digits_split(train: int = 320, val: int = 160, seed: int = 0):
    """(train images, train labels, val images, val labels): disjoint subsets picked with `seed`."""
    images, labels = digits()
    if train <= 0 or val <= 0 or train + val > len(images):
        raise ValueError(f"train and val must be positive and together at most {len(images)}; "
                         f"got {train} and {val}.")
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    train_idx, val_idx = order[:train], order[train:train + val]
    return images[train_idx], labels[train_idx], images[val_idx], labels[val_idx]


def batch_loader(dataset, batch_size: int, shuffle: bool = False, seed: int = 0) -> DataLoader:
    """A DataLoader that asks the dataset for a whole batch at once (`dataset[list_of_indices]`).

    The same batches as `DataLoader(dataset, batch_size, shuffle)` with the same generator,
    without fetching and stacking examples one by one: several times faster for tensors.
    """
    order = (RandomSampler(dataset, generator=torch.Generator().manual_seed(seed)) if shuffle
             else SequentialSampler(dataset))
    # The loader's own generator: iterating it never draws from the global random numbers.
    return DataLoader(dataset, batch_size=None, sampler=BatchSampler(order, batch_size, drop_last=False),
                      generator=torch.Generator().manual_seed(seed))


def loaders(train_set, val_set, batch_size: int = 32, val_batch_size: int = 80, seed: int = 0):
    """A training loader that shuffles with its own seeded generator, and a fixed-order validation loader."""
    return batch_loader(train_set, batch_size, shuffle=True, seed=seed), batch_loader(val_set, val_batch_size)


def digit_loaders(seed: int = 0, batch_size: int = 32, train: int = 320, val: int = 160,
                  val_batch_size: int = 80):
    """The usual pair of loaders over a seeded digits split."""
    x, y, vx, vy = digits_split(train, val, seed)
    return loaders(TensorDataset(x, y), TensorDataset(vx, vy), batch_size, val_batch_size, seed)


def digits_mlp(seed: int = 0, hidden: int = 32, batchnorm: bool = False) -> nn.Module:
    """64 pixels -> `hidden` units (batch norm optional) -> ReLU -> 10 scores, with readable names.

    Built inside `fork_rng`, so making a model never moves the notebook's own random numbers.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layers = [("hidden", nn.Linear(64, hidden))]
        if batchnorm:
            layers.append(("norm", nn.BatchNorm1d(hidden)))
        layers += [("relu", nn.ReLU()), ("out", nn.Linear(hidden, 10))]
        return nn.Sequential(OrderedDict(layers))


def model_device(model: nn.Module) -> torch.device:
    """Where the model's weights live."""
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def regression_loaders(seed: int = 0, train: int = 320, val: int = 80, features: int = 8,
                       batch_size: int = 32):
    """Noisy linear targets from `features` inputs: a shuffling training loader and a validation loader."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(train + val, features, generator=generator)
    teacher = torch.randn(features, 1, generator=generator)
    y = x @ teacher + 0.1 * torch.randn(train + val, 1, generator=generator)
    return loaders(TensorDataset(x[:train], y[:train]), TensorDataset(x[train:], y[train:]), batch_size,
                   val, seed)


def regression_mlp(seed: int = 0, features: int = 8, hidden: int = 16) -> nn.Module:
    """`features` inputs -> `hidden` ReLU units -> one number."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(OrderedDict([("hidden", nn.Linear(features, hidden)), ("relu", nn.ReLU()),
                                          ("out", nn.Linear(hidden, 1))]))


def evaluate_regression(model, loader, loss_fn) -> tuple[float, None]:
    """Mean loss per example in eval mode without graphs; no accuracy for a regression."""
    model.eval()
    device = model_device(model)
    total, seen = 0.0, 0
    with torch.no_grad():
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            total += loss_fn(model(inputs), targets).item() * len(targets)
            seen += len(targets)
    return total / seen, None
