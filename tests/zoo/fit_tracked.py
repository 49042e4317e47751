"""fit_tracked(model, train_loader, val_loader, loss_fn, optimizer, epochs, run_dir, patience=None),
as learners write it.

Correct shapes first (csv.writer or DictWriter or pandas-free string lines, a state_dict
saved directly or a deep copy, the epoch saved as "done" or as "index", the random states
under names or in a list, the loader's generator itself pickled, Python's random state
saved too), then each tracking bug written two ways.
"""
import copy
import csv
import json
import os
import random
from pathlib import Path

import torch

from . import case
from .fit import _train_one_epoch as _train, _validate

E = "fit_tracked"
FIELDS = ["epoch", "train_loss", "val_loss", "val_acc", "lr", "checkpoint"]


def loader_state(loader):
    """The training loader's own generator's state (None when it shuffles from the global one)."""
    generator = getattr(loader, "generator", None)
    return None if generator is None else generator.get_state()


def tracked(name, *, reset_log=False, restore_rng=True, restore_optimizer=True, restore_best=True,
            restore_loader=True,
            save_last="every epoch", resume_epoch_offset=0, patience_offset=0,
            best_by="val_loss", config_keys=("epochs", "lr", "patience", "seed", "torch_version"), train=_train,
            lr_column=None, checkpoint_name="best.pt", rows_from=1, best_epoch_offset=0, save_best="state_dict",
            last_keys=("model", "optimizer", "epoch", "rng", "cuda_rng", "loader_rng", "best_loss", "best_epoch",
                       "since", "history")):
    """A fit_tracked with the chosen bugs switched on (the defaults are correct)."""
    def fit_tracked(model, train_loader, val_loader, loss_fn, optimizer, epochs, run_dir, patience=None):
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        last_path, best_path, log_path = run_dir / "last.pt", run_dir / "best.pt", run_dir / "metrics.csv"
        history = {"train_loss": [], "val_loss": [], "val_acc": []}
        start, best_loss, best_epoch, since, best_acc = 1, float("inf"), 0, 0, -1.0
        if last_path.exists():
            last = torch.load(last_path, weights_only=False)
            model.load_state_dict(last["model"])
            if restore_optimizer and "optimizer" in last:
                optimizer.load_state_dict(last["optimizer"])
            if restore_rng and "rng" in last:
                torch.set_rng_state(last["rng"])
                if torch.cuda.is_available() and "cuda_rng" in last:
                    torch.cuda.set_rng_state_all(last["cuda_rng"])
            if restore_loader and last.get("loader_rng") is not None:
                train_loader.generator.set_state(last["loader_rng"])
            if restore_best:
                best_loss, best_epoch, since = last["best_loss"], last["best_epoch"], last["since"]
            history = last["history"]
            start = last["epoch"] + 1 + resume_epoch_offset
        if reset_log or not log_path.exists():
            with log_path.open("w", newline="") as handle:
                csv.writer(handle).writerow(FIELDS)
        config = {"epochs": epochs, "lr": optimizer.param_groups[0]["lr"], "patience": patience,
                  "seed": torch.initial_seed(), "torch_version": torch.__version__}
        (run_dir / "config.json").write_text(json.dumps({k: config[k] for k in config_keys}))
        for epoch in range(start, epochs + 1):
            train_loss = train(model, train_loader, loss_fn, optimizer)
            val_loss, val_acc = _validate(model, val_loader, loss_fn)
            history["train_loss"].append(train_loss)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
            improved = val_loss < best_loss
            if improved:
                best_loss, best_epoch, since = val_loss, epoch, 0
            else:
                since += 1
            if best_by == "val_acc":
                improved_acc = val_acc > best_acc
                best_acc = max(best_acc, val_acc)
            if (improved if best_by == "val_loss" else improved_acc if best_by == "val_acc" else True):
                if save_best == "state_dict":
                    torch.save(model.state_dict(), best_path)
                elif save_best == "model":
                    torch.save(model, best_path)
            lr = optimizer.param_groups[0]["lr"] if lr_column is None else lr_column
            with log_path.open("a", newline="") as handle:
                csv.writer(handle).writerow([epoch - 1 + rows_from, train_loss, val_loss, val_acc, lr,
                                             run_dir / checkpoint_name])
            if save_last == "every epoch":
                last = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
                        "rng": torch.get_rng_state(),
                        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
                        "loader_rng": loader_state(train_loader), "best_loss": best_loss, "best_epoch": best_epoch,
                        "since": since, "history": history}
                torch.save({key: last[key] for key in last_keys}, last_path)
            if patience is not None and since >= patience + patience_offset:
                break
        if save_last == "at the end":
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epochs,
                        "rng": torch.get_rng_state(), "loader_rng": loader_state(train_loader),
                        "best_loss": best_loss, "best_epoch": best_epoch, "since": since, "history": history},
                       last_path)
        return {**history, "best_epoch": best_epoch + best_epoch_offset}
    fit_tracked.__name__ = fit_tracked.__qualname__ = name
    return fit_tracked


