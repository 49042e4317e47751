"""Mystery: a correct loop with a learning rate too high for the problem.

Each step overshoots the valley floor. Some batches still pull the loss down, others
throw it up; the curve zig-zags, then the ups win and it climbs.
"""
import torch

from course_helpers.classifier import reference_evaluate, train_one_epoch
from course_helpers.mysteries.data import digit_loaders, digits_mlp
from course_helpers.mysteries.evidence import Evidence, record_run

LEARNING_RATE = 0.8


def make_optimizer(model, lr: float = LEARNING_RATE) -> torch.optim.Optimizer:
    """The run's optimizer: SGD with momentum 0.9."""
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def run(lr: float = LEARNING_RATE, seed: int = 0, epochs: int = 6, device="cpu") -> Evidence:
    """The run with learning rate `lr`; the default is the one that went wrong."""
    train_loader, val_loader = digit_loaders(seed)
    model = digits_mlp(seed).to(device)
    evidence, _ = record_run("Mystery run 2", train_one_epoch, reference_evaluate, model, train_loader,
                             val_loader, make_optimizer(model, lr), epochs)
    return evidence
