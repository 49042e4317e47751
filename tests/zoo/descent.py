"""Every step goes downhill: a step of the given optimizer on the given loss's own gradient.

Buggy loops climb (the loss negated, a negative learning rate, `maximize` switched on, the
gradient negated), leave part of the model frozen although the optimizer holds it, or make
updates the contract cannot explain (another loss, noise on the gradients, weight decay
changed by hand). Correct loops that look suspicious change the learning rate by hand as a
warm-up, clip the gradient norm tightly, or rescale a loss back before stepping.
"""
import torch
import torch.nn.functional as F

from . import case

LOOP, EPOCH, ACCUM, FIT = "train_loop", "train_epoch", "train_epoch_accumulate", "fit"


def _validate(model, val_loader, loss_fn):
    model.eval()
    total, right, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in val_loader:
            out = model(x)
            total += loss_fn(out, y).item() * len(y)
            right += (out.argmax(1) == y).sum().item()
            n += len(y)
    return total / n, right / n


# -- update-climbs ---------------------------------------------------------------------------
@case(LOOP, "update-climbs")
def backward_on_the_negated_loss(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        (-loss).backward()  # "the step subtracts, so negate first"
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(EPOCH, "update-climbs")
def learning_rate_made_negative(model, loader, loss_fn, optimizer):
    for group in optimizer.param_groups:
        group["lr"] = -abs(group["lr"])  # "gradient *descent*: go against the gradient"
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(FIT, "update-climbs")
def maximize_switched_on(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    optimizer.param_groups[0]["maximize"] = True  # "maximize the accuracy"
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        losses = []
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        val_loss, val_acc = _validate(model, val_loader, loss_fn)
        history["train_loss"].append(sum(losses) / len(losses))
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


@case(ACCUM, "update-climbs")
def negates_the_gradients_before_stepping(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    losses = []
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        losses.append(loss.item())
        if (i + 1) % accum_steps == 0 or i + 1 == len(loader):
            for p in model.parameters():
                p.grad.neg_()
            optimizer.step()
            optimizer.zero_grad()
    return sum(losses) / len(losses)


# -- frozen-parameters -------------------------------------------------------------------------
@case(EPOCH, "frozen-parameters")
def first_layer_requires_grad_off(model, loader, loss_fn, optimizer):
    first = next(model.children())
    for p in first.parameters():
        p.requires_grad_(False)  # "fine-tune the head only"
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


@case(FIT, "frozen-parameters")
def clears_the_output_bias_gradient(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    last = list(model.children())[-1]
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        losses = []
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            last.bias.grad = None  # meant to "reset the bias", cleared its gradient instead
            optimizer.step()
            losses.append(loss.item())
        val_loss, val_acc = _validate(model, val_loader, loss_fn)
        history["train_loss"].append(sum(losses) / len(losses))
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


# zero_grad() now clears only what the optimizer holds: the first layer's gradients pile up too.
@case(LOOP, "frozen-parameters", "missing-zero-grad")
def optimizer_cut_down_to_the_last_layer(model, loss_fn, optimizer, X, y, epochs):
    last = list(model.children())[-1]
    optimizer.param_groups[0]["params"] = list(last.parameters())
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(ACCUM, "frozen-parameters")
def clips_the_first_layer_to_zero(model, loader, loss_fn, optimizer, accum_steps):
    first = next(model.children())
    model.train()
    optimizer.zero_grad()
    losses = []
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        losses.append(loss.item())
        if (i + 1) % accum_steps == 0 or i + 1 == len(loader):
            torch.nn.utils.clip_grad_value_(first.parameters(), 0.0)  # meant 1.0
            optimizer.step()
            optimizer.zero_grad()
    return sum(losses) / len(losses)


# -- unexplained-update: no named bug fits, the run says what it measured -------------------------
@case(EPOCH, "unexplained-update", "wrong-loss-values")
def squared_error_on_one_hot_labels(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        out = model(x)
        loss = F.mse_loss(out.softmax(dim=1), F.one_hot(y, out.shape[1]).float())
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(EPOCH, "unexplained-update")
def weight_decay_switched_on_by_hand(model, loader, loss_fn, optimizer):
    optimizer.param_groups[0]["weight_decay"] = 0.5
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(FIT, "unexplained-update")
def noise_added_to_every_gradient(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        losses = []
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            for p in model.parameters():
                p.grad += 0.5 * p.grad.norm() * torch.randn_like(p.grad)  # "noise helps escape minima"
            optimizer.step()
            losses.append(loss.item())
        val_loss, val_acc = _validate(model, val_loader, loss_fn)
        history["train_loss"].append(sum(losses) / len(losses))
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


@case(LOOP, "unexplained-update", "wrong-loss-values")
def absolute_error_instead_of_the_given_loss(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = F.l1_loss(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# -- correct, though they look suspicious ------------------------------------------------------
@case(EPOCH)
def warms_the_learning_rate_up_by_hand(model, loader, loss_fn, optimizer):
    base = [g["lr"] for g in optimizer.param_groups]
    model.train()
    total = 0.0
    for i, (x, y) in enumerate(loader):
        for group, lr in zip(optimizer.param_groups, base):
            group["lr"] = lr * min(1.0, (i + 1) / 4)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    for group, lr in zip(optimizer.param_groups, base):
        group["lr"] = lr
    return total / len(loader)


@case(FIT)
def one_cycle_schedule_stepped_every_batch(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=optimizer.param_groups[0]["lr"],
                                                    epochs=epochs, steps_per_epoch=len(train_loader))
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        losses = []
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
        val_loss, val_acc = _validate(model, val_loader, loss_fn)
        history["train_loss"].append(sum(losses) / len(losses))
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


@case(FIT)
def plateau_schedule_stepped_on_the_validation_loss(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=0)
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        losses = []
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        val_loss, val_acc = _validate(model, val_loader, loss_fn)
        scheduler.step(val_loss)
        history["train_loss"].append(sum(losses) / len(losses))
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


@case(LOOP)
def clips_the_norm_tightly(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(ACCUM)
def scaled_loss_unscaled_before_the_step(model, loader, loss_fn, optimizer, accum_steps):
    """A hand-made loss scaler: backward on 1024 × the loss, gradients divided back before stepping."""
    model.train()
    optimizer.zero_grad()
    losses = []
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        (loss * 1024 / accum_steps).backward()
        losses.append(loss.item())
        if (i + 1) % accum_steps == 0 or i + 1 == len(loader):
            for p in model.parameters():
                p.grad /= 1024
            optimizer.step()
            optimizer.zero_grad()
    return sum(losses) / len(losses)
