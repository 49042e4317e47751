"""Phase 6, `fit_logged(model, train_loader, val_loader, loss_fn, optimizer, epochs, run_dir) -> dict`.

The first half of a tracked run: `fit`, plus the files that say afterwards what happened
and what was run, and keep the best weights: `metrics.csv` (a row per epoch: epoch,
train_loss, val_loss, val_acc, lr, checkpoint), `config.json` (hyperparameters, seed,
torch version) and `best.pt` (the state_dict of the epoch with the lowest validation
loss). Returns the `fit` dict plus "best_epoch". `fit_tracked` adds resuming and early
stopping on top (autograder/exercises/fit_tracked.py).

The run is judged exactly as `fit` is (its checks), then its folder is read, without
trusting any file (autograder/exercises/run_folder.py). The training loader shuffles with
a generator of its own, as real training loaders do, so that a resumed `fit_tracked` has a
loader whose order must be picked up too. The fixtures are chosen so that every clause
shows: the validation loss is lowest in an epoch that is neither the first nor the last,
and the best accuracy comes in another epoch, so a checkpoint of the best accuracy fails
(tests/test_phase6_fit_tracked.py holds the fixtures to this).
"""
import copy
import numbers
import shutil
import tempfile
import weakref
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Sampler

from autograder.diagnoses import Lesson, Section, diagnosis
from autograder.exercises.fit import KEYS, Fit, fit
from autograder.exercises.fixtures import classification_data, recording_loader
from autograder.exercises.run_folder import (is_state_dict_of, leaves, load_checkpoint, names_best_checkpoint,
                                             read_config, read_metrics)
from autograder.inspector.values import as_float, describe
from autograder.inspector.words import count

# What the two tracked exercises' fixtures share: fit's, with a learning run of a few epochs whose
# validation loss and accuracy disagree about the best epoch (and, with dropout and momentum or Adam,
# a random state and an optimizer state that a resume must restore).
PUBLIC = dict(Fit.public, seed=10, epochs=5, optimizer="momentum", lr=0.2, dropout=0.2)
HIDDEN = dict(Fit.hidden, seed=106, epochs=6, lr=0.05)


class _ShuffledPasses(Sampler):
    """A new order of 0..n-1 for every pass, drawn from the loader's own generator; tells the book
    each time a pass begins (as the fixture's in-order sampler does)."""

    def __init__(self, size: int, book, split: str, generator: torch.Generator):
        self.size, self.book, self.split, self.generator = size, book, split, generator

    def __iter__(self):
        self.book.new_pass(self.split)
        return iter(torch.randperm(self.size, generator=self.generator).tolist())

    def __len__(self):
        return self.size


def learnable_loaders(params: dict, book) -> tuple[DataLoader, DataLoader]:
    """Training and validation loaders over one labelling rule (so that validation can improve and then
    get worse), the training loader shuffling every epoch with its own seeded generator
    (`loader.generator`, as `DataLoader(..., shuffle=True, generator=g)` has)."""
    n, device = params["samples"], params["device"]
    x, y = classification_data(params["seed"], n + params["val_samples"], params["features"], params["classes"])
    val = recording_loader(x[n:], y[n:], params["batch_size"], book, "val", device)
    sized = recording_loader(x[:n], y[:n], params["batch_size"], book, "train", device)
    generator = torch.Generator().manual_seed(params["seed"] + 2)
    train = DataLoader(sized.dataset, batch_size=sized.batch_size, collate_fn=sized.collate_fn,
                       sampler=_ShuffledPasses(n, book, "train", generator), generator=generator)
    return train, val


def history_of(result, epochs: int) -> dict | None:
    """The returned lists as floats when they are all there, one per epoch; else None."""
    if not isinstance(result, dict) or any(key not in result for key in KEYS):
        return None
    lists = {}
    for key in KEYS:
        values = result[key]
        if not isinstance(values, (list, tuple)) or len(values) != epochs:
            return None
        floats = [as_float(v) for v in values]
        if None in floats:
            return None
        lists[key] = floats
    return lists


