"""Mystery: the loop moves the images to the device, and forgets the labels.

On a GPU the first loss raises "Expected all tensors to be on the same device". On a
CPU-only machine the device *is* the CPU, so nothing happens at all: the curves are
healthy, and only the record of `.to()` calls shows the labels were never moved.
"""
import torch

from course_helpers.classifier import reference_evaluate
from course_helpers.mysteries.data import digit_loaders, digits_mlp, model_device
from course_helpers.mysteries.evidence import Evidence, record_run
from course_helpers.mysteries.moves import MoveRecorder, Provenance, record_moves


def train_epoch(model, loader, loss_fn, optimizer):
    """One pass over the loader, one update per batch; returns the mean batch loss."""
    model.train()
    device = model_device(model)
    losses = []
    for images, labels in loader:
        images = images.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def run(seed: int = 0, epochs: int = 3, device="cpu", loop=train_epoch) -> Evidence:
    """The run on `device` as it went (on a GPU: the error it stopped with)."""
    train_loader, val_loader = digit_loaders(seed)
    model = digits_mlp(seed).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    stopped = ""
    with MoveRecorder() as recorder:
        provenance = Provenance(recorder)
        loss_fn, handle = provenance.watch(model, torch.nn.CrossEntropyLoss())
        try:
            evidence, _ = record_run("Mystery run 7", loop, reference_evaluate, model, train_loader, val_loader,
                                     optimizer, epochs, loss_fn=loss_fn)
        except RuntimeError as error:  # on a GPU: the labels sit on the CPU
            evidence, stopped = Evidence("Mystery run 7"), f"The run stopped: RuntimeError: {error}"
        finally:
            handle.remove()
    evidence.device_line = provenance.line(device)
    evidence.facts.update(inputs=dict(provenance.inputs), targets=dict(provenance.targets))
    if stopped:
        evidence.notes.append(stopped)
    return evidence


def moves_of(loop, seed: int = 0, device="cpu", batch_size: int = 32):
    """One epoch of `loop` on a fresh model and loader; which batches it moved to the device."""
    train_loader, _ = digit_loaders(seed, batch_size=batch_size)
    model = digits_mlp(seed).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return record_moves(loop, model, train_loader, torch.nn.CrossEntropyLoss(), optimizer)
