"""Functions that raise, hang, never call the model, or leave torch's global settings changed."""
import itertools

import torch

from . import case

QUICK = 0.5  # seconds: hanging functions are stopped this soon in the zoo


# -- raises -----------------------------------------------------------------------------
@case("train_loop", "raises")
def untouched_stub(model, loss_fn, optimizer, X, y, epochs):
    raise NotImplementedError()


@case("train_epoch", "raises")
def typo_in_a_name(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), Y)  # noqa: F821 - the learner's typo
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case("evaluate", "raises")
def wrong_argmax_dimension(model, loader, loss_fn):
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            total += loss_fn(out, y).item()
            correct += (out.argmax(dim=0) == y).sum().item()
            count += len(y)
    return total / len(loader), correct / count


@case("fit", "raises")
def exits_the_interpreter(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    raise SystemExit("done")


# -- timeout ----------------------------------------------------------------------------
@case("train_loop", "timeout", time_limit=QUICK)
def while_without_increment(model, loss_fn, optimizer, X, y, epochs):
    losses, epoch = [], 0
    while epoch < epochs:
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case("train_epoch", "timeout", time_limit=QUICK)
def cycles_the_loader_forever(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in itertools.cycle(loader):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case("evaluate", "timeout", time_limit=QUICK)
def swallows_every_error_and_spins(model, loader, loss_fn):
    while True:
        try:
            pass
        except Exception:
            continue


# -- global-state-changed ---------------------------------------------------------------
@case("evaluate", "global-state-changed")
def turns_autograd_off_for_good(model, loader, loss_fn):
    model.eval()
    torch.set_grad_enabled(False)
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        out = model(x)
        total += loss_fn(out, y).item()
        correct += (out.argmax(dim=1) == y).sum().item()
        count += len(y)
    return total / len(loader), correct / count


@case("train_loop", "global-state-changed")
def changes_the_default_dtype(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    torch.set_default_dtype(torch.float64)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case("train_epoch", "global-state-changed")
def leaves_a_global_hook(model, loader, loss_fn, optimizer):
    torch.nn.modules.module.register_module_forward_hook(lambda module, args, output: None)
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


# -- model-never-called: the function returns something without ever running the model ---
@case("train_loop", "model-never-called")
def placeholder_losses(model, loss_fn, optimizer, X, y, epochs):
    return [0.0] * epochs


@case("train_epoch", "model-never-called")
def loop_skeleton_without_body(model, loader, loss_fn, optimizer):
    model.train()
    batches = 0
    for xb, yb in loader:
        optimizer.zero_grad()
        batches += 1
    return 0.0 / max(batches, 1)


@case("train_epoch_accumulate", "model-never-called")
def returns_an_argument(model, loader, loss_fn, optimizer, accum_steps):
    return float(accum_steps)


@case("evaluate", "model-never-called")
def counts_labels_only(model, loader, loss_fn):
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for _, yb in loader:
            total += len(yb)
    return 0.0, correct / total


@case("fit", "model-never-called")
def history_without_training(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        model.eval()
        for key in history:
            history[key].append(0.0)
    return history