def measure(model, loader, loss_fn, device) -> tuple[float, float]:
    """(mean loss per example, mean of batch losses) of `model` on `loader`, in eval mode."""
    model.eval()
    total, batch_means, seen = 0.0, [], 0
    with torch.no_grad():
        for x, y in loader:
            loss = loss_fn(model(x.to(device)), y.to(device)).item()
            total += loss * len(y)
            batch_means.append(loss)
            seen += len(y)
    return total / seen, sum(batch_means) / len(batch_means)


def is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def close(a: float, b: float, slack: float = 0.0) -> bool:
    return abs(a - b) <= slack + 1e-5 * max(abs(a), abs(b), 1e-8)


def best_reproduces(fixture, run_dir, lowest: float, best_epoch: int) -> str:
    """'' when run_dir/best.pt, loaded into a copy of the fixture's model, measures `lowest`
    on the fixture's validation data; else what went wrong."""
    device = fixture.params["device"]
    model = copy.deepcopy(fixture.model)  # the architecture; load_state_dict replaces every weight
    state, problem = load_checkpoint(Path(run_dir) / "best.pt", device)
    lowest_came = f"The lowest validation loss, {lowest:.6g}, came at epoch {best_epoch}, but"
    if state is None:
        return f"{lowest_came} {problem}: save `model.state_dict()` there."
    if not is_state_dict_of(state, model):
        return (f"{lowest_came} best.pt holds {describe(state)}, not the model's state_dict (names "
                f"{sorted(model.state_dict())[:4]}...): save `model.state_dict()`.")
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        return f"{lowest_came} best.pt does not load into the model: {str(error).splitlines()[0]}."
    weighted, plain = measure(model, fixture.args[2], fixture.loss_fn, device)
    if not (close(weighted, lowest) or close(plain, lowest)):
        return (f"The weights in best.pt measure a validation loss of {weighted:.6g}, but the lowest "
                f"logged validation loss is {lowest:.6g}, at epoch {best_epoch}: save `model.state_dict()` "
                f"to best.pt in the epoch whose validation loss is lower than every earlier one.")
    return ""


def fit_untracked(model, train_loader, val_loader, loss_fn, optimizer, epochs, run_dir, patience=None):
    """The loss curve a correct run draws (for the feedback page): `fit`, leaving the folder alone."""
    return fit(model, train_loader, val_loader, loss_fn, optimizer, epochs)