# -- correct shapes ---------------------------------------------------------------------
reference_shape = case(E)(tracked("csv_writer_and_state_dicts"))


@case(E)
def dict_writer_and_deep_copies(model, train_loader, val_loader, loss_fn, optimizer, epochs, run_dir,
                                patience=None):
    os.makedirs(run_dir, exist_ok=True)
    last_file = os.path.join(run_dir, "last.pt")
    state = {"epoch": 0, "best": None, "wait": 0,
             "history": {"train_loss": [], "val_loss": [], "val_acc": []}, "best_epoch": None}
    if os.path.exists(last_file):
        saved = torch.load(last_file, weights_only=False)
        model.load_state_dict(saved["model_state"])
        optimizer.load_state_dict(saved["optimizer_state"])
        torch.random.set_rng_state(saved["torch_rng"])
        random.setstate(saved["python_rng"])
        if saved["shuffler"] is not None:
            train_loader.generator.set_state(saved["shuffler"].get_state())
        state = saved["loop"]
    else:
        with open(os.path.join(run_dir, "config.json"), "w") as handle:
            json.dump({"hyperparameters": {"max_epochs": epochs, "learning_rate": optimizer.defaults["lr"],
                                           "patience": patience},
                       "seed": torch.initial_seed(), "versions": {"torch": torch.__version__}}, handle, indent=2)
        with open(os.path.join(run_dir, "metrics.csv"), "w", newline="") as handle:
            csv.DictWriter(handle, fieldnames=FIELDS + ["seconds"]).writeheader()
    epoch = state["epoch"]
    while epoch < epochs:
        epoch += 1
        model.train()
        losses = []
        for i, (inputs, targets) in enumerate(train_loader):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
            losses.append(float(loss))
        model.eval()
        with torch.inference_mode():
            hits = total = 0
            batch_losses = []
            for inputs, targets in val_loader:
                logits = model(inputs)
                batch_losses.append(loss_fn(logits, targets).item())
                hits += (logits.argmax(dim=1) == targets).sum().item()
                total += len(targets)
        val_loss = sum(batch_losses) / len(batch_losses)
        history = state["history"]
        history["train_loss"].append(sum(losses) / len(losses))
        history["val_loss"].append(val_loss)
        history["val_acc"].append(hits / total)
        if state["best"] is None or val_loss < state["best"]:
            state["best"], state["best_epoch"], state["wait"] = val_loss, epoch, 0
            torch.save(copy.deepcopy(model.state_dict()), os.path.join(run_dir, "best.pt"))
        else:
            state["wait"] += 1
        with open(os.path.join(run_dir, "metrics.csv"), "a", newline="") as handle:
            csv.DictWriter(handle, fieldnames=FIELDS + ["seconds"]).writerow(
                {"epoch": epoch, "train_loss": f"{history['train_loss'][-1]:.8f}", "val_loss": f"{val_loss:.8f}",
                 "val_acc": f"{hits / total:.6f}", "lr": optimizer.param_groups[0]["lr"],
                 "checkpoint": "best.pt", "seconds": 0.01})
        state["epoch"] = epoch
        torch.save({"model_state": model.state_dict(), "optimizer_state": optimizer.state_dict(),
                    "epoch": epoch, "torch_rng": torch.get_rng_state(), "python_rng": random.getstate(),
                    "shuffler": train_loader.generator, "loop": state}, last_file)
        if patience is not None and state["wait"] >= patience:
            break
    return {**state["history"], "best_epoch": state["best_epoch"]}


