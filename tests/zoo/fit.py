"""fit(model, train_loader, val_loader, loss_fn, optimizer, epochs) -> dict, as learners write it."""
import copy

import torch

from . import case

E = "fit"


def _train_one_epoch(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@torch.no_grad()
def _validate(model, loader, loss_fn):
    model.eval()
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        out = model(x)
        total += loss_fn(out, y).item()
        correct += (out.argmax(1) == y).sum().item()
        count += len(y)
    return total / len(loader), correct / count


# -- correct shapes ---------------------------------------------------------------------
@case(E)
def with_helpers(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        history["train_loss"].append(_train_one_epoch(model, train_loader, loss_fn, optimizer))
        val_loss, val_acc = _validate(model, val_loader, loss_fn)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


@case(E)
def inline_with_checkpoint_and_scheduler(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    train_losses, val_losses, val_accs = [], [], []
    best, best_state = float("inf"), None
    for epoch in range(epochs):
        model.train()
        running = 0.0
        for inputs, targets in train_loader:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            running += loss.item()
        scheduler.step()
        train_losses.append(running / len(train_loader))
        model.eval()
        with torch.inference_mode():
            v_loss, hits, n = 0.0, 0, 0
            for inputs, targets in val_loader:
                logits = model(inputs)
                v_loss += loss_fn(logits, targets).item() * len(targets)
                hits += (logits.argmax(dim=1) == targets).sum().item()
                n += len(targets)
        val_losses.append(v_loss / n)
        val_accs.append(hits / n)
        if val_losses[-1] < best:
            best, best_state = val_losses[-1], copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return {"train_loss": train_losses, "val_loss": val_losses, "val_acc": val_accs}


@case(E)
def deep_copies_best_model(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": [], "best_epoch": 0}
    best_model, best_acc = None, -1.0
    for epoch in range(epochs):
        model.train(True)
        losses = []
        for i, (x, y) in enumerate(train_loader):
            model.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            optimizer.step()
            losses.append(loss.detach().item())
        history["train_loss"].append(sum(losses) / len(losses))
        model.train(False)
        with torch.set_grad_enabled(False):
            batch_losses, batch_accs = [], []
            for x, y in val_loader:
                out = model(x)
                batch_losses.append(float(loss_fn(out, y)))
                batch_accs.append((out.argmax(1) == y).float().mean().item())
        history["val_loss"].append(sum(batch_losses) / len(batch_losses))
        history["val_acc"].append(sum(batch_accs) / len(batch_accs))
        if history["val_acc"][-1] > best_acc:
            best_acc, best_model = history["val_acc"][-1], copy.deepcopy(model)
            history["best_epoch"] = epoch
    return history


@case(E)
def baseline_validation_and_train_accuracy_pass(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    base_loss, base_acc = _validate(model, val_loader, loss_fn)
    print(f"before training: val loss {base_loss:.3f}, accuracy {base_acc:.2f}")
    history = {"train_loss": [], "val_loss": [], "val_acc": [], "train_acc": []}
    for _ in range(epochs):
        history["train_loss"].append(_train_one_epoch(model, train_loader, loss_fn, optimizer))
        _, train_acc = _validate(model, train_loader, loss_fn)
        history["train_acc"].append(train_acc)
        val_loss, val_acc = _validate(model, val_loader, loss_fn)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


# -- train-mode-missing -----------------------------------------------------------------
@case(E, "train-mode-missing")
def train_only_before_first_epoch(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    model.train()
    for _ in range(epochs):
        total = 0.0
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item()
        history["train_loss"].append(total / len(train_loader))
        val_loss, val_acc = _validate(model, val_loader, loss_fn)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


@case(E, "train-mode-missing")
def never_calls_train(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        total = 0.0
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
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


# -- eval-mode-missing / grad-enabled-in-eval / trains-on-validation --------------------
@case(E, "eval-mode-missing")
def validates_in_training_mode(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        history["train_loss"].append(_train_one_epoch(model, train_loader, loss_fn, optimizer))
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


@case(E, "eval-mode-missing")
def eval_without_parentheses(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        history["train_loss"].append(_train_one_epoch(model, train_loader, loss_fn, optimizer))
        model.eval
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


@case(E, "grad-enabled-in-eval")
def validates_with_autograd_on(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        history["train_loss"].append(_train_one_epoch(model, train_loader, loss_fn, optimizer))
        model.eval()
        v, hits, n = 0.0, 0, 0
        for x, y in val_loader:
            out = model(x)
            v += loss_fn(out, y).item()
            hits += (out.argmax(1) == y).sum().item()
            n += len(y)
        history["val_loss"].append(v / len(val_loader))
        history["val_acc"].append(hits / n)
    return history


@case(E, "grad-enabled-in-eval")
def no_grad_only_for_accuracy(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        history["train_loss"].append(_train_one_epoch(model, train_loader, loss_fn, optimizer))
        model.eval()
        v, hits, n = 0.0, 0, 0
        for x, y in val_loader:
            out = model(x)
            v += loss_fn(out, y).item()
            with torch.no_grad():
                hits += (out.argmax(1) == y).sum().item()
            n += len(y)
        history["val_loss"].append(v / len(val_loader))
        history["val_acc"].append(hits / n)
    return history


@case(E, "trains-on-validation", "grad-enabled-in-eval")
def reuses_the_training_loop_for_validation(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        history["train_loss"].append(_train_one_epoch(model, train_loader, loss_fn, optimizer))
        model.eval()
        v, hits, n = 0.0, 0, 0
        for x, y in val_loader:
            optimizer.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            optimizer.step()
            v += loss.item()
            hits += (out.argmax(1) == y).sum().item()
            n += len(y)
        history["val_loss"].append(v / len(val_loader))
        history["val_acc"].append(hits / n)
    return history


@case(E, "trains-on-validation", "grad-enabled-in-eval")
def backward_on_validation_loss(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        history["train_loss"].append(_train_one_epoch(model, train_loader, loss_fn, optimizer))
        model.eval()
        v, hits, n = 0.0, 0, 0
        for x, y in val_loader:
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            v += loss.item()
            hits += (out.argmax(1) == y).sum().item()
            n += len(y)
        history["val_loss"].append(v / len(val_loader))
        history["val_acc"].append(hits / n)
    return history


# -- order, logging and numbers inside fit ----------------------------------------------
@case(E, "missing-zero-grad")
def clears_once_per_epoch(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        total = 0.0
        for x, y in train_loader:
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item()
        history["train_loss"].append(total / len(train_loader))
        val_loss, val_acc = _validate(model, val_loader, loss_fn)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


@case(E, "loss-tensor-logged")
def sums_loss_tensors(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        total = 0.0
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss
        history["train_loss"].append(total / len(train_loader))
        val_loss, val_acc = _validate(model, val_loader, loss_fn)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


@case(E, "loss-tensor-logged")
def keeps_graphs_then_converts(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        epoch_losses = []
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            epoch_losses.append(loss)
        history["train_loss"].append(torch.stack(epoch_losses).mean().item())
        val_loss, val_acc = _validate(model, val_loader, loss_fn)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


@case(E, "wrong-accuracy")
def accuracy_over_batches(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        history["train_loss"].append(_train_one_epoch(model, train_loader, loss_fn, optimizer))
        model.eval()
        with torch.no_grad():
            v, hits = 0.0, 0
            for x, y in val_loader:
                out = model(x)
                v += loss_fn(out, y).item()
                hits += (out.argmax(1) == y).sum().item()
        history["val_loss"].append(v / len(val_loader))
        history["val_acc"].append(hits / len(val_loader))
    return history


# The accuracy of the training forward passes is a measurement of the training data.
@case(E, "wrong-validation-data")
def accuracy_from_training_outputs(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        total, hits, n = 0.0, 0, 0
        for x, y in train_loader:
            optimizer.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            optimizer.step()
            total += loss.item()
            hits += (out.argmax(1) == y).sum().item()
            n += len(y)
        history["train_loss"].append(total / len(train_loader))
        val_loss, _ = _validate(model, val_loader, loss_fn)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(hits / n)
    return history


@case(E, "wrong-loss-values")
def reports_last_batch_loss(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        history["train_loss"].append(loss.item())
        val_loss, val_acc = _validate(model, val_loader, loss_fn)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


@case(E, "wrong-return-type")
def returns_a_tuple_of_lists(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    train_losses, val_losses, val_accs = [], [], []
    for _ in range(epochs):
        train_losses.append(_train_one_epoch(model, train_loader, loss_fn, optimizer))
        val_loss, val_acc = _validate(model, val_loader, loss_fn)
        val_losses.append(val_loss)
        val_accs.append(val_acc)
    return train_losses, val_losses, val_accs