class FitLogged(Fit):
    name = "fit_logged"
    reference = staticmethod(fit_untracked)
    phase = "06_classifier"
    function_name = "fit_logged"
    signature = "fit_logged(model, train_loader, val_loader, loss_fn, optimizer, epochs, run_dir) -> dict"
    concerns = (*Fit.concerns, "tracking")
    public, hidden = PUBLIC, HIDDEN
    lessons = {  # no patience yet: that comes with fit_tracked
        "config-missing": Lesson(Section("06_classifier", "The run's config"), (
            "Before training, `json.dump` to `run_dir / \"config.json\"` the hyperparameters (epochs, learning "
            "rate), the seed (`torch.initial_seed()`) and `torch.__version__`.")),
    }

    def build(self, params):
        fixture = super().build(params)
        model, _, _, loss_fn, optimizer, epochs = fixture.args
        train, val = learnable_loaders(params, fixture.book)
        fixture.args = (model, train, val, loss_fn, optimizer, epochs)
        fixture.extra.update(batches=len(train), val_batches=len(val))
        folder = Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        weakref.finalize(fixture, shutil.rmtree, folder, True)
        run_dir = folder / "run"  # not there yet: the function makes it
        lrs = []  # the learning rate of every optimizer step, in order
        fixture.optimizer.register_step_pre_hook(lambda opt, args, kwargs: lrs.append(opt.param_groups[0]["lr"]))
        fixture.args = (*fixture.args, run_dir)
        fixture.extra.update(run_dir=run_dir, lrs=lrs)
        return fixture

    def judge(self, trace, result, fixture):
        epochs = fixture.params["epochs"]
        found = super().judge(trace, result, fixture)
        history = history_of(result, epochs)
        found += self.check_metrics(fixture, history, epochs)
        found += self.check_config(fixture)
        found += self.check_best(fixture, result, history)
        return found

    def check_metrics(self, fixture, history, epochs) -> list:
        run_dir, batches = fixture.extra["run_dir"], fixture.extra["batches"]
        rows, problem = read_metrics(run_dir)
        if rows is None:
            return [diagnosis("metrics-log-wrong", f"After a run of {count(epochs, 'epoch')}, {problem}.")]
        numbers_ = [row.epoch for row in rows]
        if numbers_ != list(range(1, epochs + 1)):
            return [diagnosis("metrics-log-wrong",
                              f"After a run of {count(epochs, 'epoch')}, metrics.csv numbers its rows "
                              f"{numbers_}; one row per epoch, numbered 1 to {epochs}, was expected.")]
        if history is not None:
            for row, epoch in zip(rows, range(epochs)):
                for column in ("train_loss", "val_loss", "val_acc"):
                    if not row.matches(column, history[column][epoch]):
                        return [diagnosis(
                            "metrics-log-wrong",
                            f"Row {row.epoch} of metrics.csv has {column} = {row.values[column]:.6g}, but your "
                            f"function returned {history[column][epoch]:.6g} for epoch {row.epoch}: the log "
                            f"and the returned history must hold the same numbers.")]
        lrs = fixture.extra["lrs"]
        for index, row in enumerate(rows):
            used = set(lrs[index * batches:(index + 2) * batches])  # this epoch's, or after its scheduler step
            if index == len(rows) - 1:
                used.add(fixture.optimizer.param_groups[0]["lr"])
            if used and not any(row.matches("lr", lr) for lr in used):
                return [diagnosis(
                    "metrics-log-wrong",
                    f"Row {row.epoch} of metrics.csv has lr = {row.values['lr']:.6g}, but the optimizer "
                    f"stepped with lr = {', '.join(f'{lr:.6g}' for lr in sorted(used))} in that epoch: log "
                    f"`optimizer.param_groups[0][\"lr\"]`.")]
        for row in rows:
            if not names_best_checkpoint(row.checkpoint, run_dir):
                return [diagnosis(
                    "metrics-log-wrong",
                    f"Row {row.epoch} of metrics.csv has checkpoint = {row.checkpoint!r}, which does not "
                    f"name the best checkpoint, run_dir / \"best.pt\" ({run_dir / 'best.pt'}).")]
        return []

    def check_config(self, fixture) -> list:
        config, problem = read_config(fixture.extra["run_dir"])
        if config is None:
            return [diagnosis("config-missing", f"After the run, {problem}.")]
        pairs = list(leaves(config))
        params = fixture.params
        wanted = {
            "the seed (an int under a key with 'seed' in its name)":
                any("seed" in key.lower() and is_int(v) for key, v in pairs),
            f"the torch version ({torch.__version__!r})": any(v == torch.__version__ for _, v in pairs),
            f"the learning rate ({params['lr']:g})":
                any(as_float(v) is not None and close(as_float(v), params["lr"]) for _, v in pairs),
            f"the number of epochs ({params['epochs']}, under a key with 'epoch' in its name)":
                any("epoch" in key.lower() and is_int(v) and v == params["epochs"] for key, v in pairs),
        }
        missing = [what for what, there in wanted.items() if not there]
        if missing:
            return [diagnosis("config-missing",
                              f"After a run of {count(params['epochs'], 'epoch')}, config.json holds the keys "
                              f"{sorted(config)[:12]} but not {'; '.join(missing)}.")]
        return []

    def check_best(self, fixture, result, history) -> list:
        run_dir = fixture.extra["run_dir"]
        losses = history["val_loss"] if history else None
        if losses is None:
            rows, _ = read_metrics(run_dir)
            losses = [row.values["val_loss"] for row in rows] if rows else None
        if not losses:
            return []  # nothing logged to compare the checkpoint with; already diagnosed
        best_epoch = min(range(len(losses)), key=losses.__getitem__) + 1
        problem = best_reproduces(fixture, run_dir, losses[best_epoch - 1], best_epoch)
        if problem:
            return [diagnosis("best-checkpoint-wrong", problem)]
        returned = result.get("best_epoch") if isinstance(result, dict) else None
        if not is_int(returned) or returned != best_epoch:
            shown = returned if is_int(returned) else describe(returned)
            return [diagnosis("best-checkpoint-wrong",
                              f"The returned \"best_epoch\" is {shown}, but the lowest validation loss, "
                              f"{losses[best_epoch - 1]:.6g}, came at epoch {best_epoch} (epochs counted from 1).")]
        return []
