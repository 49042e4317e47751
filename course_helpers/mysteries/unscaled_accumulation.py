"""Mystery: gradient accumulation over 4 batches, without dividing each loss by 4.

Four `backward()` calls add four mean-batch gradients into `.grad`: the step uses 4×
the gradient of the group's mean loss, so plain SGD moves 4× as far as the learning
rate says. The run behaves like one with a learning rate 4× too high.
"""
import torch

from course_helpers.mysteries.data import digit_loaders, digits_mlp, model_device
from course_helpers.mysteries.evidence import Evidence
from course_helpers.mysteries.runs import digits_run

ACCUM_STEPS = 4


def train_epoch_accumulate(model, loader, loss_fn, optimizer, accum_steps):
    """One optimizer step every `accum_steps` batches; returns the mean batch loss."""
    model.train()
    device = model_device(model)
    losses = []
    optimizer.zero_grad()
    for index, (images, labels) in enumerate(loader, start=1):
        images, labels = images.to(device), labels.to(device)
        loss = loss_fn(model(images), labels)
        loss.backward()
        losses.append(loss.item())
        if index % accum_steps == 0 or index == len(loader):
            optimizer.step()
            optimizer.zero_grad()
    return sum(losses) / len(losses)


def run(seed: int = 0, epochs: int = 4, lr: float = 0.5, device="cpu", loop=train_epoch_accumulate) -> Evidence:
    """The run as it went wrong, and the first step's gradient next to one big batch's."""
    big_batch = first_step_norm(seed, device)
    evidence, _ = digits_run("Mystery run 4", loop, seed=seed, epochs=epochs, device=device, batch_size=8,
                             make_optimizer=lambda model: torch.optim.SGD(model.parameters(), lr=lr),
                             extra_args=(ACCUM_STEPS,))
    first = {name: norms[0] for name, norms in evidence.grad_norms.items()}
    evidence.facts.update(first_step_norms=first, one_batch_norms=big_batch)
    evidence.notes.append("gradient norm at the first step: " + ", ".join(
        f"{name} {first[name]:.4g}" for name in first))
    evidence.notes.append("the same first step as ONE batch of 32 (no accumulation): " + ", ".join(
        f"{name} {big_batch[name]:.4g}" for name in big_batch))
    return evidence


def first_step_norm(seed: int, device="cpu") -> dict[str, float]:
    """Each parameter's gradient norm for the first 32 training examples as one batch, at the start."""
    train_loader, _ = digit_loaders(seed, batch_size=8 * ACCUM_STEPS)
    model = digits_mlp(seed).to(device)
    images, labels = next(iter(train_loader))
    torch.nn.functional.cross_entropy(model(images.to(device)), labels.to(device)).backward()
    return {name: p.grad.norm().item() for name, p in model.named_parameters()}
