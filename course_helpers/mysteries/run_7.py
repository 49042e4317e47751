"""Mystery run 7: written for a GPU, tried out first on the notebook's `device`; the healthy
run's set-up, with its own loop. Its author added a device line to the log: where the run
trained, and how many training batches reached the model and the loss through `.to()`.
"""
import torch

from course_helpers.classifier import reference_evaluate
from course_helpers.mysteries.data import digit_loaders, digits_mlp, model_device
from course_helpers.mysteries.evidence import Evidence, record_run
from course_helpers.mysteries.moves import MoveRecorder, Provenance, record_moves
from course_helpers.mysteries.uncheckable import uncheckable


@uncheckable
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


def train_epoch_moving(move_batch):
    """The healthy loop with each whole batch moved by `move_batch(batch, device)`: to rerun the
    run with a fix written as a function that moves batches."""
    def train_epoch_with_moves(model, loader, loss_fn, optimizer):
        model.train()
        device = model_device(model)
        losses = []
        for batch in loader:
            images, labels = move_batch(batch, device)
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return sum(losses) / len(losses)

    return train_epoch_with_moves


def run(seed: int = 0, epochs: int = 3, device="cpu", loop=train_epoch) -> Evidence:
    """The run on `device` as it went (where it stopped with an error, the error)."""
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
        except RuntimeError as error:
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
