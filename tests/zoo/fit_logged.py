"""fit_logged(model, train_loader, val_loader, loss_fn, optimizer, epochs, run_dir) -> dict, as learners write it.

The first half of fit_tracked: the metrics log, the config and the best checkpoint, no
resuming. Correct shapes (csv.DictWriter with a file kept open and flushed, or a `fit` of
one epoch called in a loop with lines written by hand and the best weights kept as a
copy), then each bug: the best checkpoint of the best *accuracy* (the fixtures' best
accuracy comes in another epoch than their lowest validation loss), the log and the
config written wrong.
"""
import copy
import csv
import json
from pathlib import Path

import torch

from . import case
from .fit import _train_one_epoch as _train, _validate

E = "fit_logged"
FIELDS = ["epoch", "train_loss", "val_loss", "val_acc", "lr", "checkpoint"]


def logged(name, *, best_by="val_loss", keys=("epochs", "lr", "seed", "torch_version"), first_epoch=1,
           checkpoint="best.pt", train=_train):
    """A fit_logged with the chosen bugs switched on (the defaults are correct)."""
    def fit_logged(model, train_loader, val_loader, loss_fn, optimizer, epochs, run_dir):
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        config = {"epochs": epochs, "lr": optimizer.param_groups[0]["lr"], "seed": torch.initial_seed(),
                  "torch_version": torch.__version__}
        (run_dir / "config.json").write_text(json.dumps({key: config[key] for key in keys}))
        history = {"train_loss": [], "val_loss": [], "val_acc": []}
        best, best_epoch = None, 0
        with (run_dir / "metrics.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=FIELDS)
            writer.writeheader()
            for epoch in range(first_epoch, first_epoch + epochs):
                train_loss = train(model, train_loader, loss_fn, optimizer)
                val_loss, val_acc = _validate(model, val_loader, loss_fn)
                for key, number in zip(history, (train_loss, val_loss, val_acc)):
                    history[key].append(number)
                score = val_loss if best_by == "val_loss" else -val_acc
                if best is None or score < best:
                    best, best_epoch = score, epoch
                    torch.save(model.state_dict(), run_dir / "best.pt")
                writer.writerow({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "val_acc": val_acc,
                                 "lr": optimizer.param_groups[0]["lr"], "checkpoint": run_dir / checkpoint})
                handle.flush()
        return {**history, "best_epoch": best_epoch}
    fit_logged.__name__ = fit_logged.__qualname__ = name
    return fit_logged


# -- correct shapes ---------------------------------------------------------------------
case(E)(logged("dict_writer_kept_open"))


@case(E)
def one_epoch_at_a_time_and_a_copy(model, train_loader, val_loader, loss_fn, optimizer, epochs, run_dir):
    """Lines written by hand, the best weights kept in memory as a copy and saved as they change."""
    folder = Path(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "config.json", "w") as handle:
        json.dump({"train": {"max_epochs": epochs, "learning_rate": optimizer.defaults["lr"]},
                   "random_seed": torch.initial_seed(), "versions": {"torch": torch.__version__}}, handle)
    (folder / "metrics.csv").write_text(",".join(FIELDS) + "\n")
    train_losses, val_losses, accuracies = [], [], []
    lowest, kept, best_epoch = float("inf"), None, None
    for epoch in range(1, epochs + 1):
        train_losses.append(_train(model, train_loader, loss_fn, optimizer))
        loss, accuracy = _validate(model, val_loader, loss_fn)
        val_losses.append(loss)
        accuracies.append(accuracy)
        if loss < lowest:
            lowest, best_epoch, kept = loss, epoch, copy.deepcopy(model.state_dict())
            torch.save(kept, folder / "best.pt")
        with open(folder / "metrics.csv", "a") as handle:
            handle.write(f"{epoch},{train_losses[-1]!r},{loss!r},{accuracy!r},{optimizer.param_groups[0]['lr']},"
                         f"{folder / 'best.pt'}\n")
    return {"train_loss": train_losses, "val_loss": val_losses, "val_acc": accuracies, "best_epoch": best_epoch}


# -- best-checkpoint-wrong ----------------------------------------------------------------
case(E, "best-checkpoint-wrong")(logged("best_accuracy_checkpointed", best_by="val_acc"))


@case(E, "best-checkpoint-wrong")
def last_weights_saved_as_best(model, train_loader, val_loader, loss_fn, optimizer, epochs, run_dir):
    """best.pt is overwritten every epoch: it holds the last weights, not the best."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps({"epochs": epochs, "lr": optimizer.param_groups[0]["lr"],
                                                     "seed": torch.initial_seed(), "torch": torch.__version__}))
    rows, history = [], {"train_loss": [], "val_loss": [], "val_acc": []}
    for epoch in range(1, epochs + 1):
        history["train_loss"].append(_train(model, train_loader, loss_fn, optimizer))
        val_loss, val_acc = _validate(model, val_loader, loss_fn)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        torch.save(model.state_dict(), run_dir / "best.pt")
        rows.append([epoch, history["train_loss"][-1], val_loss, val_acc, optimizer.param_groups[0]["lr"],
                     run_dir / "best.pt"])
        with open(run_dir / "metrics.csv", "w", newline="") as handle:
            csv.writer(handle).writerows([FIELDS, *rows])
    best_epoch = min(range(epochs), key=history["val_loss"].__getitem__) + 1
    return {**history, "best_epoch": best_epoch}


# -- metrics-log-wrong and config-missing ---------------------------------------------------
# numbered from 0, the returned best_epoch is one too small as well
case(E, "metrics-log-wrong", "best-checkpoint-wrong")(logged("epochs_numbered_from_0", first_epoch=0))
case(E, "metrics-log-wrong")(logged("checkpoint_column_names_last_pt", checkpoint="last.pt"))
case(E, "config-missing")(logged("config_without_the_seed", keys=("epochs", "lr", "torch_version")))
case(E, "config-missing")(logged("config_without_the_learning_rate", keys=("epochs", "seed", "torch_version")))


# -- fit's contract, inside a logged run (the files right, the training wrong) ---------------------
def _all_but_the_last_batch(model, loader, loss_fn, optimizer):
    """Meant as "the last batch is smaller, skip it": its examples are never trained on."""
    model.train()
    losses = []
    for index, (x, y) in enumerate(loader):
        if index == len(loader) - 1:
            break
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def _labels_one_batch_late(model, loader, loss_fn, optimizer):
    """Each batch's inputs trained against the labels of the batch before (the first pairs with itself)."""
    model.train()
    losses, previous = [], None
    for x, y in loader:
        labels = y if previous is None or len(previous) != len(y) else previous
        optimizer.zero_grad()
        loss = loss_fn(model(x), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        previous = y
    return sum(losses) / len(losses)


case(E, "skipped-training-data")(logged("skips_the_last_training_batch", train=_all_but_the_last_batch))
case(E, "labels-mismatched")(logged("labels_one_batch_late", train=_labels_one_batch_late))
