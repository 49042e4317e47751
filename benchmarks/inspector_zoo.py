"""How well and how fast does the loop inspector name the bugs in the zoo?

Runs every function in tests/zoo/ on public and hidden fixtures, without the report
cache, and prints, per bug class (diagnosis code), in how many of the runs that have
the bug it was named; how many runs of correct code passed; the false positives (a code
reported that the function does not have, correct code included); and the seconds one
exercise check takes (median and worst).
Targets: every bug named with its code, 0 false positives, <= 1 s per exercise check.

    python benchmarks/inspector_zoo.py [--threads 1]

The last line carries the headline figures.
"""
import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from autograder.runner import run_exercise  # noqa: E402
from zoo import all_cases  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    cases = all_cases()
    run_exercise(cases[0].exercise, cases[0].function)  # first use pays torch's lazy imports
    per_class = defaultdict(lambda: [0, 0])  # code (or "correct") -> [named, runs]
    false_positives, missed, seconds = [], [], []
    for case in cases:
        options = dict(case.options)
        for hidden in (False, True):
            started = time.perf_counter()
            report = run_exercise(case.exercise, case.function, hidden=hidden, **options)
            elapsed = time.perf_counter() - started
            if "time_limit" not in options:  # a hang costs its limit by design
                seconds.append(elapsed)
            got = set(report.codes)
            for code in case.codes or ["correct"]:
                per_class[code][1] += 1
                per_class[code][0] += (code in got) if case.codes else not got
            flavour = "hidden" if hidden else "public"
            false_positives += [f"{case.name} ({flavour}): {code}" for code in sorted(got - case.codes)]
            missed += [f"{case.name} ({flavour}): {code}" for code in sorted(case.codes - got)]
    print(f"{'bug class':30s} named / runs")
    for bug_class in sorted(per_class):
        hit, total = per_class[bug_class]
        print(f"{bug_class:30s} {hit:5d} / {total:3d}")
    for line in missed:
        print("missed:", line)
    for line in false_positives:
        print("false positive:", line)
    buggy = [c for c in per_class if c != "correct"]
    detected = sum(per_class[c][0] for c in buggy)
    runs = sum(per_class[c][1] for c in buggy)
    complete = sum(per_class[c][0] == per_class[c][1] for c in buggy)
    median, worst = statistics.median(seconds), max(seconds)
    print(f"checks timed: {len(seconds)}; median {median:.3f} s, 90th percentile "
          f"{statistics.quantiles(seconds, n=10)[-1]:.3f} s, worst {worst:.3f} s")
    print(f"detection {detected}/{runs} ({100 * detected / runs:.1f} %), {complete}/{len(buggy)} bug classes always named; "
          f"false positives {len(false_positives)}; seconds per check: median {median:.3f}, worst {worst:.3f}")
    return 0 if not missed and not false_positives else 1


if __name__ == "__main__":
    sys.exit(main())
