"""Updates judged by their effect: scaled gradients, clipping, schedulers, updates that are
not the given optimizer's, and graphs cut before the loss so no gradient reaches the weights.
"""
import torch
import torch.nn.functional as F
from torch.nn.utils import clip_grad_norm_, clip_grad_value_

from . import case

LOOP, EPOCH, ACCUM, FIT = "train_loop", "train_epoch", "train_epoch_accumulate", "fit"


# -- scaled-gradient: the loss multiplied, divided or summed before backward() -----------
@case(LOOP, "scaled-gradient")
def loss_divided_by_five_before_backward(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        (loss / 5).backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# Half the squared error, as some textbooks write it: every gradient is half the mean
# loss's, and the logged number is half the given loss function's value too.
@case(LOOP, "scaled-gradient", "wrong-loss-values")
def half_mean_squared_error(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    history = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = 0.5 * ((model(X) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return history


@case(EPOCH, "scaled-gradient")
def ten_times_the_loss_backward(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        (10 * loss).backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(EPOCH, "scaled-gradient")
def loss_divided_by_the_number_of_batches(model, loader, loss_fn, optimizer):
    model.train()
    n = len(loader)
    batch_losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        (loss / n).backward()  # "the epoch loss is the mean over batches"
        optimizer.step()
        batch_losses.append(loss.item())
    return sum(batch_losses) / n


# loss * batch size is the batch's summed loss: the returned number (sum over the dataset
# size) is the correct sample-weighted mean, but every gradient is batch-size times too big.
# (Both fixtures' training loaders have equal batches, so the factor is one constant.)
@case(EPOCH, "scaled-gradient")
def loss_times_batch_size(model, loader, loss_fn, optimizer):
    model.train()
    running = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb) * len(xb)
        loss.backward()
        optimizer.step()
        running += loss.item()
    return running / len(loader.dataset)


# Two bugs: reduction="sum" scales every gradient by the batch size, and the number
# logged is that sum too, so the returned mean of batch losses is batch-size times the mean
# of the real (mean-reduced) batch losses.
@case(EPOCH, "scaled-gradient", "wrong-loss-values")
def functional_sum_reduction_logged(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y, reduction="sum")
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(EPOCH, "scaled-gradient")
def functional_sum_reduction_divided_when_logged(model, loader, loss_fn, optimizer):
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        batch_loss = F.cross_entropy(model(x), y, reduction="sum")
        batch_loss.backward()
        optimizer.step()
        losses.append(batch_loss.item() / len(y))
    return sum(losses) / len(losses)


# -- over-clipped: clipping so tight the model cannot learn --------------------------------
@case(LOOP, "over-clipped")
def clips_the_norm_to_a_millionth(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        clip_grad_norm_(model.parameters(), 1e-6)
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(EPOCH, "over-clipped")
def clips_each_value_to_1e_8(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        clip_grad_value_(model.parameters(), clip_value=1e-8)
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(ACCUM, "over-clipped")
def clips_the_group_gradient_to_nothing(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    n, total = len(loader), 0.0
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        total += loss.item()
        if (i + 1) % accum_steps == 0 or i + 1 == n:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1e-7)
            optimizer.step()
            optimizer.zero_grad()
    return total / n


# -- clipping at sensible norms, LR schedulers: correct ------------------------------------
@case(LOOP)
def clips_at_norm_one(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(ACCUM)
def clips_the_group_at_norm_five(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    n, total = len(loader), 0.0
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        total += loss.item()
        if (i + 1) % accum_steps == 0 or i + 1 == n:
            clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            optimizer.zero_grad()
    return total / n


@case(LOOP)
def step_lr_every_two_epochs(model, loss_fn, optimizer, X, y, epochs):
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.1)
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = F.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses


@case(EPOCH)
def exponential_lr_per_batch(model, loader, loss_fn, optimizer):
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.8)
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total += loss.item()
    return total / len(loader)


@case(EPOCH)
def one_cycle_over_the_epoch(model, loader, loss_fn, optimizer):
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.2, total_steps=len(loader))
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


@case(FIT)
def one_cycle_over_the_whole_fit(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=0.05, epochs=epochs, steps_per_epoch=len(train_loader))
    history = {"train_loss": [], "val_loss": [], "val_acc": [], "lr": []}
    for _ in range(epochs):
        model.train()
        total = 0.0
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            total += loss.item()
        history["train_loss"].append(total / len(train_loader))
        history["lr"].append(scheduler.get_last_lr()[0])
        model.eval()
        with torch.no_grad():
            v, hits, n = 0.0, 0, 0
            for x, y in val_loader:
                out = model(x)
                v += loss_fn(out, y).item() * len(y)
                hits += (out.argmax(1) == y).sum().item()
                n += len(y)
        history["val_loss"].append(v / n)
        history["val_acc"].append(hits / n)
    return history


# -- foreign-update: weights changed by something other than the given optimizer ----------
# The given optimizer never steps, but the weights do change: foreign-update, not
# missing-step (whose message would say the weights never changed).
@case(LOOP, "foreign-update")
def builds_its_own_sgd(model, loss_fn, optimizer, X, y, epochs):
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    model.train()
    losses = []
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@case(EPOCH, "foreign-update")
def replaces_the_optimizer_with_adam(model, loader, loss_fn, optimizer):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(FIT, "foreign-update")
def fit_builds_a_momentum_optimizer(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    sgd = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        total = 0.0
        for x, y in train_loader:
            sgd.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            sgd.step()
            total += loss.item()
        history["train_loss"].append(total / len(train_loader))
        model.eval()
        with torch.no_grad():
            v, hits, n = 0.0, 0, 0
            for x, y in val_loader:
                out = model(x)
                v += loss_fn(out, y).item()
                hits += (out.argmax(1) == y).sum().item()
                n += len(y)
        history["val_loss"].append(v / len(val_loader))
        history["val_acc"].append(hits / n)
    return history


@case(LOOP, "foreign-update")
def sgd_step_by_hand(model, loss_fn, optimizer, X, y, epochs):
    lr = 0.01
    model.train()
    losses = []
    for _ in range(epochs):
        model.zero_grad()
        loss = F.mse_loss(model(X), y)
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        losses.append(loss.item())
    return losses


# The given optimizer steps correctly, then a hand-written update moves the weights again.
@case(EPOCH, "foreign-update")
def optimizer_step_then_a_manual_one(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.01 * p.grad
        total += loss.item()
    return total / len(loader)


@case(EPOCH, "foreign-update")
def data_add_in_place(model, loader, loss_fn, optimizer):
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        for param in model.parameters():
            param.data.add_(param.grad, alpha=-0.05)
        losses.append(loss.item())
    return sum(losses) / len(losses)


# Accumulation scaled and timed right, but each group's update is written by hand.
@case(ACCUM, "foreign-update")
def accumulates_then_updates_by_hand(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    model.zero_grad()
    total, n = 0.0, len(loader)
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        total += loss.item()
        if (i + 1) % accum_steps == 0 or i + 1 == n:
            with torch.no_grad():
                for p in model.parameters():
                    p.sub_(0.02 * p.grad)
            model.zero_grad()
    return total / n


# -- graph-cut: no gradient reaches the weights, or only some of them ---------------------
# `.detach()` cuts the prediction off the model; requires_grad_() only silences the error.
@case(LOOP, "graph-cut")
def detached_prediction_made_to_require_grad(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        pred = model(X).detach()
        loss = F.mse_loss(pred, y)
        loss.requires_grad_()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# backward() raises "element 0 of tensors does not require grad and does not have a
# grad_fn": the cause is the forward under no_grad, a graph cut, not a generic error.
@case(EPOCH, "graph-cut")
def forward_under_no_grad(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        with torch.no_grad():
            out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(LOOP, "graph-cut")
def forward_under_inference_mode(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        with torch.inference_mode():
            pred = model(X)
        loss = ((pred - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(EPOCH, "graph-cut")
def outputs_through_data_with_requires_grad(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x).data, y)
        loss.requires_grad = True
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


# Partial cuts: the first Linear layer never gets a gradient, the layers after the cut do.
# The fixture model is an nn.Sequential whose first and last layers are Linear (public and
# hidden fixtures differ in the layers between), so indexing works on both.
@case(LOOP, "graph-cut")
def first_layer_detached(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        h = model[0](X).detach()
        pred = model[1:](h)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(EPOCH, "graph-cut")
def features_detached_before_the_head(model, loader, loss_fn, optimizer):
    model.train()
    body, head = model[:-1], model[-1]
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        features = body(x).detach()  # "the features are fixed, only the head learns"
        loss = F.cross_entropy(head(features), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)
