"""What the given optimizer, as it was given, would make of a gradient.

A step is judged against a replay: a fresh optimizer of the given one's class and
settings, on a copy of the weights before the step and a copy of its state (momentum,
Adam's averages), fed the gradient the step found. Its update is exactly the given
optimizer's own, so any difference is something done to the update, not to the
gradient: a learning rate made negative, `maximize` switched on, parameters taken out
of the optimizer, weight decay changed by hand.

What schedulers change on purpose (the learning rate, momentum, Adam's betas) is read
from the step itself when it is a valid value; anything else is the optimizer as given.
"""
import copy
import math

import torch

SCHEDULED = ("lr", "momentum", "betas")  # what LR schedulers (OneCycleLR, CyclicLR) may move


def _valid(name: str, value) -> bool:
    try:
        if name == "betas":
            return len(value) == 2 and all(0.0 <= float(b) < 1.0 for b in value)
        number = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(number) and number >= 0.0 and (name != "momentum" or number <= 1.0)


def _copied(state) -> dict:
    """One parameter's optimizer state, its tensors cloned (a deepcopy costs ten times more)."""
    if not isinstance(state, dict):
        return copy.deepcopy(state)
    return {k: v.detach().clone() if isinstance(v, torch.Tensor) else copy.deepcopy(v) for k, v in state.items()}


class Replay:
    """The given optimizer's class and settings, kept from the start of the run."""

    def __init__(self, optimizer, params: list):
        self.kind = type(optimizer)
        self.params = params
        groups = getattr(optimizer, "param_groups", None) or [{}]
        self.settings = {k: copy.deepcopy(v) for k, v in groups[0].items() if k != "params"
                         and k in getattr(optimizer, "defaults", {})}
        self.usable = not issubclass(self.kind, torch.optim.LBFGS)  # its step needs the learner's closure

    def state_of(self, optimizer) -> dict:
        """A copy of the optimizer's state for each parameter (by its place), before a step."""
        state = getattr(optimizer, "state", {})
        return {i: _copied(state[p]) for i, p in enumerate(self.params) if p in state}

    def current(self, optimizer) -> dict:
        """The settings to replay a step with: as given, but for what schedulers move."""
        settings = dict(self.settings)
        group = next((g for g in optimizer.param_groups if any(p is self.params[0] for p in g["params"])),
                     optimizer.param_groups[0]) if self.params and optimizer.param_groups else {}
        for name in SCHEDULED:
            if name in settings and name in group and _valid(name, group[name]):
                settings[name] = group[name]
        return settings

    def flips(self, optimizer) -> str:
        """What in the optimizer's settings now turns its steps uphill, in words ("" if nothing)."""
        said = []
        for group in optimizer.param_groups:
            lr = group.get("lr")
            try:
                if float(lr) < 0:
                    said.append(f"its learning rate was {float(lr):g}")
            except (TypeError, ValueError):
                pass
            if group.get("maximize") and not self.settings.get("maximize"):
                said.append("`maximize` was switched on")
        return " and ".join(dict.fromkeys(said))

    def update(self, weights: list, grads: list, state: dict, settings: dict) -> list | None:
        """Per parameter, the change the optimizer as given makes from `weights` with `grads`."""
        if not self.usable:
            return None
        try:
            copies = [w.detach().clone().requires_grad_(True) for w in weights]
            for copy_, grad in zip(copies, grads):
                copy_.grad = None if grad is None else grad.detach().clone().to(copy_.device)
            optimizer = self.kind(copies, **settings)
            for i, copy_ in enumerate(copies):
                if i in state:
                    optimizer.state[copy_] = _copied(state[i])
            optimizer.step()
            return [(c.detach() - w.detach()).cpu() for c, w in zip(copies, weights)]
        except Exception:  # an optimizer that cannot be rebuilt this way is not judged by replay
            return None
