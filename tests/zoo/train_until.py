"""train_until(model, loss_fn, optimizer, X, y, target_loss, max_epochs) -> list[float], as learners write it.

Correct shapes first (a `break` after the step or before it, a `while` whose condition
holds the target, a `return` inside the loop, `F.mse_loss`), then each way of stopping
at the wrong epoch, and loop bugs the stop must not be blamed for.
"""
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


# -- target-stop-wrong ------------------------------------------------------------------
@case(E, "target-stop-wrong")
def never_stops(model, loss_fn, optimizer, X, y, target_loss, max_epochs):
    """The target is never looked at: all max_epochs epochs run."""
    model.train()
    losses = []
    for _ in range(max_epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(E, "target-stop-wrong")
def stops_while_the_loss_is_high(model, loss_fn, optimizer, X, y, target_loss, max_epochs):
    """The comparison the wrong way round: stops after epoch 1."""
    model.train()
    losses = []
    for _ in range(max_epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if loss.item() > target_loss:
            break
    return losses


@case(E, "target-stop-wrong")
def waits_for_two_epochs_below(model, loss_fn, optimizer, X, y, target_loss, max_epochs):
    """Stops only after two epochs in a row below the target: one epoch too late."""
    model.train()
    losses = []
    for _ in range(max_epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if len(losses) >= 2 and max(losses[-2:]) < target_loss:
            break
    return losses


# -- the stop right, something else wrong -------------------------------------------------
@case(E, "wrong-loss-values")
def stopping_epoch_left_out(model, loss_fn, optimizer, X, y, target_loss, max_epochs):
    """Breaks before appending: the loss that reached the target is missing from the list."""
    model.train()
    losses = []
    for _ in range(max_epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        if loss.item() < target_loss:
            break
        losses.append(loss.item())
    return losses


@case(E, "missing-zero-grad")
def no_zero_grad(model, loss_fn, optimizer, X, y, target_loss, max_epochs):
    """The gradients pile up; the stop is judged on this run's own losses, so only the pile-up is named."""
    model.train()
    losses = []
    for _ in range(max_epochs):
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if losses[-1] < target_loss:
            break
    return losses


@case(E, "train-mode-missing")
def never_calls_train(model, loss_fn, optimizer, X, y, target_loss, max_epochs):
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
