"""Friendly assertions used by visible test cells: each names what is off."""
import pytest
import torch

from autograder.expect import expect_equal, expect_raises, expect_tensor


@pytest.mark.parametrize("actual, message", [
    ([[0.0]], "should be a torch.Tensor, but it is a list"),
    (torch.zeros(3), "has shape (3,), but it should have shape (2, 3)"),
    (torch.zeros(2, 3, dtype=torch.int64), "has dtype torch.int64, but it should have dtype torch.float32"),
    (torch.ones(2, 3), "largest difference is 1"),
])
def test_expect_tensor_names_the_difference(actual, message):
    with pytest.raises(AssertionError) as caught:
        expect_tensor("result", actual, torch.zeros(2, 3))
    assert message in str(caught.value)


def test_expect_tensor_accepts_equal_and_close_tensors():
    expect_tensor("result", torch.zeros(2, 3) + 1e-8, torch.zeros(2, 3))
    expect_tensor("labels", torch.tensor([1, 2]), torch.tensor([1, 2]))
    expect_tensor("loose", torch.tensor([1, 2]), torch.tensor([1.0, 2.0]), check_dtype=False)


def test_expect_tensor_counts_wrong_integers():
    with pytest.raises(AssertionError, match="1 of its 3 values differ"):
        expect_tensor("labels", torch.tensor([1, 2, 3]), torch.tensor([1, 2, 4]))


def test_expect_equal_and_raises():
    expect_equal("n", 3, 3)
    with pytest.raises(AssertionError, match="`n` is 2, but it should be 3"):
        expect_equal("n", 2, 3)
    error = expect_raises("f", lambda: 1 / 0, ZeroDivisionError)
    assert isinstance(error, ZeroDivisionError)
    with pytest.raises(AssertionError, match="should raise ValueError"):
        expect_raises("f", lambda: None, ValueError)
