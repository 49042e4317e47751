"""Epoch boundaries: a per-epoch function is called twice in a row, as `fit` calls it.

Buggy functions leave something behind that spoils the next call: gradients still in
`.grad` from the last step, a running history kept in a default argument or a module's
global, a batch counter that carries over, an iterator kept on the loader. Correct ones
clear at the start, at the end, or both, and restore what they change.
"""
import torch

from . import case

EPOCH, ACCUM, EVAL = "train_epoch", "train_epoch_accumulate", "evaluate"

_RUNNING = {"loss": 0.0, "right": 0}
_BATCHES_SEEN = [0]


# -- gradients-left-behind -----------------------------------------------------------------------
@case(ACCUM, "gradients-left-behind")
def final_step_without_a_clear(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    losses = []
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        losses.append(loss.item())
        if (i + 1) % accum_steps == 0:
            optimizer.step()
            optimizer.zero_grad()
    if len(loader) % accum_steps:
        optimizer.step()  # the leftover group, but its gradients stay in .grad
    return sum(losses) / len(losses)


@case(EPOCH, "gradients-left-behind")
def clears_after_backward_except_on_the_last_batch(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        if i < len(loader) - 1:  # "no need to clear after the last batch"
            optimizer.zero_grad()
        total += loss.item()
    return total / len(loader)


# -- state kept from one call to the next -------------------------------------------------------
@case(EPOCH, "wrong-loss-values")
def history_in_a_default_argument(model, loader, loss_fn, optimizer, history=[]):  # noqa: B006
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return sum(history) / len(history)  # the second epoch averages both


@case(EVAL, "wrong-loss-values", "wrong-accuracy")
def totals_kept_in_a_global(model, loader, loss_fn):
    model.eval()
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            _RUNNING["loss"] += loss_fn(out, y).item() * len(y)
            _RUNNING["right"] += (out.argmax(1) == y).sum().item()
    n = len(loader.dataset)  # the totals were never reset: the second call counts both
    return _RUNNING["loss"] / n, _RUNNING["right"] / n


@case(ACCUM, "wrong-accumulation-cadence")
def batch_counter_carried_over(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    losses = []
    for i, (x, y) in enumerate(loader):
        _BATCHES_SEEN[0] += 1
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        losses.append(loss.item())
        if _BATCHES_SEEN[0] % accum_steps == 0 or i + 1 == len(loader):
            optimizer.step()
            optimizer.zero_grad()
    return sum(losses) / len(losses)


@case(EPOCH, "model-never-called")
def iterator_kept_on_the_loader(model, loader, loss_fn, optimizer):
    if not hasattr(loader, "batches"):
        loader.batches = iter(loader)  # "create the iterator once"
    model.train()
    total, n = 0.0, 0
    for x, y in loader.batches:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total, n = total + loss.item(), n + 1
    return total / max(n, 1)


# -- correct: clear at the start, at the end or both; restore what you change ---------------------
@case(EPOCH)
def clears_only_at_the_start_of_each_step(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(EPOCH)
def clears_only_after_each_step(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=False)
        total += loss.item()
    return total / len(loader)


@case(ACCUM)
def clears_once_at_the_start_and_after_every_step(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    losses = []
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        losses.append(loss.item())
        if (i + 1) % accum_steps == 0 or i + 1 == len(loader):
            optimizer.step()
            optimizer.zero_grad()
    optimizer.zero_grad()  # and once more at the end, to be sure
    return sum(losses) / len(losses)


@case(ACCUM)
def clears_at_the_start_of_the_epoch_only_after_full_groups(model, loader, loss_fn, optimizer, accum_steps):
    for p in model.parameters():
        p.grad = None  # whatever the last epoch left
    model.train()
    losses = []
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        losses.append(loss.item())
        if (i + 1) % accum_steps == 0:
            optimizer.step()
            optimizer.zero_grad()
    if len(loader) % accum_steps:
        optimizer.step()
    return sum(losses) / len(losses)


@case(EVAL)
def restores_the_mode_it_found(model, loader, loss_fn):
    was_training = model.training
    model.eval()
    total, right, seen = 0.0, 0, 0
    with torch.inference_mode():
        for x, y in loader:
            out = model(x)
            total += loss_fn(out, y).item() * len(y)
            right += (out.argmax(1) == y).sum().item()
            seen += len(y)
    model.train(was_training)
    return total / seen, right / seen
