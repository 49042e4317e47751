"""`model.forward(x)` called directly (no hooks fire for it): understood like `model(x)`."""
import torch

from . import case


@case("train_epoch")
def calls_forward_directly(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model.forward(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case("evaluate")
def evaluates_through_forward(model, loader, loss_fn):
    model.eval()
    total, right, seen = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            logits = model.forward(x)
            total += loss_fn(logits, y).item() * len(y)
            right += (logits.argmax(dim=1) == y).sum().item()
            seen += len(y)
    return total / seen, right / seen


@case("fit")
def fit_through_forward(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        losses = []
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model.forward(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            scored = [(model.forward(x), y) for x, y in val_loader]
        n = sum(len(y) for _, y in scored)
        history["train_loss"].append(sum(losses) / len(losses))
        history["val_loss"].append(sum(loss_fn(o, y).item() * len(y) for o, y in scored) / n)
        history["val_acc"].append(sum((o.argmax(1) == y).sum().item() for o, y in scored) / n)
    return history


@case("train_loop", "missing-zero-grad")
def forward_directly_without_zero_grad(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model.forward(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case("evaluate", "eval-mode-missing")
def forward_directly_in_training_mode(model, loader, loss_fn):
    total, right, seen = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            out = model.forward(x)
            total += loss_fn(out, y).item() * len(y)
            right += (out.argmax(1) == y).sum().item()
            seen += len(y)
    return total / seen, right / seen


@case("train_epoch", "train-mode-missing")
def forward_directly_without_train_mode(model, loader, loss_fn, optimizer):
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model.forward(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


@case("train_epoch_accumulate")
def accumulates_through_forward(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    running = []
    for i, (inputs, targets) in enumerate(loader, start=1):
        loss = loss_fn(model.forward(inputs), targets)
        (loss / accum_steps).backward()
        running.append(loss.item())
        if i % accum_steps == 0 or i == len(loader):
            optimizer.step()
            optimizer.zero_grad()
    return sum(running) / len(running)


@case("train_loop")
def full_batch_through_forward(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    history = []
    for _ in range(epochs):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model.forward(X), y)
        loss.backward()
        optimizer.step()
        history.append(float(loss))
    return history


@case("train_epoch_accumulate", "unscaled-accumulation")
def forward_directly_without_scaling(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    total = 0.0
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model.forward(x), y)
        loss.backward()
        total += loss.item()
        if (i + 1) % accum_steps == 0 or (i + 1) == len(loader):
            optimizer.step()
            optimizer.zero_grad()
    return total / len(loader)


@case("fit", "eval-mode-missing")
def fit_through_forward_validating_in_training_mode(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    model.train()
    for _ in range(epochs):
        seen = total = 0.0
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model.forward(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            seen += len(y)
        history["train_loss"].append(total / seen)
        with torch.no_grad():
            val_total = right = count = 0.0
            for x, y in val_loader:
                out = model.forward(x)
                val_total += loss_fn(out, y).item() * len(y)
                right += (out.argmax(dim=1) == y).sum().item()
                count += len(y)
        history["val_loss"].append(val_total / count)
        history["val_acc"].append(right / count)
    return history
