"""Loops whose loss is not the `loss_fn` they were handed: `torch.nn.functional`, a second
loss module, or a formula written out by hand. The loss is what `backward()` runs on, so
every order, accumulation, logging and numbers bug must be found just the same.
"""
import torch
import torch.nn.functional as F
from tqdm import tqdm

from . import case

LOOP, EPOCH, ACCUM, EVAL, FIT = "train_loop", "train_epoch", "train_epoch_accumulate", "evaluate", "fit"


def cross_entropy_by_hand(logits, targets):
    """What phase 3 writes out: minus the log-probability of the right class, averaged."""
    log_probs = torch.log_softmax(logits, dim=1)
    return -log_probs.gather(1, targets.unsqueeze(1)).mean()


# -- train_loop: regression, full batch ---------------------------------------------------
@case(LOOP)
def mse_from_functional(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = F.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(LOOP)
def mse_written_out(model, loss_fn, optimizer, X, y, epochs):
    history = []
    for epoch in range(epochs):
        model.train()
        pred = model(X)
        loss = ((pred - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(float(loss))
    return history


@case(LOOP, "missing-zero-grad")
def functional_mse_never_clears(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        loss = F.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# The step comes between the forward pass and its backward: the gradients it uses are the
# ones just cleared, never the ones of this epoch's loss. No loss module is ever called.
@case(LOOP, "step-before-backward")
def squared_error_steps_too_early(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    out = []
    for _ in range(epochs):
        optimizer.zero_grad()
        error = model(X) - y
        loss = (error * error).mean()
        optimizer.step()
        loss.backward()
        out.append(loss.item())
    return out


@case(LOOP, "loss-tensor-logged")
def functional_mse_tensors_in_the_list(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = F.mse_loss(model(X), y, reduction="mean")
        loss.backward()
        optimizer.step()
        losses.append(loss)
    return losses


# -- train_epoch: classification, per batch -----------------------------------------------
@case(EPOCH)
def log_softmax_gather_by_hand(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = cross_entropy_by_hand(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(EPOCH)
def nll_of_log_softmax_weighted(model, loader, loss_fn, optimizer):
    model.train()
    loss_sum, examples = 0.0, 0
    for inputs, labels in loader:
        logits = model(inputs)
        loss = F.nll_loss(F.log_softmax(logits, dim=-1), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * labels.size(0)
        examples += labels.size(0)
    return loss_sum / examples


@case(EPOCH, "missing-zero-grad")
def functional_cross_entropy_no_clear(model, loader, loss_fn, optimizer):
    model.train()
    batch_losses = []
    for x, y in loader:
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        optimizer.step()
        batch_losses.append(loss.item())
    return sum(batch_losses) / len(batch_losses)


@case(EPOCH, "missing-zero-grad")
def formula_loss_clears_before_the_loop(model, loader, loss_fn, optimizer):
    model.train()
    optimizer.zero_grad()
    running = 0.0
    for x, y in loader:
        loss = cross_entropy_by_hand(model(x), y)
        loss.backward()
        optimizer.step()
        running += loss.item()
    return running / len(loader)


@case(EPOCH, "step-before-backward")
def functional_cross_entropy_steps_first(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        optimizer.step()
        loss.backward()
        total += loss.item()
    return total / len(loader)


@case(EPOCH, "wrong-loss-values")
def functional_returns_the_sum(model, loader, loss_fn, optimizer):
    model.train()
    epoch_loss = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item()
    return epoch_loss


@case(EPOCH, "wrong-loss-values")
def formula_loss_counted_twice(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = cross_entropy_by_hand(model(x), y)
        total += loss.item()  # logged here ...
        loss.backward()
        optimizer.step()
        total += loss.item()  # ... and again here
    return total / len(loader)


@case(EPOCH, "loss-tensor-logged")
def formula_running_total_tensor(model, loader, loss_fn, optimizer):
    model.train()
    total = 0
    for x, y in loader:
        optimizer.zero_grad()
        log_probs = torch.log_softmax(model(x), dim=1)
        loss = -log_probs[torch.arange(len(y), device=y.device), y].mean()
        loss.backward()
        optimizer.step()
        total = total + loss
    return total.item() / len(loader)


@case(EPOCH, "loss-tensor-logged")
def functional_list_of_loss_tensors(model, loader, loss_fn, optimizer):
    model.train()
    losses = []
    for x, y in tqdm(loader):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss)
    return sum(l.item() for l in losses) / len(losses)


# -- train_epoch_accumulate (plain SGD in both fixtures, so scaling shows) ----------------
@case(ACCUM)
def functional_accumulate_with_tqdm(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    total, n = 0.0, len(loader)
    for i, (x, y) in enumerate(tqdm(loader, leave=False)):
        loss = F.cross_entropy(model(x), y)
        (loss / accum_steps).backward()
        total += loss.item()
        if (i + 1) % accum_steps == 0 or i + 1 == n:
            optimizer.step()
            optimizer.zero_grad()
    return total / n


@case(ACCUM, "unscaled-accumulation")
def functional_accumulate_never_divides(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    total = 0.0
    for i, (x, y) in enumerate(loader):
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        total += loss.item()
        if (i + 1) % accum_steps == 0 or (i + 1) == len(loader):
            optimizer.step()
            optimizer.zero_grad()
    return total / len(loader)


@case(ACCUM, "unscaled-accumulation")
def formula_accumulate_never_divides(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    losses = []
    for step, (inputs, targets) in enumerate(loader, start=1):
        if (step - 1) % accum_steps == 0:
            optimizer.zero_grad()
        loss = cross_entropy_by_hand(model(inputs), targets)
        loss.backward()
        losses.append(loss.item())
        if step % accum_steps == 0 or step == len(loader):
            optimizer.step()
    return sum(losses) / len(losses)


@case(ACCUM, "unscaled-accumulation")
def own_criterion_never_divides(model, loader, loss_fn, optimizer, accum_steps):
    criterion = torch.nn.CrossEntropyLoss(reduction="mean")
    model.train()
    batches = len(loader)
    total = 0.0
    for i, (x, y) in enumerate(loader):
        loss = criterion(model(x), y)
        loss.backward()
        total += float(loss)
        if (i + 1) % accum_steps == 0 or i == batches - 1:
            optimizer.step()
            model.zero_grad()
    return total / batches


@case(ACCUM, "wrong-loss-values")
def functional_returns_scaled_losses(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    total = 0.0
    for i, (x, y) in enumerate(loader):
        loss = F.cross_entropy(model(x), y) / accum_steps
        loss.backward()
        total += loss.item()
        if (i + 1) % accum_steps == 0 or (i + 1) == len(loader):
            optimizer.step()
            optimizer.zero_grad()
    return total / len(loader)


# -- evaluate ------------------------------------------------------------------------------
# reduction="sum" summed over the loader and divided by the number of examples is the
# mean loss over examples: correct.
@case(EVAL)
def summed_cross_entropy_over_examples(model, loader, loss_fn):
    model.eval()
    loss_sum, hits, seen = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            hits += (logits.argmax(dim=1) == y).sum().item()
            seen += y.numel()
    return loss_sum / seen, hits / seen


@case(EVAL, "wrong-loss-values")
def functional_eval_returns_the_sum(model, loader, loss_fn):
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            total += F.cross_entropy(out, y).item()
            correct += (out.argmax(1) == y).sum().item()
            count += len(y)
    return total, correct / count


@case(EVAL, "loss-tensor-logged")
def formula_eval_keeps_a_tensor(model, loader, loss_fn):
    model.eval()
    total, correct, count = 0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            total = total + cross_entropy_by_hand(out, y)
            correct += (out.argmax(1) == y).sum().item()
            count += len(y)
    return total / len(loader), correct / count


# -- fit -----------------------------------------------------------------------------------
@case(FIT)
def functional_losses_in_both_phases(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        running = 0.0
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            running += loss.item()
        history["train_loss"].append(running / len(train_loader))
        model.eval()
        with torch.no_grad():
            v, hits, n = 0.0, 0, 0
            for x, y in val_loader:
                logits = model(x)
                v += F.cross_entropy(logits, y).item()
                hits += (logits.argmax(1) == y).sum().item()
                n += len(y)
        history["val_loss"].append(v / len(val_loader))
        history["val_acc"].append(hits / n)
    return history


# The running sum is set to zero once, before the epoch loop: from epoch 2 on, each
# reported training loss also holds the earlier epochs' losses.
@case(FIT, "wrong-loss-values")
def functional_running_sum_never_reset(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    train_losses, val_losses, val_accs = [], [], []
    running = 0.0
    for epoch in range(epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            running += loss.item()
        train_losses.append(running / len(train_loader))
        model.eval()
        with torch.no_grad():
            v, hits, n = 0.0, 0, 0
            for x, y in val_loader:
                logits = model(x)
                v += F.cross_entropy(logits, y).item()
                hits += (logits.argmax(1) == y).sum().item()
                n += len(y)
        val_losses.append(v / len(val_loader))
        val_accs.append(hits / n)
    return {"train_loss": train_losses, "val_loss": val_losses, "val_acc": val_accs}
