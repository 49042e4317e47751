"""Phase 6, `fit_tracked(model, train_loader, val_loader, loss_fn, optimizer, epochs, run_dir, patience=None)`.

`fit_logged` (metrics.csv, config.json, best.pt), plus what lets a stopped run go on as if
it had never stopped, and a run stop when it no longer improves: `last.pt` (model,
optimizer, epoch, what the loop counts, and every random state the run draws from), a
resume from it when it exists, and a stop after `patience` epochs without a lower
validation loss. Returns the `fit` dict plus "best_epoch".

Every random state, because a resume is exact only if each generator the run draws from
picks up where it was: the global CPU generator (`torch.get_rng_state()`: dropout on a
CPU, a loader without a generator of its own), each CUDA device's generator when CUDA is
available (`torch.cuda.get_rng_state_all()`: dropout on a GPU draws from it, not from the
CPU's), and the training loader's own generator (`train_loader.generator`: the order of
the batches). The fixtures' training loader has one, so forgetting it shows on any machine;
tests/test_phase6_fit_tracked.py stands a simulated CUDA generator in for a GPU's.

The first run is judged exactly as `fit_logged` is, and last.pt is read. Then `follow_up`
calls the function again, each time on fresh fixtures built from the same seed, as a new
process would find them:

1. a run whose training loader raises `RunInterrupted` part-way through epoch
   `stop_epoch`, the way a killed job stops;
2. the same call again in that run_dir: it must pick up from last.pt, train only the
   epochs left, and leave a metrics.csv equal to the uninterrupted run's, with a best.pt
   that still holds the lowest validation loss;
3. a run with `patience`, which must stop where the uninterrupted run's validation
   losses say it should.
"""
import torch

from autograder.diagnoses import Lesson, Section, diagnosis
from autograder.exercises.fit_logged import FitLogged, best_reproduces, fit_untracked, history_of, is_int
from autograder.exercises.run_folder import NUMBERS, is_state_dict_of, leaves, load_checkpoint, mappings, read_metrics
from autograder.inspector.guard import run_guarded
from autograder.inspector.values import describe
from autograder.inspector.words import count

_RESUMING = Section("06_classifier", "Resuming a run")
SAVE_STATES = ("`torch.get_rng_state()`, `torch.cuda.get_rng_state_all()` when `torch.cuda.is_available()`, and "
               "`train_loader.generator.get_state()` when the loader has a generator of its own")


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


def steps_per_epoch(first) -> int:
    """The optimizer steps an epoch makes in the uninterrupted run, when every epoch made as many
    (else one per training batch): what a resumed or early-stopped run is counted against, so that a
    loop that steps wrongly in every epoch, diagnosed by fit's checks, is not blamed here again."""
    steps, epochs = len(first.extra["lrs"]), first.params["epochs"]
    return steps // epochs if steps and steps % epochs == 0 else first.extra["batches"]


def random_states(train_loader) -> list[tuple[str, torch.Tensor]]:
    """(how to get it, the state now) for every generator a run of `train_loader` may draw from."""
    states = [("`torch.get_rng_state()`", torch.get_rng_state())]
    if torch.cuda.is_available():
        states += [("`torch.cuda.get_rng_state_all()`", state) for state in torch.cuda.get_rng_state_all()]
    generator = getattr(train_loader, "generator", None)
    if generator is not None:
        states.append(("`train_loader.generator.get_state()`", generator.get_state()))
    return states


def missing_states(saved, train_loader) -> list[str]:
    """Which random states `saved` (last.pt) lacks. A state counts where last.pt holds a uint8 tensor of
    its size (or the generator itself). The loader's is looked for by its value first, the CPU's
    having the same size, so that a missing one is named as the one that is missing."""
    held = [v.get_state() if isinstance(v, torch.Generator) else v for _, v in leaves(saved)
            if isinstance(v, torch.Generator) or (isinstance(v, torch.Tensor) and v.dtype == torch.uint8)]
    wanted = random_states(train_loader)
    loader = [(name, state) for name, state in wanted if "loader" in name]
    found = {}
    for name, state in loader:
        same = next((i for i, h in enumerate(held) if torch.equal(h.cpu(), state.cpu())), None)
        if same is not None:
            found[name] = held.pop(same)
    lacking = []
    for name, state in [pair for pair in wanted if "loader" not in pair[0]] + loader:
        if name in found:
            continue
        same = next((i for i, h in enumerate(held) if h.numel() == state.numel()), None)
        if same is None:
            lacking.append(name)
        else:
            held.pop(same)
    devices = lacking.count("`torch.cuda.get_rng_state_all()`")
    lacking = list(dict.fromkeys(lacking))  # one name per kind of state
    if devices:
        index = lacking.index("`torch.cuda.get_rng_state_all()`")
        lacking[index] += f" ({count(devices, 'CUDA device')})"
    return lacking


