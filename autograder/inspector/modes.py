"""Training mode, evaluation mode, and validation that only measures.

Read from the model's forward passes: `model.training` and whether autograd was on
when each pass began, and which loader's batch went in. `model.train(False)`,
`model.eval()`, a restored previous mode, `no_grad`, `inference_mode`,
`set_grad_enabled(False)` and decorators all show up the same way.
"""
from autograder.diagnoses import Diagnosis, diagnosis
from autograder.inspector.trace import BackwardPass, Forward, Step, Trace
from autograder.inspector.words import count, listed, times


def _where(forward: Forward, several_epochs: bool) -> str:
    batch = forward.batch
    if batch is None:
        return "an unknown batch"
    if several_epochs:
        return f"epoch {batch.epoch + 1}, {batch.label}"
    return batch.label


def _epochs(forwards: list[Forward]) -> bool:
    """Did the run make more than one pass over this data?"""
    return len({f.batch.epoch for f in forwards}) > 1


def training_forwards(trace: Trace) -> list[Forward]:
    """Passes on training data with autograd on (measurement passes under no_grad do not count)."""
    return [f for f in trace.forwards if f.grad_enabled and f.batch is not None and f.batch.split == "train"]


def validation_forwards(trace: Trace) -> list[Forward]:
    return [f for f in trace.forwards if f.batch is not None and f.batch.split == "val"]


def _effect(trace: Trace, training_wanted: bool) -> str:
    """What the wrong mode did to *this* model (its dropout and batch-norm layers, if any)."""
    layers = trace.mode_layers
    if not layers:
        wrongly = "as if validating" if training_wanted else "as if training"
        return ("this model has no dropout or batch-norm layer, so it changed nothing here, but in a "
                f"model with one, {'training' if training_wanted else 'validation'} would run {wrongly}")
    if training_wanted:
        effects = {"dropout": "dropout switched off", "batch-norm": "batch-norm used its running statistics"}
        tail = "while the model learned"
    else:
        effects = {"dropout": "dropout dropped units",
                   "batch-norm": "batch-norm used and updated batch statistics"}
        tail = "while measuring"
    return f"{' and '.join(effects[layer] for layer in layers)} {tail}"


def check_train_mode(trace: Trace) -> list[Diagnosis]:
    forwards = training_forwards(trace)
    wrong = [f for f in forwards if not f.training]
    if not wrong:
        return []
    several = _epochs(forwards)
    epochs = sorted({f.batch.epoch + 1 for f in wrong})
    which = f"; in {listed(epochs, 'epoch')}" if len(epochs) > 1 else ""
    where = _where(wrong[0], several)
    if len({id(f.batch) for f in forwards}) == 1 and len(forwards) > 1:  # full batch: one pass per epoch
        where = f"epoch {forwards.index(wrong[0]) + 1}"
    return [diagnosis(
        "train-mode-missing",
        f"{len(wrong)} of {count(len(forwards), 'training forward pass')} ran with the model in evaluation "
        f"mode (the first at {where}{which}): {_effect(trace, True)}.", at=wrong[0].where)]


def check_validation(trace: Trace, weights_changed: bool = False) -> list[Diagnosis]:
    """Eval mode, no gradient tracking, and nothing learned from the validation data."""
    forwards = validation_forwards(trace)
    several = _epochs(forwards)
    found = []
    in_train = [f for f in forwards if f.training]
    if in_train:
        found.append(diagnosis(
            "eval-mode-missing",
            f"{len(in_train)} of {count(len(forwards), 'validation forward pass')} ran with the model in "
            f"training mode (the first at {_where(in_train[0], several)}): {_effect(trace, False)}.",
            at=in_train[0].where))
    tracked = [f for f in forwards if f.grad_enabled]
    if tracked:
        found.append(diagnosis(
            "grad-enabled-in-eval",
            f"{len(tracked)} of {count(len(forwards), 'validation forward pass')} ran with gradient tracking on "
            f"(the first at {_where(tracked[0], several)}): autograd built a graph for every batch that nobody "
            f"needed.", at=tracked[0].where))
    backwards = [b for b in trace.backwards if b.validation]
    val_steps = _steps_after_validation_backward(trace)
    if backwards or val_steps or weights_changed:
        what = []
        if backwards:
            what.append(f"{count(len(backwards), 'backward pass')} went through validation losses")
        if val_steps:
            what.append(f"the optimizer stepped {times(val_steps)} on those gradients")
        if weights_changed and not val_steps:
            what.append("the weights changed during validation")
        found.append(diagnosis(
            "trains-on-validation",
            f"During validation {' and '.join(what)}: the model learned from the data that is meant "
            f"to measure it."))
    return found


def _steps_after_validation_backward(trace: Trace) -> int:
    count, last_backward_val = 0, False
    for event in trace.events:
        if isinstance(event, BackwardPass):
            last_backward_val = event.validation
        elif isinstance(event, Step) and last_backward_val:
            count += 1
    return count
