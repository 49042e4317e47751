"""What the inspector saw during one run of a learner's function, in the order it happened.

One structure: `Trace.events`, a single ordered list of records. Every record carries
`seq`, its place in one shared counter, so checks can ask "did this step come between
that forward pass and its backward?" without timestamps. The lists checks read
(`forwards`, `losses`, `backwards`, `steps`, `weight_changes`) are views derived from
`events`, never kept in step by hand.
"""
from dataclasses import dataclass, field, replace

import torch


@dataclass(eq=False)
class Batch:
    """One batch a fixture loader handed out (or the full-batch tensors of train_loop), or
    the rows a forward pass really took, when the learner's code made its own batch of them
    (rows reordered, a subset, rows of several batches): then `made` is True, `rows` says
    which example each row is, and `y` holds each row's own target."""

    split: str  # "train" or "val"
    epoch: int  # 0-based pass over this loader
    index: int  # 0-based position inside the pass (a made batch: its first row's batch)
    x: torch.Tensor
    y: torch.Tensor
    rows: tuple = ()  # the example (its place in the data set) of each row
    made: bool = False

    @property
    def key(self) -> tuple:
        """Which batch this is: two forward passes with equal keys ran on the same examples."""
        return (self.epoch, self.index) if not self.made else (self.epoch, self.rows)

    @property
    def label(self) -> str:
        """'batch 3', or 'a batch your code put together' for a made one."""
        return f"batch {self.index + 1}" if not self.made else "a batch your code put together"


@dataclass(eq=False)
class Forward:
    """One call of the fixture model, and what the given loss function says of its output.

    `reference` is the given loss function's value on this output and the batch's
    targets, however the learner computed their own loss; `reference_grads` is its
    gradient w.r.t. each parameter on the learner's own graph (same dropout masks, same
    batch statistics): the yardstick for the step that uses this pass.
    """

    seq: int
    batch: Batch | None
    training: bool
    grad_enabled: bool
    output: torch.Tensor | None = None  # detached CPU copy
    reference: float | None = None
    reference_grads: list | None = None
    backward_seqs: list = field(default_factory=list)  # backward passes whose graph reached this output
    losses: list = field(default_factory=list)  # the learner's losses computed from this pass alone
    where: tuple | None = None  # (file, line) of the learner's code that made the call
    known: tuple = ()  # per input row: found among the examples handed out (exactly, or nearly: augmented)
    exact: tuple = ()  # per input row: found with exactly the values handed out
    output_grad: torch.Tensor | None = None  # what the learner's backward passes sent into the output (summed)
    reference_output_grad: torch.Tensor | None = None  # the given loss's gradient at the output

    @property
    def split(self) -> str | None:
        return self.batch.split if self.batch else None

    @property
    def size(self) -> int:
        return len(self.batch.y) if self.batch is not None else 1

    @property
    def trained(self) -> bool:
        """A backward pass went through this forward pass."""
        return bool(self.backward_seqs)


@dataclass(eq=False)
class Loss:
    """A loss the learner's code computed: a loss module's output, or a tensor `backward()` ran on.

    `forwards` are the model passes its graph reaches. `markers` are weak references to
    do-nothing hooks on its graph nodes: alive exactly as long as those nodes, so they
    tell whether the learner keeps the loss's graph alive.
    """

    seq: int
    value: float
    forwards: list = field(default_factory=list)
    markers: list = field(default_factory=list)
    backward_seqs: list = field(default_factory=list)  # every backward pass that reached it

    @property
    def alive(self) -> bool:
        return any(marker() is not None for marker in self.markers)

    @property
    def split(self) -> str | None:
        splits = {f.split for f in self.forwards}
        return "val" if "val" in splits else "train" if "train" in splits else None


@dataclass(eq=False)
class BackwardPass:
    """One backward pass: the loss it started from, the losses and forward passes its graph
    went through, and what the parameters held in `.grad` when their gradient arrived."""

    seq: int
    root: Loss | None = None  # the tensor `backward()` was called on (None: autograd called otherwise)
    losses: list = field(default_factory=list)
    forwards: list = field(default_factory=list)
    stale: bool = False  # some parameter still held a non-zero gradient when it began
    params_seen: set = field(default_factory=set)  # indices of the parameters it reached
    error: str = ""  # the backward pass raised
    where: tuple | None = None

    @property
    def validation(self) -> bool:
        return any(f.split == "val" for f in self.forwards) or any(l.split == "val" for l in self.losses)

    @property
    def reached_weights(self) -> bool:
        return bool(self.params_seen)


