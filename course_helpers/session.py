"""What the first cell of every notebook calls: seed, pick a device, say so."""
import sys

import torch

from course_helpers.devices import pick_device
from course_helpers.seeding import seed_everything


def start(seed: int = 0, device: str | None = None, quiet: bool = False) -> torch.device:
    """Seed everything, choose the device, print one start-up line, return the device."""
    seed_everything(seed)
    chosen, reason = pick_device(device)
    if not quiet:
        print(f"Using device '{chosen}' because {reason}. "
              f"torch {torch.__version__}, Python {sys.version.split()[0]}, seed {seed}.")
    return chosen
