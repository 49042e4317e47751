"""The set-up most mysteries share: the digits, the small MLP, a loop, a recorded run."""
import torch

from course_helpers.classifier import reference_evaluate
from course_helpers.mysteries.data import digit_loaders, digits_mlp
from course_helpers.mysteries.evidence import Evidence, Recorder, record_run


def adam(model) -> torch.optim.Optimizer:
    """Adam at 0.01: what a run uses unless its story says otherwise."""
    return torch.optim.Adam(model.parameters(), lr=0.01)


def digits_run(title: str, loop, *, seed: int = 0, epochs: int, device="cpu", make_optimizer=adam,
               batch_size: int = 32, extra_args: tuple = ()) -> tuple[Evidence, Recorder]:
    """Train a fresh seeded `digits_mlp` with `loop` on the seeded digits split; validate with
    the course's `reference_evaluate` after every epoch."""
    train_loader, val_loader = digit_loaders(seed, batch_size=batch_size)
    model = digits_mlp(seed).to(device)
    return record_run(title, loop, reference_evaluate, model, train_loader, val_loader, make_optimizer(model),
                      epochs, extra_args=extra_args)