@dataclass(eq=False)
class Step:
    """One optimizer step: the gradients it found, and the weights before and after it."""

    seq: int
    grads: list  # per parameter: a CPU copy of .grad, or None
    fixture_optimizer: bool
    optimizer: str = ""  # e.g. "SGD (lr=0.1)"
    moved: float = 0.0  # the largest change of one weight in this step
    where: tuple | None = None
    update: list | None = None  # per parameter: how the step changed it (CPU)
    expected_update: list | None = None  # what the given optimizer, as given, makes of `grads`
    lr: float | None = None  # the learning rate the step ran with
    flipped: str = ""  # what in the optimizer's settings turned the step uphill, in words
    frozen: tuple = ()  # parameters whose requires_grad was off at this step

    @property
    def empty(self) -> bool:
        return all(g is None or not bool(g.any()) for g in self.grads)


@dataclass(eq=False)
class WeightChange:
    """The weights changed outside every optimizer step (seen at the next forward pass,
    step or at the end of the run): an update written by hand, or weights loaded."""

    seq: int
    largest: float  # the largest change of one weight
    restored: bool = False  # the weights became equal to an earlier state (best weights restored)
    at_end: bool = False


@dataclass(eq=False)
class Call:
    """One call of the learner's function: a per-epoch function is called twice in a row,
    as `fit` calls it, so what the first call leaves behind shows in the second."""

    seq: int
    number: int  # 1, 2, ...
    end: int = 0  # the last seq of the call
    result: object = None
    weights_changed: bool = False  # the call ended with other weights than it began with


@dataclass
class Trace:
    """Everything recorded, in order (`events`), and what the run worked with."""

    events: list = field(default_factory=list)
    param_names: list = field(default_factory=list)
    param_shapes: list = field(default_factory=list)
    most_graphs_kept: int = 0  # largest number of older backwarded loss graphs alive at once
    kept_at_batch: int = 0  # the training loss number at which that was seen
    earlier_backwarded: int = 0  # at that moment: earlier training losses whose backward had run
    mode_layers: tuple = ()  # layers of the model that act differently in train and eval mode
    fixture_optimizer: str = ""  # the given optimizer, in words
    loss_kind: str = ""  # the given loss function's class name ("CrossEntropyLoss", "MSELoss")
    weights_changed: bool = False  # the final weights differ from the initial ones
    steps_before: int = 0  # in a call's part: the given optimizer's steps in the calls before it

    def _of(self, kind) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def forwards(self) -> list:
        return self._of(Forward)

    @property
    def losses(self) -> list:
        return self._of(Loss)

    @property
    def backwards(self) -> list:
        return self._of(BackwardPass)

    @property
    def steps(self) -> list:
        """Steps of the given optimizer (an optimizer the learner built is a foreign update)."""
        return [e for e in self.events if isinstance(e, Step) and e.fixture_optimizer]

    @property
    def foreign_steps(self) -> list:
        return [e for e in self.events if isinstance(e, Step) and not e.fixture_optimizer]

    @property
    def weight_changes(self) -> list:
        return self._of(WeightChange)

    @property
    def calls(self) -> list:
        return self._of(Call)

    def part(self, call: "Call") -> "Trace":
        """The same trace, cut to the events of one call (a view: the events are shared)."""
        events = [e for e in self.events if call.seq <= e.seq <= call.end and e is not call]
        before = sum(1 for e in self.steps if e.seq < call.seq)
        return replace(self, events=events, weights_changed=call.weights_changed, steps_before=before)

    def facts(self) -> dict:
        """What the run did, in counts: messages are checked against these."""
        training = [f for f in self.forwards if f.grad_enabled and f.split == "train" and f.batch is not None]
        seen, passes = set(), {}
        for forward in training:
            rows = [r for r, known in zip(forward.batch.rows, forward.known) if known]
            seen.update(rows)
            if forward.trained:
                for row, exact in zip(forward.batch.rows, forward.exact):
                    passes[row] = passes.get(row, 0) + exact
        curve = [f.reference if f.reference is not None else f.losses[0].value
                 for f in self.forwards if f.trained and f.split == "train" and (f.reference is not None or f.losses)]
        return {"forwards": len(self.forwards), "backwards": len(self.backwards),
                "steps": len(self.steps) + len(self.foreign_steps), "fixture_steps": len(self.steps),
                "weights_changed": self.weights_changed, "parameters": len(self.param_names),
                "examples_trained": len(seen), "most_passes_per_example": max(passes.values(), default=0),
                "first_training_loss": curve[0] if curve else None, "last_training_loss": curve[-1] if curve else None}
