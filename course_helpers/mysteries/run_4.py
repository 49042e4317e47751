"""Mystery run 4: the digits and the small MLP in mixed precision: the forward pass under
`torch.autocast` (bfloat16 on a CPU, float16 on a GPU), a `GradScaler`, gradient clipping
at 1.0, SGD with momentum 0.9 and learning rate 0.1, five epochs.

The run's author also printed, for its first batch, the norm of `.grad` as `backward()`
left it, and the scale the scaler ended with.
"""
import torch

from course_helpers.mysteries.data import digit_loaders, digits_mlp, model_device
from course_helpers.mysteries.evidence import Evidence
from course_helpers.mysteries.runs import digits_run
from course_helpers.mysteries.uncheckable import uncheckable

MAX_NORM = 1.0


def autocast_dtype(device) -> torch.dtype:
    """What the run computes in under autocast: bfloat16 on a CPU, float16 on a GPU."""
    return torch.bfloat16 if torch.device(device).type == "cpu" else torch.float16


@uncheckable
def train_epoch(model, loader, loss_fn, optimizer, scaler, max_norm):
    """One pass over the loader in mixed precision, one update per batch; returns the mean batch loss."""
    model.train()
    device = model_device(model)
    losses = []
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        with torch.autocast(device_type=device.type, dtype=autocast_dtype(device)):
            loss = loss_fn(model(images), labels)
        scaler.scale(loss).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        scaler.step(optimizer)
        scaler.update()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def make_optimizer(model) -> torch.optim.Optimizer:
    """The run's optimizer: SGD with momentum 0.9, learning rate 0.1."""
    return torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def first_backward_norm(seed: int, device="cpu") -> float:
    """The norm of `.grad` (all parameters together) as the run's `backward()` left it on its first batch."""
    train_loader, _ = digit_loaders(seed)
    model = digits_mlp(seed).to(device)
    scaler = torch.amp.GradScaler(torch.device(device).type)
    images, labels = next(iter(train_loader))
    with torch.autocast(device_type=torch.device(device).type, dtype=autocast_dtype(device)):
        loss = torch.nn.functional.cross_entropy(model(images.to(device)), labels.to(device))
    scaler.scale(loss).backward()
    return float(torch.nn.utils.get_total_norm([p.grad for p in model.parameters()]))


def run(seed: int = 0, epochs: int = 5, device="cpu", loop=train_epoch) -> Evidence:
    """The run as it went (`loop` replaces its loop, to compare with a fix)."""
    scaler = torch.amp.GradScaler(torch.device(device).type)
    evidence, _ = digits_run("Mystery run 4", loop, seed=seed, epochs=epochs, device=device,
                             make_optimizer=make_optimizer, extra_args=(scaler, MAX_NORM))
    used = [sum(norms[i] ** 2 for norms in evidence.grad_norms.values()) ** 0.5
            for i in range(len(evidence.step_loss))]
    backward = first_backward_norm(seed, device)
    evidence.facts.update(step_norms=used, first_backward_norm=backward, final_scale=scaler.get_scale())
    evidence.notes.append(f"the first batch's gradient as backward() left it: norm {backward:.4g}")
    evidence.notes.append(f"the gradient norm each step used (all parameters together): from {min(used):.4g} "
                          f"to {max(used):.4g} over the {len(used)} steps")
    evidence.notes.append(f"the scaler's scale at the end of the run: {scaler.get_scale():g}")
    return evidence
