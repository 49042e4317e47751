"""Run a learner's function and refuse the library call that would do the exercise for it.

"Write mse by hand" is practice only if the hand-written code does the work. The guard
judges by what the call did, not by the names in its source: a torch function mode sees
every torch function the call runs, whatever name it was imported under (`F.mse_loss`,
`nn.MSELoss()`, `torch.nn.functional.mse_loss` all arrive as the same function), and it
sees every tensor that autograd starts to record; every optimizer is built through
`torch.optim.Optimizer.__init__` and stepped past the global step hook.
"""
import contextlib
from collections import Counter
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch.optim.optimizer import register_optimizer_step_pre_hook
from torch.overrides import TorchFunctionMode

from autograder.inspector.words import count, times


@dataclass(frozen=True)
class Rule:
    """One thing an exercise asks the learner to do by hand, and what would do it instead."""

    task: str                                   # what the exercise asks, for the message
    functions: dict = field(default_factory=dict)   # torch function -> how a message names it
    recording: bool = False                     # is a tensor that autograd records forbidden?
    optimizers: bool = False                    # is building or stepping a torch.optim optimizer?


AUTOGRAD = Rule(
    "derive the gradient by hand and compute it with plain tensor arithmetic, without autograd",
    {torch.Tensor.backward: "backward()", torch.autograd.grad: "torch.autograd.grad",
     torch.autograd.backward: "torch.autograd.backward"},
    recording=True)
MSE_LOSS = Rule(
    "compute the squared differences and their reduction yourself, without torch.nn",
    {F.mse_loss: "F.mse_loss (nn.MSELoss calls it too)", torch._C._nn.mse_loss: "torch._C._nn.mse_loss"})
CROSS_ENTROPY = Rule(
    "compute the log-probabilities and pick the right class yourself, without torch.nn's cross-entropy",
    {F.cross_entropy: "F.cross_entropy (nn.CrossEntropyLoss calls it too)",
     torch._C._nn.cross_entropy_loss: "torch._C._nn.cross_entropy_loss"})
OPTIMIZER = Rule(
    "update each parameter yourself, p -= lr * p.grad under torch.no_grad(), without torch.optim",
    optimizers=True)


def _records(value) -> bool:
    """Does `value` (a tensor, or a tuple or list of them) hold a tensor that autograd records?"""
    if isinstance(value, torch.Tensor):
        return value.requires_grad
    if isinstance(value, (tuple, list)):
        return any(_records(item) for item in value)
    return False


_RECORDED = "recorded"


def _describe(what: str, n: int) -> str:
    if what == _RECORDED:
        return f"made {count(n, 'tensor')} that autograd records (requires_grad)"
    return f"{what} {times(n)}"


class _Watch(TorchFunctionMode):
    """Count the forbidden torch functions a call runs, and the results autograd records."""

    def __init__(self, rules: tuple[Rule, ...], seen: Counter):
        super().__init__()
        self.names = {function: name for rule in rules for function, name in rule.functions.items()}
        self.recording = any(rule.recording for rule in rules)
        self.seen = seen

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in self.names:
            self.seen[f"called {self.names[func]}"] += 1
        result = func(*args, **(kwargs or {}))
        if self.recording and _records(result):
            self.seen[_RECORDED] += 1
        return result


@contextlib.contextmanager
def _watch_optimizers(seen: Counter):
    """Count the torch.optim optimizers built and stepped inside the block."""
    original = torch.optim.Optimizer.__init__

    def counting_init(optimizer, *args, **kwargs):
        seen[f"built a torch.optim.{type(optimizer).__name__}"] += 1
        original(optimizer, *args, **kwargs)

    def counting_step(optimizer, args, kwargs):
        seen[f"called step() of a torch.optim.{type(optimizer).__name__}"] += 1

    torch.optim.Optimizer.__init__ = counting_init
    hook = register_optimizer_step_pre_hook(counting_step)
    try:
        yield
    finally:
        torch.optim.Optimizer.__init__ = original
        hook.remove()


def call_by_hand(function, args: tuple, rule: Rule, *more: Rule):
    """Call `function(*args)` and return its result, or raise AssertionError if it used what a rule forbids.

    Pass inputs that do not require grad: under AUTOGRAD, any tensor the call makes that
    autograd records counts as using autograd.
    """
    rules = (rule, *more)
    seen = Counter()
    with contextlib.ExitStack() as stack:
        stack.enter_context(_Watch(rules, seen))
        if any(r.optimizers for r in rules):
            stack.enter_context(_watch_optimizers(seen))
        result = function(*args)
    if seen:
        used = ", ".join(_describe(what, n) for what, n in seen.items())
        name = getattr(function, "__name__", "your function")
        asks = " and ".join(r.task for r in rules)
        raise AssertionError(f"{name} let the library do the work this exercise asks you to do yourself: "
                             f"it {used}. Here you {asks}.")
    return result