@case(E)
def epoch_index_saved_and_lines_by_hand(model, train_loader, val_loader, loss_fn, optimizer, epochs, run_dir,
                                        patience=None):
    """Saves the 0-based index of the last finished epoch, writes CSV lines with str.join."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    history, first, best, best_epoch, bad = {"train_loss": [], "val_loss": [], "val_acc": []}, 0, None, 0, 0
    if (run_dir / "last.pt").is_file():
        checkpoint = torch.load(run_dir / "last.pt", weights_only=True)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        cpu_state, shuffle_state = checkpoint["rng_states"]
        torch.set_rng_state(cpu_state)
        train_loader.generator.set_state(shuffle_state)
        first = checkpoint["epoch_index"] + 1
        best, best_epoch, bad = checkpoint["best"], checkpoint["best_epoch"], checkpoint["bad"]
        history = {k: list(v) for k, v in checkpoint["history"].items()}
    else:
        (run_dir / "metrics.csv").write_text(",".join(FIELDS) + "\n")
        (run_dir / "config.json").write_text(json.dumps(
            {"n_epochs": epochs, "optimizer": type(optimizer).__name__, "lr": optimizer.param_groups[0]["lr"],
             "random_seed": torch.initial_seed(), "torch": torch.__version__}))
    for index in range(first, epochs):
        train_loss = _train(model, train_loader, loss_fn, optimizer)
        val_loss, val_acc = _validate(model, val_loader, loss_fn)
        for key, value in zip(("train_loss", "val_loss", "val_acc"), (train_loss, val_loss, val_acc)):
            history[key].append(value)
        if best is None or val_loss < best:
            best, best_epoch, bad = val_loss, index + 1, 0
            torch.save(model.state_dict(), run_dir / "best.pt")
        else:
            bad += 1
        with (run_dir / "metrics.csv").open("a") as handle:
            handle.write(f"{index + 1},{train_loss!r},{val_loss!r},{val_acc!r},"
                         f"{optimizer.param_groups[0]['lr']},{(run_dir / 'best.pt').resolve()}\n")
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch_index": index,
                    "rng_states": [torch.get_rng_state(), train_loader.generator.get_state()], "best": best,
                    "best_epoch": best_epoch, "bad": bad,
                    "history": history}, run_dir / "last.pt")
        if patience and bad >= patience:
            break
    return dict(history, best_epoch=best_epoch)


# -- metrics-log-wrong ------------------------------------------------------------------
case(E, "metrics-log-wrong")(tracked("epochs_numbered_from_0", rows_from=0))  # epochs numbered from 0
case(E, "metrics-log-wrong")(tracked("made_up_lr", lr_column=0.5))  # a made-up learning rate
case(E, "metrics-log-wrong")(tracked("checkpoint_column_names_another_file", checkpoint_name="model.pt"))

# -- config-missing -----------------------------------------------------------------------
case(E, "config-missing")(tracked("config_without_seed_or_version", config_keys=("epochs", "lr", "patience")))
case(E, "config-missing")(tracked("config_without_hyperparameters", config_keys=("seed", "torch_version")))

# -- best-checkpoint-wrong ----------------------------------------------------------------
case(E, "best-checkpoint-wrong")(tracked("best_saved_every_epoch", best_by="always"))
case(E, "best-checkpoint-wrong")(tracked("best_epoch_from_0", best_epoch_offset=-1))  # a 0-based best_epoch
case(E, "best-checkpoint-wrong")(tracked("best_model_pickled", save_best="model"))  # the whole model pickled
# the epoch of the best accuracy is not the epoch of the lowest validation loss, on both fixtures
case(E, "best-checkpoint-wrong")(tracked("best_accuracy_checkpointed", best_by="val_acc"))

# -- last-checkpoint-wrong and resume-differs ---------------------------------------------
case(E, "resume-differs")(tracked("rng_not_restored", restore_rng=False))
case(E, "resume-differs")(tracked("optimizer_not_restored", restore_optimizer=False))
case(E, "resume-differs")(tracked("log_started_again", reset_log=True))  # the rows before the stop are lost
case(E, "resume-differs")(tracked("last_saved_only_at_the_end", save_last="at the end"))
case(E, "resume-differs")(tracked("skips_an_epoch_on_resume", resume_epoch_offset=1))
case(E, "resume-differs")(tracked("best_so_far_forgotten", restore_best=False))
case(E, "resume-differs")(tracked("loader_order_not_restored", restore_loader=False))  # saved, never set back


case(E, "last-checkpoint-wrong", "resume-differs")(
    tracked("last_without_random_state", last_keys=("model", "optimizer", "epoch", "loader_rng", "best_loss",
                                                    "best_epoch", "since", "history")))
case(E, "last-checkpoint-wrong", "resume-differs")(
    tracked("last_without_loader_generator", last_keys=("model", "optimizer", "epoch", "rng", "cuda_rng", "best_loss",
                                                        "best_epoch", "since", "history")))
case(E, "last-checkpoint-wrong", "resume-differs")(
    tracked("last_without_optimizer", last_keys=("model", "epoch", "rng", "cuda_rng", "loader_rng", "best_loss",
                                                 "best_epoch", "since", "history")))


# -- early-stopping-wrong -----------------------------------------------------------------
case(E, "early-stopping-wrong")(tracked("one_epoch_too_patient", patience_offset=1))  # one epoch too patient
case(E, "early-stopping-wrong")(tracked("one_epoch_too_eager", patience_offset=-1))  # one epoch too eager
case(E, "early-stopping-wrong")(tracked("patience_ignored", patience_offset=100))  # never stops early


# -- fit's contract, inside a tracked run (the files and the resume right, the training wrong) ------
def _ascends(model, loader, loss_fn, optimizer):
    """backward() on the negated loss (a sign copied from a reward): every step goes uphill."""
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        (-loss).backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def _every_batch_twice(model, loader, loss_fn, optimizer):
    """Two updates on each batch, "to learn faster": each example is trained on twice an epoch."""
    model.train()
    losses = []
    for x, y in loader:
        for repeat in range(2):
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            if repeat == 0:
                losses.append(loss.item())  # the batch's loss, as first measured
    return sum(losses) / len(losses)


case(E, "update-climbs")(tracked("climbs_the_loss", train=_ascends))
case(E, "repeated-training-data", "wrong-step-count")(tracked("trains_every_batch_twice", train=_every_batch_twice))
