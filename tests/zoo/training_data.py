"""Which data each epoch trains on: every training example once, each input with its own label.

Buggy loops skip examples (a slice, a `break`, every other batch), use some twice (a batch
trained twice, the data concatenated with itself), or pair inputs with labels that are not
theirs (inputs shuffled alone, labels rolled, the previous batch's labels). Correct loops
that look suspicious reorder a batch's rows together with their labels, augment inputs,
re-batch the whole loader through a shuffled index, or keep the loader's batches in a list.
"""
import random

import torch

from . import case

LOOP, EPOCH, ACCUM, FIT = "train_loop", "train_epoch", "train_epoch_accumulate", "fit"


# -- skipped-training-data -----------------------------------------------------------------
@case(LOOP, "skipped-training-data")
def trains_on_the_first_half_of_x(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    half = len(X) // 2  # "a quick run on half the data"
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X[:half]), y[:half])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(EPOCH, "skipped-training-data")
def stops_before_the_last_batch(model, loader, loss_fn, optimizer):
    model.train()
    losses = []
    for i, (inputs, targets) in enumerate(loader):
        if i == len(loader) - 1:
            break  # "the last batch may be smaller"
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


@case(EPOCH, "skipped-training-data")
def first_four_rows_of_each_batch(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for xb, yb in loader:
        xb, yb = xb[:4], yb[:4]
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(FIT, "skipped-training-data")
def trains_on_every_other_batch(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        losses = []
        for i, (x, y) in enumerate(train_loader):
            if i % 2:
                continue  # "half the batches are enough per epoch"
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        total, right, n = 0.0, 0, 0
        with torch.no_grad():
            for x, y in val_loader:
                out = model(x)
                total += loss_fn(out, y).item() * len(y)
                right += (out.argmax(1) == y).sum().item()
                n += len(y)
        history["train_loss"].append(sum(losses) / len(losses))
        history["val_loss"].append(total / n)
        history["val_acc"].append(right / n)
    return history


@case(ACCUM, "skipped-training-data")
def accumulates_a_random_half_of_each_batch(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    losses = []
    for i, (x, y) in enumerate(loader):
        keep = torch.randperm(len(x))[: len(x) // 2].to(x.device)
        loss = loss_fn(model(x[keep]), y[keep])
        (loss / accum_steps).backward()
        losses.append(loss.item())
        if (i + 1) % accum_steps == 0 or i + 1 == len(loader):
            optimizer.step()
            optimizer.zero_grad()
    return sum(losses) / len(losses)


# -- repeated-training-data ----------------------------------------------------------------
@case(LOOP, "repeated-training-data")
def x_concatenated_with_itself(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    X2, y2 = torch.cat([X, X]), torch.cat([y, y])  # "more data"
    history = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X2), y2)
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return history


@case(EPOCH, "repeated-training-data", "wrong-step-count")
def two_steps_on_every_batch(model, loader, loss_fn, optimizer):
    model.train()
    losses = []
    for x, y in loader:
        for _ in range(2):  # "squeeze more out of each batch"
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


@case(FIT, "repeated-training-data", "wrong-step-count")
def revisits_the_first_batch_each_epoch(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        losses, first = [], None
        for x, y in train_loader:
            if first is None:
                first = (x, y)
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        x, y = first  # "one more pass over the first batch"
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            outs = [(model(vx), vy) for vx, vy in val_loader]
        n = sum(len(vy) for _, vy in outs)
        history["train_loss"].append(sum(losses) / len(losses))
        history["val_loss"].append(sum(loss_fn(o, vy).item() * len(vy) for o, vy in outs) / n)
        history["val_acc"].append(sum((o.argmax(1) == vy).sum().item() for o, vy in outs) / n)
    return history


@case(ACCUM, "repeated-training-data")
def each_batch_twice_in_its_group(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    losses = []
    for i, (x, y) in enumerate(loader):
        for _ in range(2):  # "two passes per batch"
            loss = loss_fn(model(x), y)
            (loss / accum_steps).backward()
        losses.append(loss.item())
        if (i + 1) % accum_steps == 0 or i + 1 == len(loader):
            optimizer.step()
            optimizer.zero_grad()
    return sum(losses) / len(losses)


# -- labels-mismatched ---------------------------------------------------------------------
@case(EPOCH, "labels-mismatched")
def shuffles_the_inputs_alone(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        perm = torch.randperm(len(x), device=x.device)
        optimizer.zero_grad()
        loss = loss_fn(model(x[perm]), y)  # the labels were never reordered
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(LOOP, "labels-mismatched")
def targets_rolled_by_one(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    targets = torch.roll(y, shifts=1, dims=0)  # an off-by-one when lining up the targets
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(FIT, "labels-mismatched")
def labels_of_the_previous_batch(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        losses, previous = [], None
        for x, y in train_loader:
            labels = y if previous is None or len(previous) != len(y) else previous
            optimizer.zero_grad()
            loss = loss_fn(model(x), labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            previous = y
        model.eval()
        total, right, n = 0.0, 0, 0
        with torch.no_grad():
            for x, y in val_loader:
                out = model(x)
                total += loss_fn(out, y).item() * len(y)
                right += (out.argmax(1) == y).sum().item()
                n += len(y)
        history["train_loss"].append(sum(losses) / len(losses))
        history["val_loss"].append(total / n)
        history["val_acc"].append(right / n)
    return history


@case(ACCUM, "labels-mismatched")
def labels_flipped_end_to_end(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    total, count = 0.0, 0
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y.flip(0))
        (loss / accum_steps).backward()
        total, count = total + loss.item(), count + 1
        if (i + 1) % accum_steps == 0 or i + 1 == len(loader):
            optimizer.step()
            optimizer.zero_grad()
    return total / count


@case(EPOCH, "labels-mismatched")
def sorts_inputs_by_a_feature(model, loader, loss_fn, optimizer):
    model.train()
    losses = []
    for x, y in loader:
        x = x[x[:, 0].argsort()]  # "sorted batches train more smoothly"
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


# -- correct, though they look suspicious -----------------------------------------------------
@case(EPOCH)
def reorders_rows_together_with_labels(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        perm = torch.randperm(len(x), device=x.device)
        x, y = x[perm], y[perm]
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@case(EPOCH)
def noise_augmentation_keeps_pairs(model, loader, loss_fn, optimizer):
    model.train()
    losses = []
    for inputs, targets in loader:
        inputs = inputs + 0.05 * torch.randn_like(inputs)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


@case(EPOCH)
def shuffled_index_over_the_whole_loader(model, loader, loss_fn, optimizer):
    model.train()
    xs, ys = zip(*loader)
    X, Y = torch.cat(xs), torch.cat(ys)
    order = torch.randperm(len(X), device=X.device)
    size = loader.batch_size
    losses = []
    for start in range(0, len(X), size):
        idx = order[start:start + size]
        optimizer.zero_grad()
        loss = loss_fn(model(X[idx]), Y[idx])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


@case(LOOP)
def full_batch_in_a_new_order_each_epoch(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        perm = torch.randperm(len(X), device=X.device)
        optimizer.zero_grad()
        loss = loss_fn(model(X[perm]), y[perm])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@case(FIT)
def keeps_the_batches_in_a_list_and_shuffles_it(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    batches = list(train_loader)  # one read of the data; a new batch order each epoch
    rng = random.Random(0)
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        rng.shuffle(batches)
        model.train()
        losses = []
        for x, y in batches:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        total, right, n = 0.0, 0, 0
        with torch.no_grad():
            for x, y in val_loader:
                out = model(x)
                total += loss_fn(out, y).item() * len(y)
                right += (out.argmax(1) == y).sum().item()
                n += len(y)
        history["train_loss"].append(sum(losses) / len(losses))
        history["val_loss"].append(total / n)
        history["val_acc"].append(right / n)
    return history


@case(ACCUM)
def doubles_each_batch_with_a_noisy_copy(model, loader, loss_fn, optimizer, accum_steps):
    model.train()
    optimizer.zero_grad()
    losses = []
    for i, (x, y) in enumerate(loader):
        x2 = torch.cat([x, x + 0.01 * torch.randn_like(x)])  # augmentation: every pair kept
        y2 = torch.cat([y, y])
        loss = loss_fn(model(x2), y2)
        (loss / accum_steps).backward()
        losses.append(loss.item())
        if (i + 1) % accum_steps == 0 or i + 1 == len(loader):
            optimizer.step()
            optimizer.zero_grad()
    return sum(losses) / len(losses)


@case(FIT)
def labels_gathered_through_the_same_index(model, train_loader, val_loader, loss_fn, optimizer, epochs):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        losses = []
        for x, y in train_loader:
            order = torch.argsort(x[:, 0])
            optimizer.zero_grad()
            loss = loss_fn(model(x[order]), y[order])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        total, right, n = 0.0, 0, 0
        with torch.no_grad():
            for x, y in val_loader:
                out = model(x)
                total += loss_fn(out, y).item() * len(y)
                right += (out.argmax(1) == y).sum().item()
                n += len(y)
        history["train_loss"].append(sum(losses) / len(losses))
        history["val_loss"].append(total / n)
        history["val_acc"].append(right / n)
    return history
