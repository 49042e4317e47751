"""Correct code in the shapes learners write it, one file for the notebook's flow: a step
helper, train_epoch and evaluate defined once and reused by fit, one helper for both
phases with `torch.set_grad_enabled(training)`, mixed precision on the CPU (bfloat16
autocast, with and without a GradScaler), tqdm, enumerate, while loops over iterators.
Every function here must pass on public and hidden fixtures.
"""
import torch
import torch.nn.functional as F
from tqdm import tqdm, trange

from . import case


def train_step(model, xb, yb, loss_fn, optimizer):
    """One update on one batch; returns the batch loss as a float."""
    optimizer.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimizer.step()
    return loss.item()


def run_epoch(model, loader, loss_fn, optimizer=None):
    """Train when given an optimizer, otherwise measure: (mean batch loss, accuracy)."""
    training = optimizer is not None
    model.train(training)
    total, hits, seen = 0.0, 0, 0
    with torch.set_grad_enabled(training):
        for xb, yb in loader:
            logits = model(xb)
            loss = loss_fn(logits, yb)
            if training:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            total += loss.item()
            hits += (logits.argmax(dim=1) == yb).sum().item()
            seen += len(yb)
    return total / len(loader), hits / seen


# -- the notebook's own helpers, each graded on its own and reused by fit --------------------
@case("train_epoch")
def train_epoch(model, loader, loss_fn, optimizer):
    model.train()
    weighted, examples = 0.0, 0
    for xb, yb in tqdm(loader, desc="train", leave=False):
        weighted += train_step(model, xb, yb, loss_fn, optimizer) * len(xb)
        examples += len(xb)
    return weighted / examples


@case("evaluate")
def evaluate(model, loader, loss_fn):
    model.eval()
    loss_total, correct = 0.0, 0
    with torch.no_grad():
        for xb, yb in loader:
            logits = model(xb)
            loss_total += loss_fn(logits, yb).item() * len(xb)
            correct += (logits.argmax(1) == yb).sum().item()
    n = len(loader.dataset)
    return loss_total / n, correct / n


@case("fit")
def fit_with_my_train_epoch_and_evaluate(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for epoch in trange(epochs, desc="epochs"):
        train_loss = train_epoch(model, train_loader, loss_fn, optimizer)
        val_loss, val_acc = evaluate(model, val_loader, loss_fn)
        history["train_loss"].append(train_loss)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


# -- one helper for both phases ------------------------------------------------------------
@case("fit")
def fit_with_one_helper_for_both_phases(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        train_loss, _ = run_epoch(model, train_loader, loss_fn, optimizer)
        val_loss, val_acc = run_epoch(model, val_loader, loss_fn)
        history["train_loss"].append(train_loss)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


@case("evaluate")
def evaluate_through_the_shared_helper(model, loader, loss_fn):
    return run_epoch(model, loader, loss_fn)


@case("train_epoch")
def train_epoch_through_the_shared_helper(model, loader, loss_fn, optimizer):
    mean_loss, _ = run_epoch(model, loader, loss_fn, optimizer)
    return mean_loss


# -- mixed precision on the CPU: bfloat16 autocast, with and without a GradScaler ------------
# GradScaler("cpu") multiplies the loss by its scale before backward() and divides the
# gradients back before the optimizer's step: the update is the optimizer's own.
@case("train_epoch")
def autocast_with_a_grad_scaler(model, loader, loss_fn, optimizer):
    scaler = torch.amp.GradScaler("cpu")
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(x)
            loss = loss_fn(logits, y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        total += loss.item()
    return total / len(loader)


@case("train_loop")
def autocast_without_a_scaler(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case("train_epoch_accumulate")
def autocast_scaler_and_accumulation(model, loader, loss_fn, optimizer, accum_steps):
    scaler = torch.amp.GradScaler("cpu")
    model.train()
    optimizer.zero_grad()
    total, n = 0.0, len(loader)
    for i, (x, y) in enumerate(loader):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = F.cross_entropy(model(x), y)
        scaler.scale(loss / accum_steps).backward()
        total += loss.item()
        if (i + 1) % accum_steps == 0 or i + 1 == n:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad()
    return total / n


@case("evaluate")
def autocast_in_evaluation(model, loader, loss_fn):
    model.eval()
    losses, hits, seen = [], 0, 0
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        for x, y in loader:
            logits = model(x)
            losses.append(loss_fn(logits, y).item())
            hits += (logits.argmax(dim=1) == y).sum().item()
            seen += len(y)
    return sum(losses) / len(losses), hits / seen


@case("fit")
def fit_with_autocast_and_a_scaler(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    scaler = torch.amp.GradScaler("cpu")
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        running = 0.0
        for x, y in train_loader:
            optimizer.zero_grad()
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = loss_fn(model(x), y)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            running += loss.item()
        history["train_loss"].append(running / len(train_loader))
        val_loss, val_acc = autocast_in_evaluation(model, val_loader, loss_fn)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


# -- loops written with iterators ----------------------------------------------------------
@case("train_epoch")
def while_over_an_iterator_weighted(model, loader, loss_fn, optimizer):
    model.train()
    batches = iter(loader)
    loss_sum, seen = 0.0, 0
    while (batch := next(batches, None)) is not None:
        xb, yb = batch
        loss_sum += train_step(model, xb, yb, loss_fn, optimizer) * yb.shape[0]
        seen += yb.shape[0]
    return loss_sum / seen


@case("train_epoch_accumulate")
def enumerate_from_one_with_tqdm(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    total_batches = len(loader)
    losses = []
    for step, (xb, yb) in enumerate(tqdm(loader, total=total_batches), start=1):
        loss = loss_fn(model(xb), yb)
        losses.append(loss.item())
        (loss / accum_steps).backward()
        if step % accum_steps == 0 or step == total_batches:
            optimizer.step()
            optimizer.zero_grad(set_to_none=False)
    return sum(losses) / len(losses)


@case("evaluate")
def while_loop_counts_its_batches(model, loader, loss_fn):
    model.train(False)
    it = iter(loader)
    i, loss_sum, hits, seen = 0, 0.0, 0, 0
    with torch.no_grad():
        while True:
            try:
                xb, yb = next(it)
            except StopIteration:
                break
            out = model(xb)
            loss_sum += F.cross_entropy(out, yb).item()
            hits += (out.argmax(1) == yb).sum().item()
            seen += len(yb)
            i += 1
    return loss_sum / i, hits / seen


@case("train_loop")
def epochs_with_trange_and_a_while(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    progress = trange(epochs, leave=False)
    epoch = 0
    while epoch < epochs:
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        progress.update(1)
        epoch += 1
    progress.close()
    return losses
