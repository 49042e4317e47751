"""Mystery: the loop never clears `.grad`, so every step adds to every earlier gradient.

`backward()` adds into `.grad`. Without `optimizer.zero_grad()` step n moves the
weights with the sum of n batches' gradients: the steps grow, the weights blow up, and
the loss ends in inf and then NaN. (A regression: its squared error grows as fast as
the weights do, so the blow-up shows within a few epochs.)
"""
import torch
from torch import nn

from course_helpers.mysteries.data import evaluate_regression, model_device, regression_loaders, regression_mlp
from course_helpers.mysteries.evidence import Evidence, record_run


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
    """The run as it went wrong (`loop` replaces the buggy loop, to compare with a fix)."""
    train_loader, val_loader = regression_loaders(seed)
    model = regression_mlp(seed).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    evidence, _ = record_run("Mystery run 1", loop, evaluate_regression, model, train_loader, val_loader,
                             optimizer, epochs, loss_fn=nn.MSELoss())
    return evidence
