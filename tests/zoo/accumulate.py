"""train_epoch_accumulate(model, loader, loss_fn, optimizer, accum_steps) -> float, as learners write it."""
import torch

from . import case

E = "train_epoch_accumulate"


# -- correct shapes ---------------------------------------------------------------------
@case(E)
def step_in_loop_with_last_batch(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    total = 0.0
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        total += loss.item()
        if (i + 1) % accum_steps == 0 or (i + 1) == len(loader):
            optimizer.step()
            optimizer.zero_grad()
    return total / len(loader)


@case(E)
def final_step_after_the_loop(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    losses = []
    pending = 0
    for x, y in loader:
        loss = loss_fn(model(x), y) / accum_steps
        loss.backward()
        losses.append(loss.item() * accum_steps)
        pending += 1
        if pending == accum_steps:
            optimizer.step()
            optimizer.zero_grad()
            pending = 0
    if pending:
        optimizer.step()
        optimizer.zero_grad()
    return sum(losses) / len(losses)


@case(E)
def zero_grad_at_group_start_divides_last_group_by_its_size(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    n = len(loader)
    total = 0.0
    for i, (x, y) in enumerate(loader):
        if i % accum_steps == 0:
            for p in model.parameters():
                p.grad = None
            group = min(accum_steps, n - i)
        loss = loss_fn(model(x), y)
        (loss / group).backward()
        total += float(loss)
        if (i + 1) % accum_steps == 0 or i == n - 1:
            torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            optimizer.step()
    return total / n


@case(E)
def while_loop_counter(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    it = iter(loader)
    step, total, count = 0, 0.0, 0
    while True:
        batch = next(it, None)
        if batch is None:
            break
        x, y = batch
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        total += loss.detach().item()
        count += 1
        if count % accum_steps == 0:
            optimizer.step()
            model.zero_grad()
            step += 1
    if count % accum_steps != 0:
        optimizer.step()
        model.zero_grad()
    return total / count


@case(E)
def sums_the_group_then_one_backward(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    n, total, group = len(loader), 0.0, 0
    optimizer.zero_grad()
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        total += loss.item()
        group = group + loss / accum_steps
        if (i + 1) % accum_steps == 0 or i + 1 == n:
            group.backward()
            optimizer.step()
            optimizer.zero_grad()
            group = 0
    return total / n


@case(E)
def clears_at_group_start_and_clips_by_value(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    n, total = len(loader), 0.0
    for i, (x, y) in enumerate(loader):
        if i % accum_steps == 0:
            optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        total += loss.item()
        loss = loss / accum_steps
        loss.backward()
        if (i + 1) % accum_steps == 0 or i + 1 == n:
            torch.nn.utils.clip_grad_value_(model.parameters(), 0.05)
            optimizer.step()
    return total / n


# -- unscaled-accumulation --------------------------------------------------------------
@case(E, "unscaled-accumulation")
def forgets_to_divide(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    total = 0.0
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        loss.backward()
        total += loss.item()
        if (i + 1) % accum_steps == 0 or (i + 1) == len(loader):
            optimizer.step()
            optimizer.zero_grad()
    return total / len(loader)


@case(E, "unscaled-accumulation")
def divides_only_the_logged_value(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    losses = []
    for i, (x, y) in enumerate(loader, start=1):
        loss = loss_fn(model(x), y)
        loss.backward()
        losses.append(loss.item())
        scaled = loss.item() / accum_steps  # noqa: F841 - the division happens too late
        if i % accum_steps == 0 or i == len(loader):
            optimizer.step()
            optimizer.zero_grad()
    return sum(losses) / len(losses)


@case(E, "unscaled-accumulation")
def divides_by_the_number_of_batches(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    n, total = len(loader), 0.0
    optimizer.zero_grad()
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        total += loss.item()
        (loss / n).backward()
        if (i + 1) % accum_steps == 0 or i + 1 == n:
            optimizer.step()
            optimizer.zero_grad()
    return total / n


# -- wrong-accumulation-cadence ---------------------------------------------------------
@case(E, "wrong-accumulation-cadence")
def steps_every_batch(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(E, "wrong-accumulation-cadence")
def off_by_one_modulo(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    total = 0.0
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        total += loss.item()
        if i % accum_steps == 0:
            optimizer.step()
            optimizer.zero_grad()
    return total / len(loader)


@case(E, "wrong-accumulation-cadence")
def clears_every_batch(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    total = 0.0
    for i, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        total += loss.item()
        if (i + 1) % accum_steps == 0 or (i + 1) == len(loader):
            optimizer.step()
    return total / len(loader)


# -- missing-final-step -----------------------------------------------------------------
@case(E, "missing-final-step")
def only_full_groups(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    total = 0.0
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        total += loss.item()
        if (i + 1) % accum_steps == 0:
            optimizer.step()
            optimizer.zero_grad()
    return total / len(loader)


@case(E, "missing-final-step", "gradients-left-behind")
def counts_from_one_no_tail(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    losses = []
    for step, (inputs, targets) in enumerate(loader, 1):
        loss = loss_fn(model(inputs), targets) / accum_steps
        loss.backward()
        losses.append(accum_steps * loss.item())
        if step % accum_steps == 0:
            optimizer.step()
            model.zero_grad()
    return sum(losses) / len(losses)


# -- missing-zero-grad / wrong-loss-values ----------------------------------------------
@case(E, "missing-zero-grad")
def never_clears(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    total = 0.0
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        total += loss.item()
        if (i + 1) % accum_steps == 0 or (i + 1) == len(loader):
            optimizer.step()
    return total / len(loader)


@case(E, "missing-zero-grad")
def clears_without_parentheses(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    total = 0.0
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        total += loss.item()
        if (i + 1) % accum_steps == 0 or (i + 1) == len(loader):
            optimizer.step()
            optimizer.zero_grad
    return total / len(loader)


@case(E, "wrong-loss-values")
def returns_scaled_mean(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    total = 0.0
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y) / accum_steps
        loss.backward()
        total += loss.item()
        if (i + 1) % accum_steps == 0 or (i + 1) == len(loader):
            optimizer.step()
            optimizer.zero_grad()
    return total / len(loader)


@case(E, "wrong-loss-values")
def returns_mean_per_step(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    total, steps = 0.0, 0
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        total += loss.item()
        if (i + 1) % accum_steps == 0 or (i + 1) == len(loader):
            optimizer.step()
            optimizer.zero_grad()
            steps += 1
    return total / steps


@case(E, "train-mode-missing")
def accumulates_in_eval_mode(model, loader, loss_fn, optimizer, accum_steps):
    optimizer.zero_grad()
    total = 0.0
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        (loss / accum_steps).backward()
        total += loss.item()
        if (i + 1) % accum_steps == 0 or (i + 1) == len(loader):
            optimizer.step()
            optimizer.zero_grad()
    return total / len(loader)
