"""Mystery run 1: a regression (8 numbers in, one out), mean squared error, plain SGD, batches of 32.

`train_epoch` is the loop the run used; `run()` trains with it (or with `loop`, a
replacement to compare) and returns the evidence.
"""
import torch
from torch import nn

from course_helpers.mysteries.data import evaluate_regression, model_device, regression_loaders, regression_mlp
from course_helpers.mysteries.evidence import Evidence, record_run
from course_helpers.mysteries.uncheckable import uncheckable


@uncheckable
def train_epoch(model, loader, loss_fn, optimizer):
    """One pass over the loader, one update per batch; returns the mean batch loss."""
    model.train()
    device = model_device(model)
    losses = []
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def run(seed: int = 0, epochs: int = 8, lr: float = 0.1, device="cpu", loop=train_epoch) -> Evidence:
    """The run as it went (`loop` replaces its loop, to compare with a fix)."""
    train_loader, val_loader = regression_loaders(seed)
    model = regression_mlp(seed).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    evidence, _ = record_run("Mystery run 1", loop, evaluate_regression, model, train_loader, val_loader,
                             optimizer, epochs, loss_fn=nn.MSELoss())
    return evidence
