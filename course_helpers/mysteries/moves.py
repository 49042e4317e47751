"""Which tensors went through `.to()`: the only device evidence a CPU-only machine has.

On a CPU, `x.to("cpu")` returns `x` itself, so a batch that was never moved runs
exactly like one that was: nothing crashes and every number is the same. The bug
waits for the first GPU. What a CPU run *can* show is which tensors the loop moved:
`MoveRecorder` notes every result of `Tensor.to`, `.cuda()` and `.cpu()`, and
`Provenance` says, for every batch the model and the loss saw, whether it was moved.
"""
import weakref

import torch
from torch.overrides import TorchFunctionMode

_MOVES = {torch.Tensor.to, torch.Tensor.cuda, torch.Tensor.cpu}


class MoveRecorder(TorchFunctionMode):
    """While active, remembers (weakly) every tensor a `.to()` / `.cuda()` / `.cpu()` call returned."""

    def __init__(self):
        super().__init__()
        self.moved = weakref.WeakValueDictionary()  # id -> tensor (tensors compare by value, not identity)
        self.calls = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        if func in _MOVES and isinstance(result, torch.Tensor):
            self.moved[id(result)] = result
            self.calls += 1
        return result

    def was_moved(self, tensor) -> bool:
        return self.moved.get(id(tensor)) is tensor


class Provenance:
    """Counts, over a run, the model inputs and loss targets that were (not) moved to the device.

    `watch(model, loss_fn)` returns a loss function to hand to the loop; use inside a
    `MoveRecorder`.
    """

    def __init__(self, recorder: MoveRecorder):
        self.recorder = recorder
        self.inputs = {"moved": 0, "not moved": 0}
        self.targets = {"moved": 0, "not moved": 0}
        self.devices = set()

    def _note(self, table, tensor) -> None:
        """Count a training batch (validation runs without gradients and is not counted)."""
        if isinstance(tensor, torch.Tensor) and torch.is_grad_enabled():
            table["moved" if self.recorder.was_moved(tensor) else "not moved"] += 1
            self.devices.add(str(tensor.device))

    def watch(self, model, loss_fn):
        """Hook the model's forward; wrap the loss. Returns (loss function, handle to remove)."""
        handle = model.register_forward_pre_hook(lambda module, args: self._note(self.inputs, args[0]))

        def watched_loss(scores, targets):
            self._note(self.targets, targets)
            return loss_fn(scores, targets)

        return watched_loss, handle

    def line(self, device) -> str:
        """The device line: where the run was asked to train, and what the loop moved there."""
        return (f"device: {device} | model inputs moved with .to(): {self.inputs['moved']} of "
                f"{sum(self.inputs.values())} batches | labels moved: {self.targets['moved']} of "
                f"{sum(self.targets.values())} batches")


def record_moves(train_epoch, model, loader, loss_fn, optimizer) -> Provenance:
    """Run one epoch of `train_epoch` and count which batches it moved to the model's device."""
    with MoveRecorder() as recorder:
        provenance = Provenance(recorder)
        watched, handle = provenance.watch(model, loss_fn)
        try:
            train_epoch(model, loader, watched, optimizer)
        finally:
            handle.remove()
    return provenance
