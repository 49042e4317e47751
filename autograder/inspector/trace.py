"""What the inspector saw during one run of a learner's function, in the order it happened.

Every record carries `seq`, its place in one shared counter, so checks can ask
"did this step come between that loss and its backward?" without timestamps.
"""
import weakref
from dataclasses import dataclass, field

import torch


@dataclass
class Batch:
    """One batch a fixture loader handed out (or the full-batch tensors of train_loop)."""

    split: str  # "train" or "val"
    epoch: int  # 0-based pass over this loader
    index: int  # 0-based position inside the pass
    x: torch.Tensor
    y: torch.Tensor


@dataclass
class Forward:
    """One call of the fixture model."""

    seq: int
    batch: Batch | None
    training: bool
    grad_enabled: bool
    output: torch.Tensor | None = None  # detached CPU copy


@dataclass
class Loss:
    """One call of the fixture loss function."""

    seq: int
    forward: Forward | None
    value: float
    size: int  # examples in the batch, for sample-weighted means
    own_grads: list | None = None  # this loss's gradient w.r.t. each parameter, at its forward
    marker: weakref.ref | None = None  # alive exactly as long as the loss's graph node
    backward_seqs: list = field(default_factory=list)  # every backward pass that reached it

    @property
    def alive(self) -> bool:
        return self.marker is not None and self.marker() is not None

    @property
    def split(self) -> str | None:
        batch = self.forward.batch if self.forward else None
        return batch.split if batch else None


@dataclass
class BackwardPass:
    """One backward pass: the losses it went through (several for a summed loss) and what
    the parameters held in `.grad` when its gradient arrived."""

    seq: int
    losses: list = field(default_factory=list)
    stale: bool = False  # some parameter still held a non-zero gradient when it began
    params_seen: set = field(default_factory=set)

    @property
    def loss(self) -> Loss | None:
        return self.losses[0] if self.losses else None


@dataclass
class Step:
    """One optimizer step: the gradients the optimizer found."""

    seq: int
    grads: list  # per parameter: a CPU copy of .grad, or None
    fixture_optimizer: bool

    @property
    def empty(self) -> bool:
        return all(g is None or not bool(g.any()) for g in self.grads)


@dataclass
class Trace:
    """Everything recorded, in order; `events` holds the records of the four lists."""

    forwards: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    backwards: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    events: list = field(default_factory=list)
    param_shapes: list = field(default_factory=list)
    most_graphs_kept: int = 0  # largest number of older backwarded loss graphs alive at once
    kept_at_batch: int = 0  # the training loss number at which that was seen
    earlier_backwarded: int = 0  # at that moment: earlier training losses whose backward had run
    mode_layers: tuple = ()  # layers of the model that act differently in train and eval mode
