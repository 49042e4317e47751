"""Friendly assertions for visible test cells: say what differs, in a learner's words.

`assert torch.equal(a, b)` fails with a bare AssertionError; these say which of
type, shape, dtype or values was wrong, and by how much.
"""
import torch


def expect_tensor(name: str, actual, expected: torch.Tensor, *, atol: float = 1e-6,
                  rtol: float = 1e-5, check_dtype: bool = True) -> None:
    """Raise an AssertionError that names the first thing about `actual` that is off."""
    if not isinstance(actual, torch.Tensor):
        raise AssertionError(f"`{name}` should be a torch.Tensor, but it is a {type(actual).__name__}.")
    if tuple(actual.shape) != tuple(expected.shape):
        raise AssertionError(f"`{name}` has shape {tuple(actual.shape)}, but it should have shape "
                             f"{tuple(expected.shape)}.")
    if check_dtype and actual.dtype != expected.dtype:
        raise AssertionError(f"`{name}` has dtype {actual.dtype}, but it should have dtype {expected.dtype}.")
    a = actual.detach().cpu()
    e = expected.detach().cpu().to(a.dtype) if not check_dtype else expected.detach().cpu()
    if a.dtype.is_floating_point or a.dtype.is_complex:
        if not torch.allclose(a, e, atol=atol, rtol=rtol, equal_nan=True):
            gap = (a - e).abs().nan_to_num(float("inf")).max().item()
            raise AssertionError(f"`{name}` has the right shape and dtype but different values: "
                                 f"the largest difference is {gap:.3g}.")
    elif not torch.equal(a, e):
        wrong = int((a != e).sum())
        raise AssertionError(f"`{name}` has the right shape and dtype, but {wrong} of its "
                             f"{a.numel()} values differ from what was expected.")


def expect_equal(name: str, actual, expected) -> None:
    """Raise an AssertionError that shows both values when they differ."""
    if actual != expected:
        raise AssertionError(f"`{name}` is {actual!r}, but it should be {expected!r}.")


def expect_raises(name: str, function, error: type[BaseException], *args, **kwargs) -> BaseException:
    """Call `function`; raise an AssertionError unless it raises `error`. Return the error."""
    try:
        function(*args, **kwargs)
    except error as caught:
        return caught
    raise AssertionError(f"`{name}` should raise {error.__name__} here, but it returned normally.")
