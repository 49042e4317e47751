"""autograder.forbid: the guard catches the library doing an exercise's work, by effect, and nothing else."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autograder.forbid import AUTOGRAD, CROSS_ENTROPY, MSE_LOSS, OPTIMIZER, call_by_hand


def _rejects(function, args, rule, *phrases):
    with pytest.raises(AssertionError) as caught:
        call_by_hand(function, args, rule)
    message = str(caught.value)
    for phrase in phrases:
        assert phrase in message, message
    return message


def test_autograd_is_caught_however_it_is_reached():
    point = torch.tensor(2.0)
    _rejects(_backward_of_square, (point,), AUTOGRAD, "called backward() once", "without autograd")
    _rejects(lambda t: torch.func.grad(lambda u: u ** 2)(t), (point,), AUTOGRAD, "called torch.autograd.grad")
    made = _rejects(lambda t: torch.tensor(3.0, requires_grad=True) * t, (point,), AUTOGRAD)
    assert "made 2 tensors that autograd records" in made, made


def _backward_of_square(t):
    t = t.clone().requires_grad_(True)
    (t ** 2).backward()
    return t.grad


def test_the_losses_are_caught_under_every_name():
    a, b = torch.randn(4), torch.randn(4)
    from torch.nn.functional import mse_loss as renamed
    for function in (F.mse_loss, renamed, nn.MSELoss(), torch._C._nn.mse_loss):
        _rejects(function, (a, b), MSE_LOSS, "once", "without torch.nn")
    logits, labels = torch.randn(3, 5), torch.tensor([0, 4, 2])
    for function in (F.cross_entropy, nn.CrossEntropyLoss()):
        _rejects(function, (logits, labels), CROSS_ENTROPY, "F.cross_entropy")


def test_an_optimizer_built_or_stepped_is_caught_and_the_patch_is_undone():
    weight = torch.ones(3, requires_grad=True)
    weight.sum().backward()
    kept = torch.optim.Adam([weight], lr=0.1)
    _rejects(lambda: kept.step(), (), OPTIMIZER, "called step() of a torch.optim.Adam once")
    _rejects(lambda: torch.optim.SGD([weight], lr=0.1), (), OPTIMIZER, "built a torch.optim.SGD once")

    def fails(params):
        torch.optim.SGD(params, lr=0.1)
        raise KeyError("the learner's own error")
    with pytest.raises(KeyError):
        call_by_hand(fails, ([weight],), OPTIMIZER)
    before = weight.detach().clone()
    torch.optim.SGD([weight], lr=0.5).step()      # after the guard: not counted, and it works
    assert not torch.equal(before, weight.detach())
    assert torch.optim.Optimizer.__init__.__name__ == "__init__"


def test_work_done_by_hand_passes_and_returns_its_result():
    x = torch.randn(5, requires_grad=True)
    assert call_by_hand(lambda p, t: ((p - t) ** 2).mean(), (x, torch.zeros(5)), MSE_LOSS).requires_grad
    w, b, xs, ys = torch.tensor(1.5), torch.tensor(0.5), torch.randn(6), torch.randn(6)
    dw, db = call_by_hand(lambda w, b, x, y: ((2 * (w * x + b - y) * x).mean(), (2 * (w * x + b - y)).mean()),
                          (w, b, xs, ys), AUTOGRAD)
    assert dw.shape == () and db.shape == ()
    p = torch.ones(2, requires_grad=True)
    (3 * p).sum().backward()

    def by_hand(params, lr):
        with torch.no_grad():
            for q in params:
                q -= lr * q.grad
                q.grad = None
    assert call_by_hand(by_hand, ([p], 0.5), OPTIMIZER) is None
    assert torch.equal(p.detach(), torch.tensor([-0.5, -0.5]))


def test_the_mode_ends_with_the_call():
    with pytest.raises(AssertionError):
        call_by_hand(F.mse_loss, (torch.ones(1), torch.zeros(1)), MSE_LOSS)
    assert F.mse_loss(torch.ones(1), torch.zeros(1)).item() == 1.0
    assert not torch.overrides._get_current_function_mode_stack()
