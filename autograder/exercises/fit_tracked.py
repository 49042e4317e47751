"""Phase 6, `fit_tracked(model, train_loader, val_loader, loss_fn, optimizer, epochs, run_dir, patience=None)`.

`fit`, plus the files that make a run trustworthy later: `metrics.csv` (a row per epoch:
epoch, train_loss, val_loss, val_acc, lr, checkpoint), `config.json` (hyperparameters,
seed, torch version), `best.pt` (the state_dict of the lowest validation loss) and
`last.pt` (model, optimizer, epoch, random state). It resumes from `last.pt` when that
exists, stops after `patience` epochs without a lower validation loss, and returns the
`fit` dict plus "best_epoch".

The first run is judged exactly as `fit` is (its fixtures and checks), and its folder
is read. Then `follow_up` calls the function again, each time on fresh fixtures built
from the same seed, as a new process would find them:

1. a run whose training loader raises `RunInterrupted` part-way through epoch
   `stop_epoch`, the way a killed job stops;
2. the same call again in that run_dir: it must pick up from last.pt, train only the
   epochs left, and leave a metrics.csv equal to the uninterrupted run's, with a best.pt
   that still holds the lowest validation loss;
3. a run with `patience`, which must stop where the uninterrupted run's validation
   losses say it should.
"""
import copy
import numbers
import shutil
import tempfile
import weakref
from pathlib import Path

import torch

from autograder.diagnoses import diagnosis
from autograder.exercises.fit import KEYS, Fit
from autograder.exercises.run_folder import (NUMBERS, is_state_dict_of, leaves, load_checkpoint, mappings,
                                             names_best_checkpoint, read_config, read_metrics)
from autograder.inspector.guard import run_guarded
from autograder.inspector.values import as_float, describe
from autograder.inspector.words import count


class RunInterrupted(BaseException):
    """Raised by the training loader to stop a run part-way (a BaseException, so an
    `except Exception:` in learner code lets it through, as it would a killed job)."""


class _Interrupting:
    """A collate function that raises RunInterrupted once `batches` batches of training
    epoch `epoch` (counted from 1) have been handed out, and on every batch after that."""

    def __init__(self, collate, book, epoch: int, batches: int):
        self.collate, self.book, self.epoch, self.batches = collate, book, epoch, batches
        self.pass_seen, self.handed = 0, 0

    def __call__(self, samples):
        passes = self.book.passes("train")
        if passes != self.pass_seen:
            self.pass_seen, self.handed = passes, 0
        if passes > self.epoch or (passes == self.epoch and self.handed >= self.batches):
            raise RunInterrupted(f"stopped in epoch {self.epoch} after {self.batches} batches")
        self.handed += 1
        return self.collate(samples)


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


def stop_after(val_losses: list[float], patience: int) -> int | None:
    """The epoch (from 1) after which early stopping with `patience` ends the run, if any."""
    best, since = float("inf"), 0
    for epoch, loss in enumerate(val_losses, start=1):
        if loss < best:
            best, since = loss, 0
        else:
            since += 1
            if since >= patience:
                return epoch
    return None


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


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _close(a: float, b: float, slack: float = 0.0) -> bool:
    return abs(a - b) <= slack + 1e-5 * max(abs(a), abs(b), 1e-8)


def _outcome_words(outcome) -> str:
    if outcome.timed_out:
        return "ran out of time"
    if outcome.error is not None:
        return f"raised {type(outcome.error).__name__}: {outcome.error}"
    return "returned normally"


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
    if not (_close(weighted, lowest) or _close(plain, lowest)):
        return (f"The weights in best.pt measure a validation loss of {weighted:.6g}, but the lowest "
                f"logged validation loss is {lowest:.6g}, at epoch {best_epoch}: save `model.state_dict()` "
                f"to best.pt in the epoch whose validation loss is lower than every earlier one.")
    return ""


