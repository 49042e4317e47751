"""Schedulers at their own cadence inside fit, as learners write them: all correct.

`OneCycleLR` is stepped after every batch (its `total_steps` counts batches), and
`ReduceLROnPlateau.step(val_loss)` after every validation, with the number it watches.
The rate then changes between steps in a way no constant learning rate explains, so these
cases hold the inspector to judging each step with the rate that step used.
"""
import torch

from . import case
from .fit import _validate


@case("fit")
def one_cycle_stepped_every_batch(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=10 * optimizer.param_groups[0]["lr"],
                                                    total_steps=epochs * len(train_loader))
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        losses = []
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            scheduler.step()  # per batch: OneCycleLR's schedule is counted in steps
            losses.append(loss.item())
        val_loss, val_acc = _validate(model, val_loader, loss_fn)
        history["train_loss"].append(sum(losses) / len(losses))
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


@case("fit")
def plateau_stepped_with_the_validation_loss(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=0, threshold=1.0)
    train_losses, val_losses, val_accs = [], [], []
    for epoch in range(epochs):
        model.train()
        total, seen = 0.0, 0
        for inputs, targets in train_loader:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(targets)
            seen += len(targets)
        val_loss, val_acc = _validate(model, val_loader, loss_fn)
        scheduler.step(val_loss)  # the metric it watches; threshold=1.0 makes every epoch a plateau
        train_losses.append(total / seen)
        val_losses.append(val_loss)
        val_accs.append(val_acc)
    return {"train_loss": train_losses, "val_loss": val_losses, "val_acc": val_accs}
