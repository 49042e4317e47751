"""One call that makes a notebook's random numbers repeat from run to run.

A learner who reruns a cell and sees a different loss curve cannot tell a bug from
bad luck, so every notebook seeds Python, NumPy and torch together.
"""
import random

import numpy as np
import torch


def seed_everything(seed: int = 0) -> int:
    """Seed Python's `random`, NumPy and torch (CPU and every GPU); return the seed."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return seed
