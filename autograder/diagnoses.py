"""The registry of diagnosis codes: one stable name per bug, its concern, fix and lesson.

A code never changes once published: hidden tests, the class report and instructors'
spreadsheets count mistakes by it. The message of a diagnosis is written at run time
(it carries numbers from the learner's run); everything else about a code lives here.

The fix and the section here are the usual ones. An exercise may teach a code
elsewhere: phase 5's `train_epoch` links a missing `model.train()` to phase 5, not
to phase 6 which the learner has not reached, and phase 4's full-batch `train` speaks
of epochs, not batches. Those exceptions live next to the exercise, in its
`lessons` table (see `Lesson` and `autograder/exercises/`).
"""
import linecache
from dataclasses import dataclass, replace

CONCERNS = ("runs", "order", "accumulation", "modes", "logging", "numbers", "tracking")


@dataclass(frozen=True)
class Section:
    """A `##` heading in a phase notebook: where the course teaches the fix."""

    phase: str  # the phase folder, e.g. "04_training_loop"
    heading: str

    @property
    def label(self) -> str:
        number = int(self.phase.split("_", 1)[0])
        return f"Phase {number}, section “{self.heading}”"

    @property
    def href(self) -> str:
        """Relative link from one phase notebook to another (Jupyter heading anchors)."""
        return f"../{self.phase}/{self.phase}.ipynb#{self.heading.replace(' ', '-')}"

    def to_dict(self) -> dict:
        return {"phase": self.phase, "heading": self.heading, "label": self.label, "href": self.href}

    @classmethod
    def from_dict(cls, data: dict) -> "Section":
        return cls(str(data["phase"]), str(data["heading"]))


@dataclass(frozen=True)
class Code:
    """What every diagnosis with this code shares."""

    code: str
    concern: str
    title: str
    fix: str
    section: Section


@dataclass(frozen=True)
class Lesson:
    """How one exercise teaches a code when the usual fix or section does not fit it.

    `fix=None` keeps the code's usual fix and changes only where it is taught.
    """

    section: Section
    fix: str | None = None


@dataclass(frozen=True)
class Diagnosis:
    """One bug found in one run: the code, what happened (with numbers), the fix, and
    the section that teaches it; `line` and `code_line` are the learner's line it points
    at (its number in the learner's cell or file, and its text), when the run shows one."""

    code: str
    message: str
    fix: str
    section: Section
    line: int | None = None
    code_line: str | None = None
    call: int | None = None  # which call of a function called twice in a row showed it (None: the only one)

    @property
    def concern(self) -> str:
        return CODES[self.code].concern if self.code in CODES else "runs"

    @property
    def title(self) -> str:
        return CODES[self.code].title if self.code in CODES else self.code

    def taught_by(self, lesson: Lesson) -> "Diagnosis":
        """This diagnosis as an exercise teaches it: its section, and its fix unless the
        checks already wrote a fix for this very run."""
        usual = self.fix == CODES[self.code].fix
        return replace(self, fix=lesson.fix if lesson.fix and usual else self.fix, section=lesson.section)

    def in_call(self, number: int) -> "Diagnosis":
        """This diagnosis as seen only when the function was called again on the same objects."""
        opening = (f"When your function was called a second time in a row on the same model and data "
                   f"(the next epoch, as `fit` calls it): ")
        return replace(self, message=opening + self.message[:1].lower() + self.message[1:]
                       if not self.message.startswith("`") else opening + self.message, call=number)

    def to_dict(self) -> dict:
        """Plain JSON data: how a diagnosis travels from a test cell to the gradebook,
        the feedback page and the class report (title and concern come along for
        readers that do not know the code)."""
        return {"code": self.code, "title": self.title, "concern": self.concern, "message": self.message,
                "fix": self.fix, "section": self.section.to_dict(), "line": self.line,
                "code_line": self.code_line, "call": self.call}

    @classmethod
    def from_dict(cls, data: dict) -> "Diagnosis":
        line = data.get("line")
        code_line = data.get("code_line")
        call = data.get("call")
        return cls(str(data["code"]), str(data["message"]), str(data["fix"]), Section.from_dict(data["section"]),
                   int(line) if isinstance(line, int) and not isinstance(line, bool) else None,
                   str(code_line) if code_line is not None else None,
                   int(call) if isinstance(call, int) and not isinstance(call, bool) else None)


def diagnosis(code: str, message: str, fix: str | None = None, at: tuple | None = None) -> Diagnosis:
    """A Diagnosis for a registered code; `fix` replaces the code's usual fix when given;
    `at` is (file, line) of the learner's code it points at, when the run knows it."""
    if code not in CODES:
        raise KeyError(f"unknown diagnosis code {code!r}")
    line = code_line = None
    if at is not None:
        line = at[1]
        code_line = linecache.getline(at[0], at[1]).strip() or None
    return Diagnosis(code, message, fix or CODES[code].fix, CODES[code].section, line, code_line)


