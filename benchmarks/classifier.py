"""How good and how fast is phase 6's reference classifier on this machine?

Trains the exact recipe the notebook uses (course_helpers.classifier: seeded split,
DigitsMLP with dropout, Adam, 10 epochs) through the notebook's own `fit` (its solution
cell, with the `evaluate` it calls: the loop a learner writes trains the recipe; `--fit
reference` uses course_helpers' `reference_fit` instead) and reports the best validation accuracy,
which is what the best-validation checkpoint keeps, and the training seconds (every
epoch's training and validation; the one-time start-up of torch's optimizer machinery
and the data loading are printed apart). Target: >= 97 % validation accuracy in <= 10 s
of training on a CPU.

    python benchmarks/classifier.py [--seeds 3] [--epochs 10] [--threads 1] [--fit notebook|reference]

The last line carries both figures.
"""
import argparse
import sys
import time
from pathlib import Path

import nbformat
import torch

from course_helpers.classifier import EPOCHS, reference_fit, train_reference

NOTEBOOK = Path(__file__).resolve().parents[1] / "source" / "06_classifier" / "06_classifier.ipynb"

TARGET_ACCURACY = 0.97
TARGET_SECONDS = 10.0


def notebook_fit(path: Path = NOTEBOOK):
    """The `fit` of phase 6's solution cell, defined next to the `evaluate` it calls."""
    cells = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell.source
             for cell in nbformat.read(path, as_version=4).cells}
    namespace = {}
    exec("import torch\nfrom torch import nn", namespace)
    for grade_id in ("evaluate", "fit"):
        exec(compile(cells[grade_id], f"{path.name}:{grade_id}", "exec"), namespace)
    return namespace["fit"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="independent runs (seeds 0..N-1); the worst is reported")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (one is fastest for a model this small, as in the notebook)")
    parser.add_argument("--fit", choices=("notebook", "reference"), default="notebook",
                        help="train through the notebook's fit solution (default) or course_helpers' reference_fit")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.epochs < 1 or args.threads < 1:
        parser.error("--seeds, --epochs and --threads must be at least 1")
    torch.set_num_threads(args.threads)
    fit = notebook_fit() if args.fit == "notebook" else reference_fit

    worst_accuracy, worst_seconds = 1.0, 0.0
    for seed in range(args.seeds):
        started = time.perf_counter()
        result = train_reference(epochs=args.epochs, seed=seed, fit=fit)
        total = time.perf_counter() - started
        final = result["history"]["val_acc"][-1]
        print(f"seed {seed}: best validation accuracy {result['best_val_acc']:.2%} at epoch {result['best_epoch']} "
              f"(last epoch {final:.2%}); training {result['seconds']:.2f} s "
              f"(+ {total - result['seconds']:.2f} s data and set-up{', first run' if seed == 0 else ''})")
        worst_accuracy = min(worst_accuracy, result["best_val_acc"])
        worst_seconds = max(worst_seconds, result["seconds"])
    met = worst_accuracy >= TARGET_ACCURACY and worst_seconds <= TARGET_SECONDS
    print(f"classifier: worst of {args.seeds} seeds: {worst_accuracy:.2%} validation accuracy, "
          f"{worst_seconds:.2f} s of training ({args.epochs} epochs, {args.threads} thread(s), the {args.fit} fit); "
          f"target >= {TARGET_ACCURACY:.0%} in <= {TARGET_SECONDS:.0f} s: {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