class FitTracked(Fit):
    name = "fit_tracked"
    phase = "06_classifier"
    function_name = "fit_tracked"
    signature = ("fit_tracked(model, train_loader, val_loader, loss_fn, optimizer, epochs, run_dir, "
                 "patience=None) -> dict")
    concerns = (*Fit.concerns, "tracking")
    # Dropout and momentum on the public fixture too: a resume that forgets the random state
    # or the optimizer's state gives a different curve, not the same one by luck.
    public = dict(Fit.public, epochs=4, optimizer="momentum", dropout=0.2, stop_epoch=3, stop_batch=2,
                  patience=2)
    hidden = dict(Fit.hidden, epochs=5, stop_epoch=4, stop_batch=1, patience=2)

    def build(self, params):
        fixture = super().build(params)
        folder = Path(tempfile.mkdtemp(prefix="fit_tracked-"))
        weakref.finalize(fixture, shutil.rmtree, folder, True)
        run_dir = folder / "run"  # not there yet: the function makes it
        lrs = []  # the learning rate of every optimizer step, in order
        fixture.optimizer.register_step_pre_hook(lambda opt, args, kwargs: lrs.append(opt.param_groups[0]["lr"]))
        fixture.args = (*fixture.args, run_dir)  # patience left at the function's default
        fixture.extra.update(run_dir=run_dir, lrs=lrs)
        return fixture

    # -- the first run: fit's checks, then the folder ------------------------------------------
    def judge(self, trace, result, fixture):
        epochs = fixture.params["epochs"]
        found = super().judge(trace, result, fixture)
        history = history_of(result, epochs)
        found += self.check_metrics(fixture, history, epochs)
        found += self.check_config(fixture)
        found += self.check_best(fixture, result, history)
        found += self.check_last(fixture)
        return found

    def check_metrics(self, fixture, history, epochs) -> list:
        run_dir, batches = fixture.extra["run_dir"], fixture.extra["batches"]
        rows, problem = read_metrics(run_dir)
        if rows is None:
            return [diagnosis("metrics-log-wrong", f"After a run of {count(epochs, 'epoch')}, {problem}.")]
        numbers = [row.epoch for row in rows]
        if numbers != list(range(1, epochs + 1)):
            return [diagnosis("metrics-log-wrong",
                              f"After a run of {count(epochs, 'epoch')}, metrics.csv numbers its rows "
                              f"{numbers}; one row per epoch, numbered 1 to {epochs}, was expected.")]
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
                any("seed" in key.lower() and _is_int(v) for key, v in pairs),
            f"the torch version ({torch.__version__!r})": any(v == torch.__version__ for _, v in pairs),
            f"the learning rate ({params['lr']:g})":
                any(as_float(v) is not None and _close(as_float(v), params["lr"]) for _, v in pairs),
            f"the number of epochs ({params['epochs']}, under a key with 'epoch' in its name)":
                any("epoch" in key.lower() and _is_int(v) and v == params["epochs"] for key, v in pairs),
        }
        missing = [what for what, there in wanted.items() if not there]
        if missing:
            return [diagnosis("config-missing",
                              f"After a run of {count(params['epochs'], 'epoch')}, config.json holds the keys "
                              f"{sorted(config)[:12]} but not {'; '.join(missing)}.")]
        return []

    def check_best(self, fixture, result, history) -> list:
        run_dir, params = fixture.extra["run_dir"], fixture.params
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
        if not _is_int(returned) or returned != best_epoch:
            shown = returned if _is_int(returned) else describe(returned)
            return [diagnosis("best-checkpoint-wrong",
                              f"The returned \"best_epoch\" is {shown}, but the lowest validation loss, "
                              f"{losses[best_epoch - 1]:.6g}, came at epoch {best_epoch} (epochs counted from 1).")]
        return []

    def check_last(self, fixture) -> list:
        run_dir, params, model = fixture.extra["run_dir"], fixture.params, fixture.model
        state, problem = load_checkpoint(Path(run_dir) / "last.pt", params["device"], weights_only=False)
        if state is None:
            return [diagnosis("last-checkpoint-wrong", f"After a run of {count(params['epochs'], 'epoch')}, "
                                                       f"{problem}.")]
        if not isinstance(state, dict):
            return [diagnosis("last-checkpoint-wrong",
                              f"After a run of {count(params['epochs'], 'epoch')}, last.pt holds {describe(state)}; "
                              f"it should be a dict with the model's and the optimizer's state_dicts, the epoch "
                              f"and the random state.")]
        nested = list(mappings(state))
        rng_size = torch.get_rng_state().numel()
        epochs = params["epochs"]
        lacking = [what for what, there in {
            "the model's state_dict": any(is_state_dict_of(d, model) for d in nested),
            "the optimizer's state_dict": any({"state", "param_groups"} <= set(d) for d in nested),
            f"the epoch ({epochs} after {count(epochs, 'epoch')})":
                any("epoch" in str(k).lower() and _is_int(v) and epochs - 1 <= v <= epochs + 1
                    for d in nested for k, v in d.items()),
            "the random state (`torch.get_rng_state()`)":
                any(isinstance(v, torch.Tensor) and v.dtype == torch.uint8 and v.numel() == rng_size
                    for _, v in leaves(state)),
        }.items() if not there]
        if lacking:
            return [diagnosis("last-checkpoint-wrong",
                              f"After a run of {count(params['epochs'], 'epoch')}, last.pt holds the keys "
                              f"{sorted(map(str, state))[:10]} but not {'; '.join(lacking)}, so the run cannot be "
                              f"resumed exactly from it.")]
        return []

    # -- the follow-up runs: stopped part-way and resumed; early stopping --------------------
    def follow_up(self, function, fixture, result, time_limit):
        params = fixture.params
        uninterrupted, _ = read_metrics(fixture.extra["run_dir"])
        if not uninterrupted or len(uninterrupted) != params["epochs"]:
            return []  # the first run's log is already diagnosed; nothing to compare with
        history = history_of(result, params["epochs"])
        val_losses = history["val_loss"] if history else [row.values["val_loss"] for row in uninterrupted]
        return (self.check_resume(function, fixture, uninterrupted, val_losses, time_limit)
                + self.check_early_stopping(function, params, val_losses, time_limit))

    def check_resume(self, function, first, uninterrupted, val_losses, time_limit) -> list:
        params = first.params
        epochs, stop_epoch, stop_batch = params["epochs"], params["stop_epoch"], params["stop_batch"]
        stopped = self.build(params)
        train = stopped.args[1]
        train.collate_fn = _Interrupting(train.collate_fn, stopped.book, stop_epoch, stop_batch)
        where = (f"the run was stopped part-way (its training loader raised RunInterrupted in epoch "
                 f"{stop_epoch} of {epochs}, after {count(stop_batch, 'batch')})")
        outcome = run_guarded(function, stopped.args, time_limit, seed=params["seed"])
        if not isinstance(outcome.error, RunInterrupted):
            return [diagnosis("resume-differs", f"To test resuming, {where}, but your function "
                                                f"{_outcome_words(outcome)} instead of stopping there.")]
        run_dir = stopped.extra["run_dir"]
        resumed = self.build(params)
        resumed.args = (*resumed.args[:-1], run_dir)
        outcome = run_guarded(function, resumed.args, time_limit, seed=params["seed"])
        if outcome.error is not None or outcome.timed_out:
            return [diagnosis("resume-differs", f"After {where}, calling your function again with the same "
                                                f"run_dir {_outcome_words(outcome)}.")]
        batches, steps = resumed.extra["batches"], len(resumed.extra["lrs"])
        left = epochs - stop_epoch + 1
        if steps != left * batches:
            return [diagnosis(
                "resume-differs",
                f"After {where}, last.pt held {count(stop_epoch - 1, 'finished epoch')}, so resuming had "
                f"{count(left, 'epoch')} of {count(batches, 'batch')} left ({left * batches} optimizer steps); "
                f"the resumed call made {steps}.")]
        rows, problem = read_metrics(run_dir)
        if rows is None:
            return [diagnosis("resume-differs", f"After {where} and resumed, {problem}.")]
        difference = _first_difference(rows, uninterrupted)
        if difference:
            return [diagnosis("resume-differs", f"After {where} and resumed, {difference}.")]
        best_epoch = min(range(epochs), key=val_losses.__getitem__) + 1
        lowest = val_losses[best_epoch - 1]
        if best_reproduces(first, first.extra["run_dir"], lowest, best_epoch):
            return []  # best.pt was wrong without any resuming: diagnosed already
        problem = best_reproduces(resumed, run_dir, lowest, best_epoch)
        if problem:
            return [diagnosis("resume-differs", f"After {where} and resumed: {problem} (keep the best "
                                                f"validation loss so far in last.pt too)")]
        return []

    def check_early_stopping(self, function, params, val_losses, time_limit) -> list:
        epochs = params["epochs"]
        chosen = next(((p, stop_after(val_losses, p)) for p in range(params["patience"], 0, -1)
                       if (stop_after(val_losses, p) or epochs) < epochs), None)
        if chosen is None:
            return []  # the validation loss fell every epoch on these fixtures: nothing to stop
        patience, stop = chosen
        run = self.build(params)
        run.args = (*run.args, patience)
        outcome = run_guarded(function, run.args, time_limit, seed=params["seed"])
        best = min(range(stop), key=val_losses.__getitem__) + 1
        should = (f"With patience={patience}, the lowest validation loss came at epoch {best} "
                  f"({val_losses[best - 1]:.6g}) and the {count(stop - best, 'epoch')} after it brought no "
                  f"lower one, so the run should stop after epoch {stop} of {epochs}")
        if outcome.error is not None or outcome.timed_out:
            return [diagnosis("early-stopping-wrong", f"{should}; your function {_outcome_words(outcome)}.")]
        batches, steps = run.extra["batches"], len(run.extra["lrs"])
        rows, _ = read_metrics(run.extra["run_dir"])
        returned = outcome.result.get("val_loss") if isinstance(outcome.result, dict) else None
        lengths = {"optimizer steps": (steps, stop * batches)}
        if rows is not None:
            lengths["rows in metrics.csv"] = (len(rows), stop)
        if isinstance(returned, (list, tuple)):
            lengths["returned validation losses"] = (len(returned), stop)
        wrong = [f"{got} {what} (not {want})" for what, (got, want) in lengths.items() if got != want]
        if wrong:
            return [diagnosis("early-stopping-wrong", f"{should}; your run made {', '.join(wrong)}.")]
        return []


def _first_difference(rows, uninterrupted) -> str:
    """'' when the resumed log holds the uninterrupted run's numbers; else the first difference."""
    got, want = [row.epoch for row in rows], [row.epoch for row in uninterrupted]
    if got != want:
        return f"metrics.csv numbers its rows {got}, where the uninterrupted run wrote {want}"
    for row, same in zip(rows, uninterrupted):
        for column in NUMBERS:
            if not row.matches(column, same.values[column]) and not same.matches(column, row.values[column]):
                return (f"epoch {row.epoch}'s {column} is {row.values[column]:.6g}, where the uninterrupted run "
                        f"logged {same.values[column]:.6g}")
    return ""
