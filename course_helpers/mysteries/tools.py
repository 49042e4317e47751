"""The phase-4 debugging tools, for runs the learner investigates: gradient norms and a smoke test."""
import math

from torch import nn


def gradient_norms(model: nn.Module) -> dict[str, float | None]:
    """Each parameter's gradient norm right now, by name; None where `.grad` is empty."""
    return {name: None if p.grad is None else p.grad.norm().item() for name, p in model.named_parameters()}


def smoke_test(losses, factor: float = 0.9) -> None:
    """Raise AssertionError unless every loss is finite and the last is below `factor` × the first."""
    losses = [float(value) for value in losses]
    if not losses:
        raise AssertionError("no losses to test: the run recorded none")
    bad = next((i for i, value in enumerate(losses) if not math.isfinite(value)), None)
    if bad is not None:
        raise AssertionError(f"the loss became {losses[bad]} at step {bad + 1}")
    if not losses[-1] < factor * losses[0]:
        raise AssertionError(f"the loss went from {losses[0]:.4g} to {losses[-1]:.4g} in {len(losses)} steps; "
                             f"it should have fallen by at least {1 - factor:.0%}")
    print(f"smoke test passed: the loss fell from {losses[0]:.4g} to {losses[-1]:.4g} in {len(losses)} steps")
