"""What a practitioner has after a run: curves, a log, gradient norms, memory, a device line.

`Recorder` watches a run from the outside, the way logging code in a real project
would: a loss function that notes each training loss, the optimizer's own step hooks
for the gradient norms each update used, and a count of the loss graphs that earlier
steps left alive (what `torch.cuda.memory_allocated()` would show climbing on a GPU).
"""
import math
import weakref
from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class Evidence:
    """One finished run, as numbers (every picture and table is drawn from these)."""

    title: str
    step_loss: list[float] = field(default_factory=list)      # each training batch's loss, in order
    log: list[dict] = field(default_factory=list)             # one row per epoch
    grad_norms: dict[str, list[float]] = field(default_factory=dict)  # parameter -> norm used by each step
    graphs_alive: list[int] = field(default_factory=list)     # after each step: earlier steps' graphs still alive
    nodes_alive: list[int] = field(default_factory=list)      # ... and the autograd nodes they hold
    device_line: str = ""
    notes: list[str] = field(default_factory=list)            # other lines the run printed
    facts: dict = field(default_factory=dict)                 # the numbers behind those lines

    @property
    def batches_per_epoch(self) -> int:
        return max(1, len(self.step_loss) // max(1, len(self.log)))

    @property
    def classifies(self) -> bool:
        """Whether the log has an accuracy column (a regression run has none)."""
        return bool(self.log) and "val_acc" in self.log[0]

    def column(self, name: str) -> list[float]:
        """One column of the metrics log, as floats."""
        return [float(row[name]) for row in self.log]

    def first_nan_step(self) -> int | None:
        """The first step (counting from 1) whose training loss was not finite, or None."""
        return next((i + 1 for i, value in enumerate(self.step_loss) if not math.isfinite(value)), None)


def _graph_size(node, limit: int = 100_000) -> int:
    """How many autograd nodes a loss's graph holds (walked once, when the loss is made)."""
    seen, stack = set(), [node]
    while stack and len(seen) < limit:
        current = stack.pop()
        if current is None or current in seen:
            continue
        seen.add(current)
        stack.extend(child for child, _ in current.next_functions)
    return len(seen)


class _Marker:
    """Lives exactly as long as the graph of the loss it is attached to."""


class WatchedLoss(nn.Module):
    """A loss function (cross-entropy unless told) that tells the recorder about every loss
    it computes with gradients on."""

    def __init__(self, recorder: "Recorder", base: nn.Module | None = None):
        super().__init__()
        self.base = base if base is not None else nn.CrossEntropyLoss()
        self._recorder = weakref.ref(recorder)

    def forward(self, scores, labels):
        loss = self.base(scores, labels)
        recorder = self._recorder()
        if recorder is not None:
            recorder.saw_loss(loss, scores, labels)
        return loss


class Recorder:
    """Attach to a model and its optimizer; read the evidence off afterwards."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, title: str,
                 loss_fn: nn.Module | None = None):
        self.model = model
        self.evidence = Evidence(title, grad_norms={name: [] for name, _ in model.named_parameters()})
        self.loss_fn = WatchedLoss(self, loss_fn)
        self.targets = []          # every label tensor that reached the loss (weakly held)
        self._graphs = []          # (weak reference to a marker, nodes in its graph)
        self._hooks = [optimizer.register_step_pre_hook(self._before_step),
                       optimizer.register_step_post_hook(self._after_step)]

    def close(self) -> None:
        for hook in self._hooks:
            hook.remove()
        self._hooks = []

    def saw_loss(self, loss, scores, labels) -> None:
        if not (torch.is_grad_enabled() and loss.grad_fn is not None):
            return
        self.evidence.step_loss.append(loss.item())
        self.targets.append(weakref.ref(labels))
        marker = _Marker()
        loss.grad_fn.register_prehook(lambda grad_outputs, marker=marker: None)
        self._graphs.append((weakref.ref(marker), _graph_size(loss.grad_fn)))

    def _before_step(self, optimizer, args, kwargs) -> None:
        for name, parameter in self.model.named_parameters():
            grad = parameter.grad
            self.evidence.grad_norms[name].append(math.nan if grad is None else grad.norm().item())

    def _after_step(self, optimizer, args, kwargs) -> None:
        earlier = [(alive, nodes) for alive, nodes in self._graphs[:-1] if alive() is not None]
        self.evidence.graphs_alive.append(len(earlier))
        self.evidence.nodes_alive.append(sum(nodes for _, nodes in earlier))


def record_run(title: str, train_epoch, evaluate, model, train_loader, val_loader, optimizer,
               epochs: int, *, extra_args: tuple = (), loss_fn: nn.Module | None = None,
               log_lr: bool = False) -> tuple[Evidence, Recorder]:
    """Train with `train_epoch(model, loader, loss_fn, optimizer, *extra_args)` for `epochs`
    epochs, validating after each with `evaluate(model, val_loader, loss_fn)`, which returns
    (loss, accuracy) or (loss, None) for regression; log it all (with `log_lr`, also the
    learning rate each epoch started with, as phase 6's metrics.csv does)."""
    recorder = Recorder(model, optimizer, title, loss_fn)
    plain_loss = loss_fn if loss_fn is not None else nn.CrossEntropyLoss()
    history = []  # what the run's own code returned (a buggy loop may return tensors)
    try:
        for epoch in range(1, epochs + 1):
            lr = optimizer.param_groups[0]["lr"]
            train_loss = train_epoch(model, train_loader, recorder.loss_fn, optimizer, *extra_args)
            history.append(train_loss)
            val_loss, val_acc = evaluate(model, val_loader, plain_loss)
            row = {"epoch": epoch, "train_loss": _number(train_loss), "val_loss": _number(val_loss)}
            if val_acc is not None:
                row["val_acc"] = _number(val_acc)
            if log_lr:
                row["lr"] = float(lr)
            recorder.evidence.log.append(row)
    finally:
        recorder.close()
    recorder.history = history
    return recorder.evidence, recorder


def _number(value) -> float:
    """A logged value as a float, even when a buggy loop returned a tensor with a graph."""
    return float(value.detach()) if isinstance(value, torch.Tensor) else float(value)
