"""The open case: a run with no options. The digits, the small MLP, plain SGD under a one-cycle
learning-rate schedule (`OneCycleLR`, up to 1.0 and down again over the run), five epochs.

`train_epoch` is the run's loop; `run()` shows how the run used it, epoch by epoch.
"""
import torch

from course_helpers.classifier import reference_evaluate
from course_helpers.mysteries.data import digit_loaders, digits_mlp, model_device
from course_helpers.mysteries.evidence import Evidence, record_run

MAX_LR = 1.0


def train_epoch(model, loader, loss_fn, optimizer):
    """One pass over the loader, one update per batch; returns the mean batch loss."""
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
    return sum(losses) / len(losses)


def run(seed: int = 0, epochs: int = 5, device="cpu", loop=None) -> Evidence:
    """The run as it went. `loop(model, loader, loss_fn, optimizer, scheduler)`, when given, trains each
    epoch instead (the schedule then moves only where `loop` moves it), to compare with a fix."""
    train_loader, val_loader = digit_loaders(seed)
    model = digits_mlp(seed).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=MAX_LR)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=MAX_LR, epochs=epochs,
                                                    steps_per_epoch=len(train_loader), cycle_momentum=False)

    def one_epoch(model, loader, loss_fn, optimizer):
        if loop is not None:
            return loop(model, loader, loss_fn, optimizer, scheduler)
        mean_loss = train_epoch(model, loader, loss_fn, optimizer)
        scheduler.step()
        return mean_loss

    evidence, _ = record_run("The open case", one_epoch, reference_evaluate, model, train_loader, val_loader,
                             optimizer, epochs, log_lr=True)
    return evidence
