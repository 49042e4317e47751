"""train_until(model, loss_fn, optimizer, X, y, target_loss, max_epochs) -> list[float], as learners write it.

Correct shapes first (a `break` after the step or before it, a `while` whose condition
holds the target, a `return` inside the loop, `F.mse_loss`), then each way of stopping
at the wrong epoch, and loop bugs the stop must not be blamed for; last, train's whole
contract (all of X each epoch, each row with its own target, a descent step), with a
reordering of the rows that keeps the pairs.
"""
import torch
import torch.nn.functional as F

from . import case

E = "train_until"


# -- correct shapes ---------------------------------------------------------------------
@case(E)
def break_after_the_step(model, loss_fn, optimizer, X, y, target_loss, max_epochs):
    model.train()
    losses = []
    for epoch in range(max_epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if loss.item() < target_loss:
            break
    return losses


@case(E)
def break_before_the_step(model, loss_fn, optimizer, X, y, target_loss, max_epochs):
    """Low enough already: no need for this epoch's update."""
    model.train()
    history = []
    for _ in range(max_epochs):
        optimizer.zero_grad()
        loss = F.mse_loss(model(X), y)
        history.append(float(loss))
        if history[-1] < target_loss:
            break
        loss.backward()
        optimizer.step()
    return history


@case(E)
def while_the_loss_is_too_high(model, loss_fn, optimizer, X, y, target_loss, max_epochs):
    model.train()
    losses = []
    while len(losses) < max_epochs and (not losses or losses[-1] >= target_loss):
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.detach().item())
    return losses


@case(E)
def return_from_inside_the_loop(model, loss_fn, optimizer, X, y, target_loss, max_epochs):
    model.train()
    out = []
    for epoch in range(1, max_epochs + 1):
        for p in model.parameters():
            p.grad = None
        loss = ((model(X) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        out.append(loss.item())
        if out[-1] < target_loss:
            return out
    return out


@case(E)
def looks_at_the_top_of_the_next_epoch(model, loss_fn, optimizer, X, y, target_loss, max_epochs):
    """Breaks before the next epoch does any work: the same stop."""
    model.train()
    losses = []
    for _ in range(max_epochs):
        if losses and losses[-1] < target_loss:
            break
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# -- the bugs, switched on one at a time ------------------------------------------------------
def until(name, *, stop=lambda losses, target: losses[-1] < target, clear=True, train_mode=True,
          log_the_stopping_epoch=True):
    """A train_until whose stop rule is `stop(losses so far, target_loss)`, with the chosen bugs switched on."""
    def train_until(model, loss_fn, optimizer, X, y, target_loss, max_epochs):
        if train_mode:
            model.train()
        losses = []
        for _ in range(max_epochs):
            if clear:
                optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            if stop([*losses, loss.item()], target_loss):
                if log_the_stopping_epoch:
                    losses.append(loss.item())
                break
            losses.append(loss.item())
        return losses
    train_until.__name__ = train_until.__qualname__ = name
    return train_until


# target-stop-wrong: the target never looked at, the comparison the wrong way round (stops after
# epoch 1), two epochs in a row below the target asked for (one epoch too late)
case(E, "target-stop-wrong")(until("never_stops", stop=lambda losses, target: False))
case(E, "target-stop-wrong")(until("stops_while_the_loss_is_high", stop=lambda losses, target: losses[-1] > target))
case(E, "target-stop-wrong")(until("waits_for_two_epochs_below",
                                   stop=lambda losses, target: len(losses) >= 2 and max(losses[-2:]) < target))

# the stop right, something else wrong: the stopping epoch's loss left out of the list; the gradients
# piling up (the stop is judged on this run's own losses, so only the pile-up is named); no model.train()
case(E, "wrong-loss-values")(until("stopping_epoch_left_out", log_the_stopping_epoch=False))
case(E, "missing-zero-grad")(until("no_zero_grad", clear=False))
case(E, "train-mode-missing")(until("never_calls_train", train_mode=False))


# -- the whole contract, as train's (autograder/exercises/contract.py) -------------------------------
@case(E)
def new_row_order_every_epoch(model, loss_fn, optimizer, X, y, target_loss, max_epochs):
    """Rows reordered together with their targets: still every row once, each with its own target."""
    model.train()
    losses = []
    for epoch in range(max_epochs):
        order = torch.randperm(len(X), generator=torch.Generator().manual_seed(epoch))
        optimizer.zero_grad()
        loss = loss_fn(model(X[order]), y[order])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if losses[-1] < target_loss:
            break
    return losses


@case(E, "skipped-training-data")
def every_other_row(model, loss_fn, optimizer, X, y, target_loss, max_epochs):
    """Meant as "half the rows, twice as fast": the other half is never seen."""
    model.train()
    losses = []
    while len(losses) < max_epochs:
        optimizer.zero_grad()
        loss = loss_fn(model(X[::2]), y[::2])
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
        if losses[-1] < target_loss:
            break
    return losses


@case(E, "labels-mismatched")
def targets_read_backwards(model, loss_fn, optimizer, X, y, target_loss, max_epochs):
    model.train()
    losses = []
    targets = y.flip(0)  # meant to reverse the data set: only the targets were turned round
    for _ in range(max_epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if losses[-1] < target_loss:
            break
    return losses


@case(E, "update-climbs")
def maximize_switched_on(model, loss_fn, optimizer, X, y, target_loss, max_epochs):
    """Copied from a script that maximised a reward: the optimizer now climbs the loss."""
    for group in optimizer.param_groups:
        group["maximize"] = True
    model.train()
    losses = []
    for _ in range(max_epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if losses[-1] < target_loss:
            break
    return losses
