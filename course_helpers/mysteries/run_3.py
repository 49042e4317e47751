"""Mystery run 3: the digits, an MLP with batch norm, Adam, six epochs; a validation set stored
sorted by digit, validated in that order. After the run its author validated the final
weights again with three batch sizes.
"""
import torch
from torch.utils.data import TensorDataset

from course_helpers.classifier import train_one_epoch
from course_helpers.mysteries.data import batch_loader, digits_mlp, digits_split, loaders, model_device
from course_helpers.mysteries.evidence import Evidence, record_run
from course_helpers.mysteries.uncheckable import uncheckable


@uncheckable
def evaluate(model, loader, loss_fn):
    """(mean loss per example, accuracy) over the loader, without gradients."""
    device = model_device(model)
    total_loss, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            scores = model(images)
            total_loss += loss_fn(scores, labels).item() * len(labels)
            correct += (scores.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
    return total_loss / seen, correct / seen


def evaluate_inside(context):
    """The run's `evaluate`, run inside `with context(model):`: to compare the run with a fix written
    as a context manager."""
    def evaluate_in_context(model, loader, loss_fn):
        with context(model):
            return evaluate(model, loader, loss_fn)

    return evaluate_in_context


def sorted_validation(seed: int = 0):
    """Training and validation sets; the validation set sorted by label, as it was stored."""
    x, y, vx, vy = digits_split(seed=seed)
    order = torch.argsort(vy, stable=True)
    return TensorDataset(x, y), TensorDataset(vx[order], vy[order])


def run(seed: int = 0, epochs: int = 6, device="cpu", evaluate_fn=evaluate) -> Evidence:
    """The run as it went; `evaluate_fn` replaces its validation, to compare with a fix."""
    train_set, val_set = sorted_validation(seed)
    train_loader, val_loader = loaders(train_set, val_set, batch_size=32, val_batch_size=16, seed=seed)
    model = digits_mlp(seed, batchnorm=True).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    evidence, _ = record_run("Mystery run 3", train_one_epoch, evaluate_fn, model, train_loader, val_loader,
                             optimizer, epochs)
    by_size = {size: evaluate_fn(model, batch_loader(val_set, size), torch.nn.CrossEntropyLoss())[1]
               for size in (16, 80, len(val_set))}
    evidence.facts["val_acc_by_batch_size"] = by_size
    evidence.notes.append("The final weights, validated again: " + ", ".join(
        f"{accuracy:.1%} with batches of {size}" for size, accuracy in by_size.items()) + ".")
    return evidence
