"""Mystery run 2: the digits, the small MLP, SGD with momentum 0.9, the healthy loop, six epochs.

`run(lr=...)` trains the same run with another learning rate (a learning-rate sweep).
"""
import torch

from course_helpers.classifier import train_one_epoch
from course_helpers.mysteries.evidence import Evidence
from course_helpers.mysteries.runs import digits_run

LEARNING_RATE = 0.8


def make_optimizer(model, lr: float = LEARNING_RATE) -> torch.optim.Optimizer:
    """The run's optimizer: SGD with momentum 0.9."""
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def run(lr: float = LEARNING_RATE, seed: int = 0, epochs: int = 6, device="cpu") -> Evidence:
    """The run with learning rate `lr`; the default is the one the run used."""
    evidence, _ = digits_run("Mystery run 2", train_one_epoch, seed=seed, epochs=epochs, device=device,
                             make_optimizer=lambda model: make_optimizer(model, lr))
    return evidence
