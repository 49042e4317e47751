"""Mystery run 6: the healthy run's set-up (digits, small MLP, Adam), with its own loop; its
author watched the memory panel, and the log printed what the loop returned.
"""
from course_helpers.mysteries.data import model_device
from course_helpers.mysteries.evidence import Evidence
from course_helpers.mysteries.runs import digits_run
from course_helpers.mysteries.uncheckable import uncheckable


@uncheckable
def train_epoch(model, loader, loss_fn, optimizer):
    """One pass over the loader, one update per batch; returns the mean batch loss."""
    model.train()
    device = model_device(model)
    total = 0.0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        total = total + loss
    return total / len(loader)


def run(seed: int = 0, epochs: int = 6, device="cpu", loop=train_epoch) -> Evidence:
    """The run as it went (`loop` replaces its loop, to compare with a fix)."""
    evidence, recorder = digits_run("Mystery run 6", loop, seed=seed, epochs=epochs, device=device)
    evidence.facts["returned_types"] = sorted({type(value).__name__ for value in recorder.history})
    evidence.notes.append(f"what the loop returned for the last epoch: {recorder.history[-1]!r}")
    return evidence
