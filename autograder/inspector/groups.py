"""Cut a trace's training part into step groups: the backward passes each step used.

Every check about order and accumulation reads the same picture: between one
optimizer step and the next, which backward passes ran, and what the step found
in `.grad`. Backward passes and steps that belong to validation are left out here
(the modes checks judge those).
"""
from dataclasses import dataclass, field

import torch

from autograder.inspector.trace import BackwardPass, Step, Trace


@dataclass
class Group:
    """The backward passes that ran since the previous step, and the step that ended them."""

    backwards: list = field(default_factory=list)
    step: Step | None = None  # None for passes left over after the last step

    @property
    def forwards(self) -> list:
        """The distinct forward passes this group's backward passes went through, in order."""
        seen = []
        for backward in self.backwards:
            for forward in backward.forwards:
                if all(forward is not s for s in seen):
                    seen.append(forward)
        return sorted(seen, key=lambda f: f.seq)

    @property
    def size(self) -> int:
        """How many batches fed this group (a pass through no known forward pass counts one)."""
        return len(self.forwards) + sum(1 for b in self.backwards if not b.forwards)

    @property
    def batches(self) -> int:
        """How many different batches fed this group (one batch run twice counts once)."""
        return len({f.batch.key if f.batch is not None else id(f) for f in self.forwards}) \
            + sum(1 for b in self.backwards if not b.forwards)

    @property
    def reached_weights(self) -> bool:
        return any(b.reached_weights for b in self.backwards)


def training_groups(trace: Trace) -> list[Group]:
    """Groups in order, cut at the given optimizer's steps; the last one has step None when
    backward passes came after the last step. Validation backward passes are left out."""
    groups, current, last_was_val = [], Group(), False
    for event in trace.events:
        if isinstance(event, BackwardPass):
            last_was_val = event.validation
            if not last_was_val:
                current.backwards.append(event)
        elif isinstance(event, Step) and event.fixture_optimizer:
            if last_was_val and not current.backwards:
                continue  # a step on validation gradients: the modes checks report it
            current.step = event
            groups.append(current)
            current = Group()
    if current.backwards:
        groups.append(current)
    return groups


def flat(grads: list, shapes: list) -> torch.Tensor:
    """One vector from per-parameter gradients, a missing gradient counting as zeros."""
    parts = [torch.zeros(shape).flatten() if g is None else g.flatten().double()
             for g, shape in zip(grads, shapes)]
    return torch.cat(parts).double() if parts else torch.zeros(0, dtype=torch.float64)


def expected_gradient(group: Group, shapes: list, divide_by: int) -> torch.Tensor | None:
    """The gradient of the given loss summed over the group's forward passes, divided as the
    exercise asks: what a correct loop's step would have found in `.grad`."""
    forwards = group.forwards
    if not forwards or any(f.reference_grads is None for f in forwards) or len(forwards) != group.size:
        return None
    return sum(flat(f.reference_grads, shapes) for f in forwards) / divide_by


def scale(actual: torch.Tensor, expected: torch.Tensor) -> tuple[float, float]:
    """(how many times `expected` fits in `actual` along its direction, cosine of the two)."""
    norm = float(expected.norm())
    if norm == 0.0:
        return float("nan"), float("nan")
    ratio = float(actual @ expected) / norm ** 2
    cosine = float(actual @ expected) / (norm * max(float(actual.norm()), 1e-30))
    return ratio, cosine


def size_ratio(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """|actual| / |expected|: the figure a learner can picture ("3.0× the batch's own gradient")."""
    norm = float(expected.norm())
    return float(actual.norm()) / norm if norm else float("nan")
