"""The open case: a run with no label. Find the cause with the phase-4 tools.

(The docstring of the loop does not give it away: the learner reads the evidence, runs
the smoke test, prints gradient norms and asks the self-check.)
"""
from course_helpers.mysteries.data import model_device
from course_helpers.mysteries.evidence import Evidence
from course_helpers.mysteries.runs import digits_run


def train_epoch(model, loader, loss_fn, optimizer):
    """One pass over the loader, one update per batch; returns the mean batch loss."""
    model.train()
    device = model_device(model)
    losses = []
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def run(seed: int = 0, epochs: int = 5, device="cpu", loop=train_epoch) -> Evidence:
    """The run as it went (`loop` replaces the mystery loop, to compare with a fix)."""
    evidence, _ = digits_run("The open case", loop, seed=seed, epochs=epochs, device=device)
    return evidence
