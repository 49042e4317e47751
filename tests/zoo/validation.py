"""Validation coverage: evaluate must measure every batch of its loader; fit must validate
on val_loader, every epoch, after that epoch's training, and report what it measured then.

In the buggy functions below the returned numbers are honest means of what *was*
measured, so the coverage code is the only one: a bug is named once.
"""
import copy
import itertools

import torch

from . import case

EVAL, FIT = "evaluate", "fit"


def train_one_pass(model, loader, loss_fn, optimizer):
    model.train()
    losses = []
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def measure(model, loader, loss_fn):
    """(mean batch loss, accuracy) in eval mode without gradients, over every batch."""
    model.eval()
    loss_sum, hits, seen, batches = 0.0, 0, 0, 0
    with torch.no_grad():
        for xb, yb in loader:
            logits = model(xb)
            loss_sum += loss_fn(logits, yb).item()
            hits += (logits.argmax(dim=1) == yb).sum().item()
            seen += len(yb)
            batches += 1
    return loss_sum / batches, hits / seen


# -- evaluate: partial-validation ----------------------------------------------------------
@case(EVAL, "partial-validation")
def stops_after_the_first_batch(model, loader, loss_fn):
    model.eval()
    total, correct, count, batches = 0.0, 0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            total += loss_fn(out, y).item()
            correct += (out.argmax(dim=1) == y).sum().item()
            count += len(y)
            batches += 1
            break  # one batch is enough for a quick check
    return total / batches, correct / count


@case(EVAL, "partial-validation")
def every_other_batch(model, loader, loss_fn):
    model.eval()
    losses, hits, n = [], 0, 0
    with torch.no_grad():
        for i, (x, y) in enumerate(loader):
            if i % 2 == 1:
                continue
            logits = model(x)
            losses.append(loss_fn(logits, y).item())
            hits += int((logits.argmax(1) == y).sum())
            n += len(y)
    return sum(losses) / len(losses), hits / n


@case(EVAL, "partial-validation")
def islice_two_batches(model, loader, loss_fn):
    max_batches = 2
    model.eval()
    loss_sum, hits, seen = 0.0, 0, 0
    with torch.inference_mode():
        for x, y in itertools.islice(loader, max_batches):
            pred = model(x)
            loss_sum += loss_fn(pred, y).item() * len(y)
            hits += (pred.argmax(-1) == y).sum().item()
            seen += len(y)
    return loss_sum / seen, hits / seen