class FitTracked(FitLogged):
    name = "fit_tracked"
    function_name = "fit_tracked"
    reference = staticmethod(fit_untracked)
    signature = ("fit_tracked(model, train_loader, val_loader, loss_fn, optimizer, epochs, run_dir, "
                 "patience=None) -> dict")
    # Dropout, a shuffling loader and momentum (public) or Adam (hidden): a resume that forgets a random
    # state or the optimizer's state gives a different curve, not the same one by luck.
    public = dict(FitLogged.public, stop_epoch=3, stop_batch=2, patience=2)
    hidden = dict(FitLogged.hidden, stop_epoch=4, stop_batch=1, patience=2)
    lessons = {
        "last-checkpoint-wrong": Lesson(_RESUMING, (
            "At the end of every epoch save one dict to `run_dir / \"last.pt\"`: the model's and the optimizer's "
            "state_dicts, the epoch number, the best validation loss so far and the epochs since, and every random "
            f"state the run draws from: {SAVE_STATES}.")),
        "resume-differs": Lesson(_RESUMING, (
            "At the start, if `run_dir / \"last.pt\"` exists, load from it the model, the optimizer, the best loss "
            "so far and every random state (`torch.set_rng_state`, `torch.cuda.set_rng_state_all`, "
            "`train_loader.generator.set_state`), go on with the epoch after the saved one, and append to "
            "metrics.csv instead of starting it again.")),
    }

    def judge(self, trace, result, fixture):
        return super().judge(trace, result, fixture) + self.check_last(fixture)

    def check_last(self, fixture) -> list:
        run_dir, params, model = fixture.extra["run_dir"], fixture.params, fixture.model
        state, problem = load_checkpoint(run_dir / "last.pt", params["device"], weights_only=False)
        if state is None:
            return [diagnosis("last-checkpoint-wrong", f"After a run of {count(params['epochs'], 'epoch')}, "
                                                       f"{problem}.")]
        if not isinstance(state, dict):
            return [diagnosis("last-checkpoint-wrong",
                              f"After a run of {count(params['epochs'], 'epoch')}, last.pt holds {describe(state)}; "
                              f"it should be a dict with the model's and the optimizer's state_dicts, the epoch "
                              f"and the random states.")]
        nested = list(mappings(state))
        epochs = params["epochs"]
        lacking = [what for what, there in {
            "the model's state_dict": any(is_state_dict_of(d, model) for d in nested),
            "the optimizer's state_dict": any({"state", "param_groups"} <= set(d) for d in nested),
            f"the epoch ({epochs} after {count(epochs, 'epoch')})":
                any("epoch" in str(k).lower() and is_int(v) and epochs - 1 <= v <= epochs + 1
                    for d in nested for k, v in d.items()),
        }.items() if not there]
        states = missing_states(state, fixture.args[1])
        only_gpu = not lacking and bool(states) and all("cuda" in name for name in states)
        if states:
            lacking.append(f"the random state{'s' if len(states) > 1 else ''} {' and '.join(states)}")
        if lacking:
            # the fixtures run on the CPU: a missing GPU state shows in a learner's own GPU runs, not in this one
            why = ("so a run on a GPU cannot be resumed exactly from it: dropout there draws its masks from the "
                   "GPU's generator" if only_gpu
                   else "so the run cannot be resumed exactly from it")
            return [diagnosis("last-checkpoint-wrong",
                              f"After a run of {count(params['epochs'], 'epoch')}, last.pt holds the keys "
                              f"{sorted(map(str, state))[:10]} but not {'; '.join(lacking)}, {why}.")]
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
                + self.check_early_stopping(function, fixture, val_losses, time_limit))

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
        per_epoch, steps = steps_per_epoch(first), len(resumed.extra["lrs"])
        left = epochs - stop_epoch + 1
        if steps != left * per_epoch:
            return [diagnosis(
                "resume-differs",
                f"After {where}, last.pt held {count(stop_epoch - 1, 'finished epoch')}, so resuming had "
                f"{count(left, 'epoch')} left, of {count(per_epoch, 'optimizer step')} each in the uninterrupted "
                f"run ({left * per_epoch} in all); the resumed call made {steps}.")]
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

    def check_early_stopping(self, function, first, val_losses, time_limit) -> list:
        params = first.params
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
        per_epoch, steps = steps_per_epoch(first), len(run.extra["lrs"])
        rows, _ = read_metrics(run.extra["run_dir"])
        returned = outcome.result.get("val_loss") if isinstance(outcome.result, dict) else None
        lengths = {"optimizer steps": (steps, stop * per_epoch)}
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


def _outcome_words(outcome) -> str:
    if outcome.timed_out:
        return "ran out of time"
    if outcome.error is not None:
        return f"raised {type(outcome.error).__name__}: {outcome.error}"
    return "returned normally"
