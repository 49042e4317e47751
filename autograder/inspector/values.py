"""Read what a learner's function returned: floats where floats belong, and say what is off.

A loss tensor where a float belongs is its own bug ("log `loss.item()`"), so it gets
the code `loss-tensor-logged`; any other shape that is not asked for is
`wrong-return-type`. NumPy floats count as floats.
"""
import numbers
from collections import Counter

import torch

from autograder.diagnoses import Diagnosis, diagnosis
from autograder.inspector.words import count


def as_float(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def _kind(value) -> str:
    """A value's kind in a learner's words: 'float', 'tensor', 'list', 'None'."""
    if value is None:
        return "None value"
    if isinstance(value, torch.Tensor):
        return "tensor"
    return {"str": "string", "ndarray": "NumPy array"}.get(type(value).__name__, type(value).__name__)


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def describe(value) -> str:
    """'None', 'a float', 'a tensor of shape (3,)', 'a tuple of 3 lists', 'a list of 5 values
    (3 floats and 2 tensors)', 'an empty list'."""
    if value is None:
        return "None"
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}" if value.dim() else "a 0-d tensor"
    if isinstance(value, (list, tuple, dict)):
        container = type(value).__name__
        if not value:
            return f"an empty {container}"
        items = list(value.values()) if isinstance(value, dict) else list(value)
        kinds = Counter(_kind(v) for v in items)
        if len(kinds) == 1:
            return f"{_a(container)} of {count(len(items), next(iter(kinds)))}"
        parts = [count(n, kind) for kind, n in kinds.most_common()]
        return (f"{_a(container)} of {len(items)} values "
                f"({', '.join(parts[:-1])} and {parts[-1]})")
    return _a(_kind(value))


def _tensor_loss(name: str, value) -> Diagnosis:
    graph = " still attached to its graph" if isinstance(value, torch.Tensor) and value.requires_grad else ""
    return diagnosis(
        "loss-tensor-logged",
        f"{name} came back as {describe(value)}{graph} instead of a Python float: the loss tensor "
        f"was kept rather than its number.")


def read_float(value, name: str, is_loss: bool) -> tuple[float | None, list[Diagnosis]]:
    number = as_float(value)
    if number is not None:
        return number, []
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        if is_loss:
            return None, [_tensor_loss(name, value)]
        return None, [diagnosis(
            "wrong-return-type", f"{name} came back as {describe(value)}, not a Python float.",
            fix="Turn a one-element tensor into a float with `.item()`.")]
    return None, [diagnosis("wrong-return-type", f"{name} should be a float, but it is {describe(value)}.")]


def read_float_list(value, name: str, length: int, is_loss: bool, unit: str = "epoch"):
    """A list (or tuple, or 1-D NumPy array) of `length` floats, one per `unit`."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 1:
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        if isinstance(value, torch.Tensor) and is_loss and value.numel() == length:
            return None, [_tensor_loss(name, value)]
        return None, [diagnosis("wrong-return-type",
                                f"{name} should be a list of {length} floats (one per {unit}), "
                                f"but it is {describe(value)}.")]
    if len(value) != length:
        # The right kind of value with the wrong count is a numbers bug, not a broken
        # function: it must not cost the marks for order, modes and logging too.
        return None, [diagnosis("wrong-loss-values" if is_loss else "wrong-accuracy",
                                f"{name} has {count(len(value), 'entry')}, but there were {count(length, unit)}: "
                                f"it should hold one float per {unit}.")]
    numbers_ = [as_float(v) for v in value]
    if all(n is not None for n in numbers_):
        return numbers_, []
    if is_loss and all(isinstance(v, torch.Tensor) or n is not None for v, n in zip(value, numbers_)):
        tensors = sum(isinstance(v, torch.Tensor) for v in value)
        graphs = sum(isinstance(v, torch.Tensor) and v.requires_grad for v in value)
        if graphs == tensors:
            kept = ", all still attached to their graphs" if tensors > 1 else ", still attached to its graph"
        elif graphs:
            kept = f", {graphs} of them still attached to {'its graph' if graphs == 1 else 'their graphs'}"
        else:
            kept = ""
        return None, [diagnosis(
            "loss-tensor-logged",
            f"{name} holds {count(tensors, 'tensor')} instead of Python floats{kept}: the loss tensors were "
            f"appended rather than `loss.item()`.")]
    return None, [diagnosis("wrong-return-type",
                            f"{name} should hold floats, but it is {describe(value)}.")]