_LOOP = "04_training_loop"
_DATA = "05_data_loading"
_AUTOGRAD = "02_autograd"
_CLASSIFIER = "06_classifier"
_LOSSES = "03_losses_optimizers"
_DEBUGGING = "07_debugging"

_ALL = [
    # runs: the learner's function could not be watched to the end
    Code("raises", "runs", "Your function raised an error",
         "Read the error and the line it points to, fix it, and run the check again.",
         Section(_LOOP, "The five steps of the loop")),
    Code("timeout", "runs", "Your function did not finish",
         "Look for a loop that never ends (a `while` whose condition never turns false, "
         "or a loop over something endless).",
         Section(_LOOP, "The five steps of the loop")),
    Code("wrong-return-type", "runs", "Your function returned the wrong kind of value",
         "Return exactly what the exercise asks for, built from Python floats.",
         Section(_LOOP, "Logging the loss with .item()")),
    Code("model-never-called", "runs", "Your function never called the model",
         "Call the model on the data (`outputs = model(inputs)`), compute the loss from its outputs, "
         "then `loss.backward()` and `optimizer.step()`; return numbers your loop computed.",
         Section(_LOOP, "The five steps of the loop")),
    Code("global-state-changed", "runs", "Your function changed torch's global settings",
         "Use a `with` block (`with torch.no_grad():`) so the setting switches back by itself; "
         "never call `torch.set_grad_enabled(False)` or `torch.set_default_dtype(...)` on their own.",
         Section(_AUTOGRAD, "Turning autograd off")),
    # order: the five steps of the loop
    Code("missing-zero-grad", "order", "Gradients piled up across steps",
         "Call `optimizer.zero_grad()` once per step, inside the batch loop, before `loss.backward()`.",
         Section(_LOOP, "Forgetting zero_grad")),
    Code("zero-grad-after-backward", "order", "Gradients were cleared between backward and step",
         "Clear gradients before `loss.backward()` (at the top of the loop), never between "
         "`backward()` and `optimizer.step()`.",
         Section(_LOOP, "The five steps of the loop")),
    Code("step-before-backward", "order", "The optimizer stepped before backward",
         "Call `loss.backward()` first, then `optimizer.step()`.",
         Section(_LOOP, "Stepping before backward")),
    Code("missing-backward", "order", "No gradients were computed",
         "Call `loss.backward()` after computing the loss and before `optimizer.step()`.",
         Section(_LOOP, "The five steps of the loop")),
    Code("missing-step", "order", "The optimizer never stepped",
         "Call `optimizer.step()` (with parentheses) after `loss.backward()`.",
         Section(_LOOP, "The five steps of the loop")),
    Code("double-backward", "order", "backward() ran twice on one loss",
         "Call `loss.backward()` exactly once per loss.",
         Section(_AUTOGRAD, "Backward twice")),
    Code("wrong-step-count", "order", "The optimizer stepped the wrong number of times",
         "Call `optimizer.step()` once per batch, inside the batch loop.",
         Section(_DATA, "The per-batch loop")),
    # order, judged by effect: what each update did against the given optimizer's update
    Code("foreign-update", "order", "The weights were not updated by the given optimizer",
         "Update the weights only with the optimizer you were given: `optimizer.step()`.",
         Section(_LOOP, "The five steps of the loop")),
    Code("scaled-gradient", "order", "Every gradient was scaled by a constant",
         "Call `backward()` on the mean loss itself (`loss.backward()`); only gradient accumulation "
         "divides it (by `accum_steps`).",
         Section(_LOSSES, "The learning rate")),
    Code("over-clipped", "order", "Clipping cut every gradient to a sliver",
         "Clip at a norm near the gradients' usual size (`max_norm=1.0`), or do not clip.",
         Section(_LOOP, "Gradient clipping")),
    Code("graph-cut", "order", "No gradient reached the weights",
         "Compute the loss from the model's output itself, with autograd on: no `.detach()`, `.data` or "
         "`torch.no_grad()` in the training forward pass.",
         Section(_AUTOGRAD, "Turning autograd off")),
    # order, judged by the contract itself: the data each step trained on, where it moved
    Code("skipped-training-data", "order", "Training skipped examples",
         "Train on every batch the loader hands out, each whole, once per epoch: `for inputs, targets in loader:` "
         "with no `break`, slicing or sampling of your own.",
         Section(_DATA, "Epochs and steps")),
    Code("repeated-training-data", "order", "Some examples were trained on more than once in an epoch",
         "Use each batch once per epoch: one forward pass, one `backward()` and one step per batch.",
         Section(_DATA, "Epochs and steps")),
    Code("labels-mismatched", "order", "Inputs were paired with other examples' labels",
         "Keep each input with its own label: compute the loss on `model(inputs)` and the `targets` of the same "
         "batch, and if you reorder or sample rows, index inputs and targets with the same indices.",
         Section(_DATA, "A Dataset answers two questions")),
    Code("update-climbs", "order", "The update moved the weights uphill",
         "Call `backward()` on the loss itself and leave the optimizer's learning rate positive: "
         "`optimizer.step()` already subtracts the gradient.",
         Section(_LOSSES, "One SGD step by hand")),
    Code("frozen-parameters", "order", "Part of the model never learned",
         "Let every parameter the optimizer holds get its gradient and its update: keep `requires_grad` on, "
         "do not clear `.grad` between `backward()` and `step()`, and keep the optimizer's `param_groups`.",
         Section(_LOOP, "Gradient norms, parameter by parameter")),
    Code("unexplained-update", "order", "An update the contract cannot explain",
         "Make every update one `optimizer.step()` of the optimizer you were given, on the gradient of the given "
         "loss for the batch's own inputs and targets.",
         Section(_LOSSES, "One SGD step by hand")),
    Code("gradients-left-behind", "order", "Gradients were left in .grad for the next epoch",
         "Clear the gradients at the start of the function (`optimizer.zero_grad()`), or right after every step, "
         "the last one of the epoch included.",
         Section(_DATA, "The per-batch loop")),
    # accumulation: stepping every accum_steps batches on purpose
    Code("unscaled-accumulation", "accumulation", "Accumulated gradients had the wrong scale",
         "Divide each batch's loss by `accum_steps` before `backward()`: `(loss / accum_steps).backward()`.",
         Section(_DATA, "Gradient accumulation on purpose")),
    Code("wrong-accumulation-cadence", "accumulation", "Steps or clears at the wrong batches",
         "Step and clear once every `accum_steps` batches: "
         "`if (i + 1) % accum_steps == 0: optimizer.step(); optimizer.zero_grad()`.",
         Section(_DATA, "Gradient accumulation on purpose")),
    Code("missing-final-step", "accumulation", "The last, partial group never stepped",
         "After the loop (or when `i + 1 == len(loader)`), step once more if gradients are left over.",
         Section(_DATA, "Gradient accumulation on purpose")),
    # modes: train() / eval(), no_grad, and keeping validation read-only
    Code("train-mode-missing", "modes", "Training ran in evaluation mode",
         "Call `model.train()` (with parentheses) at the start of every training epoch.",
         Section(_CLASSIFIER, "Training mode and evaluation mode")),
    Code("eval-mode-missing", "modes", "Validation ran in training mode",
         "Call `model.eval()` before validating.",
         Section(_CLASSIFIER, "Training mode and evaluation mode")),
    Code("grad-enabled-in-eval", "modes", "Validation tracked gradients",
         "Wrap validation in `with torch.no_grad():`.",
         Section(_CLASSIFIER, "Validation without gradients")),
    Code("trains-on-validation", "modes", "The model learned from validation data",
         "Never call `backward()` or `optimizer.step()` while validating: validation only measures.",
         Section(_CLASSIFIER, "Validation without gradients")),
    # logging: .item()
    Code("loss-tensor-logged", "logging", "Loss tensors were kept instead of numbers",
         "Log `loss.item()` (a Python float), not `loss` itself.",
         Section(_LOOP, "Logging the loss with .item()")),
    # numbers: the right order, the wrong figures
    Code("wrong-loss-values", "numbers", "The reported losses are not the ones computed",
         "Report the loss computed on each batch's forward pass, as `loss.item()`, averaged as the "
         "exercise asks.",
         Section(_LOOP, "Logging the loss with .item()")),
    Code("partial-validation", "numbers", "Validation skipped batches",
         "Measure every batch of the validation loader and average over all of them.",
         Section(_CLASSIFIER, "Validation without gradients")),
    Code("wrong-validation-data", "numbers", "Validation did not measure the validation data",
         "Validate on `val_loader`, the loader meant for measuring, not on `train_loader`.",
         Section(_CLASSIFIER, "A full training run")),
    Code("stale-validation", "numbers", "A validation number was not measured in its own epoch",
         "Validate once per epoch, right after that epoch's training, and log that epoch's own numbers.",
         Section(_CLASSIFIER, "A full training run")),
    Code("wrong-accuracy", "numbers", "The accuracy is wrong",
         "Count `(outputs.argmax(dim=1) == targets).sum().item()` over every batch and divide by "
         "the number of examples.",
         Section(_CLASSIFIER, "Validation without gradients")),
    # tracking: fit_tracked
    Code("metrics-log-wrong", "tracking", "The metrics log is missing or wrong",
         "Write one row per epoch to `run_dir / \"metrics.csv\"` with the columns epoch, train_loss, val_loss, "
         "val_acc, lr and checkpoint: epochs numbered from 1, the same numbers the function returns, "
         "`optimizer.param_groups[0][\"lr\"]`, and the path of best.pt.",
         Section(_CLASSIFIER, "The metrics log")),
    Code("config-missing", "tracking", "The run's config is missing or incomplete",
         "Before training, `json.dump` to `run_dir / \"config.json\"` the hyperparameters (epochs, learning "
         "rate, patience), the seed (`torch.initial_seed()`) and `torch.__version__`.",
         Section(_CLASSIFIER, "The run's config")),
    Code("best-checkpoint-wrong", "tracking", "The best checkpoint does not hold the best epoch",
         "Whenever an epoch's validation loss is lower than every earlier one, save `model.state_dict()` to "
         "`run_dir / \"best.pt\"`; return that epoch's number (counted from 1) as \"best_epoch\".",
         Section(_CLASSIFIER, "The best checkpoint")),
    Code("last-checkpoint-wrong", "tracking", "The last checkpoint cannot resume the run",
         "At the end of every epoch save one dict to `run_dir / \"last.pt\"`: the model's and the optimizer's "
         "state_dicts, the epoch number, the best validation loss so far and `torch.get_rng_state()`.",
         Section(_CLASSIFIER, "Resuming a run")),
    Code("resume-differs", "tracking", "The resumed run is not the run that was stopped",
         "At the start, if `run_dir / \"last.pt\"` exists, load the model, the optimizer, the best loss so far "
         "and the random state (`torch.set_rng_state`) from it, go on with the epoch after the saved one, and "
         "append to metrics.csv instead of starting it again.",
         Section(_CLASSIFIER, "Resuming a run")),
    Code("early-stopping-wrong", "tracking", "Early stopping stopped at the wrong epoch",
         "Count the epochs since the lowest validation loss so far and stop once `patience` epochs in a row "
         "brought no lower one; with `patience=None`, never stop early.",
         Section(_CLASSIFIER, "Early stopping")),
    # tracking, phase 4: a loop that stops itself once its loss is low enough
    Code("target-stop-wrong", "tracking", "The loop did not stop at the target loss",
         "Run the five steps, append the epoch's `loss.item()`, then `break` out of the epoch loop if that loss "
         "is below `target_loss`; never run more than `max_epochs` epochs.",
         Section(_LOOP, "Stopping at a target loss")),
    # phase 7: mixed precision and learning-rate schedules (train_epoch_amp, train_epoch_onecycle)
    Code("autocast-missing", "modes", "The forward pass ran in full precision",
         "Run the forward pass and the loss inside `with torch.autocast(device_type=device.type):` "
         "(bfloat16 on a CPU, float16 on a GPU); `backward()` and the step stay outside it.",
         Section(_DEBUGGING, "Mixed precision with a GradScaler")),
    Code("scaler-unused", "order", "The GradScaler was not used on both sides of backward",
         "Scale the loss with the scaler you were given, `scaler.scale(loss).backward()`, and step through it: "
         "`scaler.step(optimizer)`, then `scaler.update()`.",
         Section(_DEBUGGING, "Mixed precision with a GradScaler")),
    Code("clip-before-unscale", "order", "Gradients were clipped while still scaled",
         "Call `scaler.unscale_(optimizer)` after `backward()` and before `clip_grad_norm_`, so that clipping "
         "measures the true gradients; `scaler.step` then knows they are unscaled already.",
         Section(_DEBUGGING, "Mixed precision with a GradScaler")),
    Code("clip-norm-wrong", "order", "The gradients were not clipped to max_norm",
         "After unscaling, clip every step's gradients to the given norm: "
         "`torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)`.",
         Section(_DEBUGGING, "Mixed precision with a GradScaler")),
    Code("scheduler-cadence", "order", "The scheduler stepped at the wrong cadence",
         "A schedule planned per batch (`OneCycleLR`) steps once per batch: call `scheduler.step()` inside the "
         "batch loop, right after `optimizer.step()`.",
         Section(_DEBUGGING, "A schedule planned per batch")),
    Code("scheduler-before-step", "order", "The scheduler stepped before the optimizer",
         "Call `scheduler.step()` after `optimizer.step()`, never before it.",
         Section(_DEBUGGING, "A schedule planned per batch")),
]

CODES: dict[str, Code] = {code.code: code for code in _ALL}
