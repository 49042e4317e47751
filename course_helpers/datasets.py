"""The small real data sets that ship with the course (nothing is downloaded).

In a checkout they lie in the repository's `data/` folder; in an installed wheel
(Colab) the same files lie in `course_helpers/data/`.
"""
import gzip
import time
from pathlib import Path

import numpy as np
import torch
import torch.utils.data

_HERE = Path(__file__).resolve().parent


def data_file(name: str) -> Path:
    """Path of a shipped data file, whether the course is a checkout or an installed wheel."""
    for folder in (_HERE / "data", _HERE.parent / "data"):
        path = folder / name
        if path.is_file():
            return path
    raise FileNotFoundError(f"The course data file {name!r} is missing: it should lie in the "
                            f"repository's data/ folder or in {_HERE / 'data'}. "
                            f"Reinstall the course package.")


def load_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """The 1,797 8×8 handwritten digits: images as float32 in [0, 1] (N, 64), labels int64 (N,)."""
    with gzip.open(data_file("digits.csv.gz"), "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.float32)
    images = torch.from_numpy(table[:, :64] / 16.0)
    labels = torch.from_numpy(table[:, 64].astype(np.int64))
    return images, labels


class SlowDataset(torch.utils.data.Dataset):
    """Another dataset's samples, each after a wait: a stand-in for decoding a file per sample.

    It lives in a module, not in a notebook, because DataLoader workers started with
    "spawn" (Windows, macOS) import the dataset's class by name, and a class defined in a
    notebook cannot be imported.
    """

    def __init__(self, dataset, seconds_per_sample: float):
        if seconds_per_sample < 0:
            raise ValueError(f"seconds_per_sample must be 0 or more, got {seconds_per_sample!r}")
        self.dataset, self.seconds = dataset, seconds_per_sample

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        time.sleep(self.seconds)
        return self.dataset[index]
