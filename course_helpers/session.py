"""What the first cell of every notebook calls: seed, pick a device, say so."""
import os
import sys

import torch

from course_helpers.devices import pick_device
from course_helpers.seeding import seed_everything


def start(seed: int = 0, device: str | None = None, quiet: bool = False) -> torch.device:
    """Seed everything, choose the device, print one start-up line, return the device."""
    seed_everything(seed)
    chosen, reason = pick_device(device)
    if chosen.type == "cpu":
        # The course's models are tiny: a second CPU thread only adds hand-over cost
        # (measured: 232 steps of the digits MLP, 0.17 s on 1 thread, 1.4 s on 2 busy cores).
        torch.set_num_threads(int(os.environ.get("COURSE_CPU_THREADS", "1")))
    if not quiet:
        print(f"Using device '{chosen}' because {reason}. "
              f"torch {torch.__version__}, Python {sys.version.split()[0]}, seed {seed}.")
    return chosen
