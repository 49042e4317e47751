"""What does `torch.compile` cost and save on this machine, for phase 6's classifier?

Phase 6 (section "torch.compile") shows a table: one epoch of `train_one_epoch` on the
digits (DigitsMLP, batches of 32), eager and compiled, first epoch and next epoch. This
script measures those four numbers on the machine it runs on, on the CPU unless CUDA is
there (then on the GPU, synchronised before each reading). The first compiled epoch
includes the compilation, which takes minutes on a small CPU.

    python benchmarks/compile_cost.py [--threads 1]

The last line carries the four figures.
"""
import argparse
import time

import torch
from torch import nn

from course_helpers.classifier import DigitsMLP, make_loaders, make_optimizer, split_digits, train_one_epoch
from course_helpers.seeding import seed_everything


def epoch_seconds(model, loader, device) -> list[float]:
    """Seconds of a first and a next epoch of `train_one_epoch` for `model`."""
    optimizer, loss_fn, times = make_optimizer(model), nn.CrossEntropyLoss(), []
    for _ in range(2):
        started = time.perf_counter()
        train_one_epoch(model, loader, loss_fn, optimizer)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch (the notebook uses 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_set, val_set = split_digits()
    train_loader, _ = make_loaders(train_set, val_set, batch_size=32)
    seed_everything(0)
    eager = epoch_seconds(DigitsMLP().to(device), train_loader, device)
    seed_everything(0)
    compiled = epoch_seconds(torch.compile(DigitsMLP().to(device)), train_loader, device)
    print(f"{device}, torch {torch.__version__}, {len(train_loader)} batches per epoch")
    print(f"eager:         first epoch {eager[0]:.2f} s, next epoch {eager[1]:.2f} s")
    print(f"torch.compile: first epoch {compiled[0]:.2f} s (compiling), next epoch {compiled[1]:.2f} s")
    print(f"eager {eager[0]:.2f} s / {eager[1]:.2f} s; compiled {compiled[0]:.1f} s / {compiled[1]:.2f} s "
          f"(first / next epoch)")


if __name__ == "__main__":
    main()
