"""Turn what went wrong around the learner's function into diagnoses: errors, time, state.

Torch errors that are really loop bugs are named as such: "modified by an inplace
operation" after a step came between a loss and its backward is `step-before-backward`,
"backward through the graph a second time" is `double-backward`, and a GradScaler refusing
`unscale_` (no `scaler.update()` after the step, or `unscale_` twice in one round) is
`scaler-unused`.
"""
import linecache
import traceback
from dataclasses import replace

from autograder.diagnoses import Diagnosis, diagnosis
from autograder.inspector.guard import Outcome
from autograder.inspector.trace import Trace
from autograder.inspector.words import count


def _learner_line(error: BaseException, learner_file: str) -> str:
    """' (line N: `code`)' for the deepest traceback frame in the learner's file."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == learner_file]
    if not frames:
        return ""
    frame = frames[-1]
    code = (frame.line or linecache.getline(frame.filename, frame.lineno)).strip()
    return f" (line {frame.lineno}: `{code}`)" if code else f" (line {frame.lineno})"


def _pointing(found: Diagnosis, error: BaseException, learner_file: str) -> Diagnosis:
    """The diagnosis with the learner's line the error came from (their file's deepest frame)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == learner_file]
    if not frames:
        return found
    frame = frames[-1]
    code = (frame.line or linecache.getline(frame.filename, frame.lineno)).strip()
    return replace(found, line=frame.lineno, code_line=code or None)


def _step_came_between(trace: Trace) -> bool:
    """Did an optimizer step run after the last forward pass that built a graph?"""
    tracked = [f for f in trace.forwards if f.grad_enabled]
    steps = trace.steps + trace.foreign_steps
    return bool(tracked) and any(step.seq > tracked[-1].seq for step in steps)


def _graph_cut(trace: Trace, where: str) -> Diagnosis:
    """`backward()` on a loss with no graph: say why it had none."""
    training = [f for f in trace.forwards if f.split != "val"]
    untracked = [f for f in training if not f.grad_enabled]
    if training and len(untracked) == len(training):
        why = (f"the model's {count(len(training), 'forward pass')} ran with gradient tracking off "
               f"(under `torch.no_grad()` or `inference_mode`), so the loss had no graph back to the weights")
        fix = "Run the training forward pass with autograd on: keep `torch.no_grad()` for validation only."
    else:
        why = ("the model's output was cut from its graph before the loss (`.detach()`, `.data`, `.item()` or "
               "a new tensor built from it), so the loss had no graph back to the weights")
        fix = "Compute the loss from the model's output itself: `loss = loss_fn(model(inputs), targets)`."
    return diagnosis(
        "graph-cut",
        f"`loss.backward()` crashed with \"element 0 of tensors does not require grad\"{where} after "
        f"{count(len(trace.forwards), 'forward pass')}: {why}.", fix=fix)


def _scaler_out_of_turn(text: str, trace: Trace, where: str) -> Diagnosis:
    """A GradScaler refusing `unscale_`: its round (scale, unscale_, step, update) was not kept."""
    steps = count(len(trace.steps), "optimizer step")
    if "after step()" in text:
        said, why = ("unscale_() is being called after step()", "`scaler.update()` never ran after "
                     "`scaler.step(optimizer)`, so the scaler still held the last round's state")
    else:
        said, why = ("unscale_() has already been called on this optimizer since the last update()",
                     "`scaler.unscale_(optimizer)` ran twice in one round, before `scaler.update()`")
    return diagnosis(
        "scaler-unused",
        f"`scaler.unscale_` crashed with \"{said}\"{where} after {steps}: {why}. Each batch's round is "
        f"`scaler.scale(loss).backward()`, one `scaler.unscale_(optimizer)`, `scaler.step(optimizer)`, then "
        f"`scaler.update()`.")


def explain_outcome(outcome: Outcome, trace: Trace, learner_file: str, time_limit: float) -> list[Diagnosis]:
    found = []
    if outcome.timed_out:
        found.append(diagnosis(
            "timeout",
            f"Your function was stopped after {time_limit:g} s; on these small fixtures it should "
            f"finish in well under a second. It ran {count(len(trace.forwards), 'forward pass')} and "
            f"{count(trace.facts()['steps'], 'optimizer step')} before it was stopped."))
    elif outcome.error is not None:
        found.append(_pointing(_explain_error(outcome.error, trace, learner_file), outcome.error, learner_file))
    # A function stopped by the time limit never returned: what it left half-changed may be a
    # library's own clean-up cut short (grad mode inside `optimizer.step()`, say). Put back, unsaid.
    if outcome.state_changes and not outcome.timed_out:
        found.append(diagnosis(
            "global-state-changed",
            "After your function returned, " + "; ".join(outcome.state_changes)
            + ". The checker put it back, but in your notebook it would stay changed."))
    return found


def _explain_error(error: BaseException, trace: Trace, learner_file: str) -> Diagnosis:
    text = str(error)
    where = _learner_line(error, learner_file)
    if "modified by an inplace operation" in text and _step_came_between(trace):
        return diagnosis(
            "step-before-backward",
            f"`loss.backward()` crashed with \"one of the variables needed for gradient computation has "
            f"been modified by an inplace operation\"{where} after {count(trace.facts()['steps'], 'optimizer step')}: "
            f"`optimizer.step()` had already changed the weights this loss was computed from.")
    if "does not require grad and does not have a grad_fn" in text and trace.forwards:
        return _graph_cut(trace, where)
    if "backward through the graph a second time" in text:
        return diagnosis(
            "double-backward",
            f"`backward()` crashed with \"Trying to backward through the graph a second time\"{where} "
            f"after {count(len(trace.backwards), 'backward pass')}: the graph of a loss that had already gone "
            f"through `backward()` was used again.")
    if "unscale_() is being called after step()" in text or "unscale_() has already been called" in text:
        return _scaler_out_of_turn(text, trace, where)
    if isinstance(error, NotImplementedError):
        return diagnosis(
            "raises", f"Your function still raises NotImplementedError{where}.",
            fix="Replace `raise NotImplementedError()` with your code.")
    name = type(error).__name__
    message = text.strip().splitlines()[0] if text.strip() else ""
    if len(message) > 300:
        message = message[:300] + "…"
    return diagnosis("raises", f"Your function raised {name}{where}" + (f": {message}" if message else "."))