# -- fit: partial-validation ---------------------------------------------------------------
@case(FIT, "partial-validation")
def validates_on_one_batch(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        history["train_loss"].append(train_one_pass(model, train_loader, loss_fn, optimizer))
        model.eval()
        x_val, y_val = next(iter(val_loader))
        with torch.no_grad():
            out = model(x_val)
            history["val_loss"].append(loss_fn(out, y_val).item())
            history["val_acc"].append((out.argmax(1) == y_val).float().mean().item())
    return history


@case(FIT, "partial-validation")
def validates_on_the_first_two_batches(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        history["train_loss"].append(train_one_pass(model, train_loader, loss_fn, optimizer))
        model.eval()
        v, hits, n, batches = 0.0, 0, 0, 0
        with torch.no_grad():
            for i, (x, y) in enumerate(val_loader):
                if i >= 2:
                    break
                out = model(x)
                v += loss_fn(out, y).item()
                hits += (out.argmax(1) == y).sum().item()
                n += len(y)
                batches += 1
        history["val_loss"].append(v / batches)
        history["val_acc"].append(hits / n)
    return history


# -- fit: wrong-validation-data ------------------------------------------------------------
# The model never runs on val_loader. The validation numbers are honest measurements of
# the training data, so wrong-validation-data is the one bug, not wrong-loss-values too.
@case(FIT, "wrong-validation-data")
def validates_on_the_training_loader(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        history["train_loss"].append(train_one_pass(model, train_loader, loss_fn, optimizer))
        val_loss, val_acc = measure(model, train_loader, loss_fn)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


@case(FIT, "wrong-validation-data")
def copy_pasted_loader_in_the_validation_loop(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    train_losses, val_losses, val_accs = [], [], []
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for inputs, targets in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
            total += loss.item()
        train_losses.append(total / len(train_loader))
        model.eval()
        with torch.no_grad():
            v, hits, n = 0.0, 0, 0
            for inputs, targets in train_loader:
                logits = model(inputs)
                v += loss_fn(logits, targets).item() * len(targets)
                hits += (logits.argmax(dim=1) == targets).sum().item()
                n += len(targets)
        val_losses.append(v / n)
        val_accs.append(hits / n)
    return {"train_loss": train_losses, "val_loss": val_losses, "val_acc": val_accs}


# No validation at all: the "validation" numbers are the training pass's own loss and
# accuracy (honest numbers of the training data). The one bug: val_loader never used.
@case(FIT, "wrong-validation-data")
def reports_the_training_pass_as_validation(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        loss_sum, hits, seen = 0.0, 0, 0
        for x, y in train_loader:
            optimizer.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item()
            hits += (out.argmax(1) == y).sum().item()
            seen += len(y)
        epoch_loss = loss_sum / len(train_loader)
        history["train_loss"].append(epoch_loss)
        history["val_loss"].append(epoch_loss)
        history["val_acc"].append(hits / seen)
    return history


# -- fit: stale-validation -----------------------------------------------------------------
@case(FIT, "stale-validation")
def validates_once_after_training(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    train_losses = [train_one_pass(model, train_loader, loss_fn, optimizer) for _ in range(epochs)]
    val_loss, val_acc = measure(model, val_loader, loss_fn)
    return {"train_loss": train_losses, "val_loss": [val_loss] * epochs, "val_acc": [val_acc] * epochs}


# Each validation runs before its epoch's training: epoch 1 reports the untrained model,
# epoch k the model after epoch k-1, and the last epoch's training is never validated.
@case(FIT, "stale-validation")
def validates_before_each_epoch(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for epoch in range(epochs):
        val_loss, val_acc = measure(model, val_loader, loss_fn)
        train_loss = train_one_pass(model, train_loader, loss_fn, optimizer)
        history["train_loss"].append(train_loss)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        print(f"epoch {epoch + 1}: train {train_loss:.3f}  val {val_loss:.3f}")
    return history


# Validates on even epochs only and repeats the last measurement on the others.
@case(FIT, "stale-validation")
def validates_every_second_epoch(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    last = None
    for epoch in range(epochs):
        history["train_loss"].append(train_one_pass(model, train_loader, loss_fn, optimizer))
        if epoch % 2 == 0:
            last = measure(model, val_loader, loss_fn)
        history["val_loss"].append(last[0])
        history["val_acc"].append(last[1])
    return history


# -- fit: correct shapes -------------------------------------------------------------------
# A baseline validation before training is allowed: history still has one entry per
# epoch, each measured after that epoch's training.
@case(FIT)
def baseline_then_every_epoch(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    initial_loss, initial_acc = measure(model, val_loader, loss_fn)
    history = {"train_loss": [], "val_loss": [], "val_acc": [],
               "initial_val_loss": initial_loss, "initial_val_acc": initial_acc}
    for _ in range(epochs):
        history["train_loss"].append(train_one_pass(model, train_loader, loss_fn, optimizer))
        val_loss, val_acc = measure(model, val_loader, loss_fn)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


# The training loss is re-measured after each epoch's training, over the training data in
# eval mode without gradients: a measurement pass over training data is allowed.
@case(FIT)
def remeasures_the_training_loss(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": [], "train_acc": []}
    for _ in range(epochs):
        train_one_pass(model, train_loader, loss_fn, optimizer)
        train_loss, train_acc = measure(model, train_loader, loss_fn)
        val_loss, val_acc = measure(model, val_loader, loss_fn)
        history["train_loss"].append(train_loss)
        history["train_acc"].append(train_acc)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


@case(FIT)
def restores_the_best_weights(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    best_loss, best_state = float("inf"), copy.deepcopy(model.state_dict())
    for epoch in range(epochs):
        history["train_loss"].append(train_one_pass(model, train_loader, loss_fn, optimizer))
        val_loss, val_acc = measure(model, val_loader, loss_fn)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        if val_loss < best_loss:
            best_loss = val_loss
            best_state = {name: t.detach().clone() for name, t in model.state_dict().items()}
    model.load_state_dict(best_state)
    return history
