"""More learner loops for issue 10, written apart from the other zoo files: other spellings of
the same bugs, and correct code in shapes the others do not use."""
import torch
import torch.nn.functional as F

from . import case


# -- correct ----------------------------------------------------------------------------
@case("train_epoch")
def autograd_backward_and_grad_zero(model, loader, loss_fn, optimizer):
    model.train()
    seen, total = 0, 0.0
    for inputs, targets in loader:
        for p in model.parameters():
            if p.grad is not None:
                p.grad.zero_()
        loss = F.nll_loss(F.log_softmax(model(inputs), dim=1), targets)
        torch.autograd.backward(loss)
        optimizer.step()
        total += loss.item() * len(targets)
        seen += len(targets)
    return total / seen


@case("evaluate")
def train_false_and_grad_disabled(model, loader, loss_fn):
    was_training = model.training
    model.train(False)
    losses, right, count = [], 0, 0
    with torch.set_grad_enabled(False):
        for batch in loader:
            inputs, targets = batch
            scores = model(inputs)
            losses.append(float(loss_fn(scores, targets)))
            right += int((scores.argmax(-1) == targets).sum())
            count += targets.numel()
    model.train(was_training)
    return sum(losses) / len(losses), right / count


@case("train_loop")
def formula_loss_and_scheduler(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    curve = []
    for _ in range(epochs):
        optimizer.zero_grad(set_to_none=True)
        error = model(X) - y
        loss = (error * error).sum() / error.numel()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
        optimizer.step()
        schedule.step()
        curve.append(loss.detach().item())
    return curve


# -- buggy ------------------------------------------------------------------------------
@case("evaluate", "partial-validation")
def drops_the_last_batch(model, loader, loss_fn):
    model.eval()
    total, right, n = 0.0, 0, 0
    with torch.no_grad():
        for i, (inputs, targets) in enumerate(loader):
            if i == len(loader) - 1:
                break
            out = model(inputs)
            total += loss_fn(out, targets).item() * len(targets)
            right += (out.argmax(1) == targets).sum().item()
            n += len(targets)
    return total / n, right / n


@case("train_loop", "foreign-update")
def data_update_by_hand(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    lr = optimizer.param_groups[0]["lr"]
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = F.mse_loss(model(X), y)
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad.data
        losses.append(loss.item())
    return losses


@case("train_epoch", "foreign-update")
def own_adam_same_lr(model, loader, loss_fn, optimizer):
    model.train()
    mine = torch.optim.Adam(model.parameters(), lr=optimizer.param_groups[0]["lr"])
    total = 0.0
    for inputs, targets in loader:
        mine.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        mine.step()
        total += loss.item()
    return total / len(loader)


@case("train_epoch", "step-before-backward")
def functional_step_first(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(inputs), targets)
        optimizer.step()
        loss.backward()
        total += loss.item()
    return total / len(loader)


@case("train_epoch", "scaled-gradient")
def mean_times_batch_size(model, loader, loss_fn, optimizer):
    model.train()
    total, n = 0.0, 0
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets) * len(targets)
        loss.backward()
        optimizer.step()
        total += loss.item()
        n += len(targets)
    return total / n


@case("train_epoch_accumulate", "unscaled-accumulation")
def formula_loss_never_divided(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    values = []
    for i, (inputs, targets) in enumerate(loader, start=1):
        logp = torch.log_softmax(model(inputs), dim=1)
        loss = -logp[torch.arange(len(targets), device=targets.device), targets].mean()
        loss.backward()
        values.append(loss.item())
        if i % accum_steps == 0 or i == len(loader):
            optimizer.step()
            optimizer.zero_grad()
    return sum(values) / len(values)


@case("fit", "stale-validation")
def validates_every_other_epoch(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    last = (0.0, 0.0)
    for epoch in range(epochs):
        model.train()
        running = 0.0
        for inputs, targets in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
            running += loss.item()
        history["train_loss"].append(running / len(train_loader))
        if epoch % 2 == 1 or epoch == 0 and epochs == 1:
            model.eval()
            with torch.no_grad():
                pairs = [(loss_fn(model(x), y).item(), (model(x).argmax(1) == y).float().mean().item())
                         for x, y in val_loader]
            last = (sum(p[0] for p in pairs) / len(pairs), sum(p[1] for p in pairs) / len(pairs))
        history["val_loss"].append(last[0])
        history["val_acc"].append(last[1])
    return history


@case("train_epoch")
def survives_a_model_call_that_raised(model, loader, loss_fn, optimizer):
    """A forward pass that raised (caught by the learner) must not blind the inspector."""
    model.train()
    total = 0.0
    for i, (inputs, targets) in enumerate(loader):
        if i == 0:
            try:
                model(inputs[:, :2])  # the wrong number of features: the model raises
            except RuntimeError:
                pass
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


# -- stopped by the time limit inside torch's own clean-up: only the timeout is said ------
@case("train_epoch", "timeout", time_limit=0.5)
def hangs_with_gradient_tracking_off(model, loader, loss_fn, optimizer):
    model.train()
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss_fn(model(inputs), targets).backward()
        optimizer.step()
    torch.set_grad_enabled(False)  # as if stopped inside optimizer.step(), which turns it off
    while True:
        pass
