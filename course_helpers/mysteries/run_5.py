"""Mystery run 5: 160 training and 160 validation digits, each wrapped in a small `Dataset` that
puts its examples in a seeded random order once; a wider MLP (256 hidden units), Adam, ten
epochs. At the end its author measured the model on its own training set too.
"""
import torch
from torch.utils.data import Dataset

from course_helpers.classifier import reference_evaluate, train_one_epoch
from course_helpers.mysteries.data import batch_loader, digits_mlp, digits_split, loaders
from course_helpers.mysteries.evidence import Evidence, record_run


class ShuffledDigits(Dataset):
    """The digits in a random order, fixed by `seed` so that a run can be repeated."""

    def __init__(self, images, labels, seed=0):
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
        self.images = images[order]
        self.labels = labels

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return self.images[index], self.labels[index]


def run(seed: int = 0, epochs: int = 10, device="cpu", dataset_class=ShuffledDigits) -> Evidence:
    """The run as it went; `dataset_class` replaces its Dataset, to compare with a fix."""
    x, y, vx, vy = digits_split(train=160, val=160, seed=seed)
    train_set, val_set = dataset_class(x, y, seed=seed), dataset_class(vx, vy, seed=seed + 1)
    train_loader, val_loader = loaders(train_set, val_set, batch_size=32, seed=seed)
    model = digits_mlp(seed, hidden=256).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    evidence, _ = record_run("Mystery run 5", train_one_epoch, reference_evaluate, model, train_loader,
                             val_loader, optimizer, epochs)
    train_loss, train_acc = reference_evaluate(model, batch_loader(train_set, 80), torch.nn.CrossEntropyLoss())
    evidence.facts["train_acc"] = train_acc
    evidence.notes.append(f"accuracy on the training set after the run: {train_acc:.1%}")
    return evidence
