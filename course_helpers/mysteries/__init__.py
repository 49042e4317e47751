"""Phase 7's mystery runs: training runs gone wrong, made fresh by the course's own code.

Each mystery is one small module: the buggy loop that goes wrong, and `run()`, which
trains a tiny seeded model with it (on a subset of the digits, or a small regression)
and returns the `Evidence` a practitioner would have afterwards: loss curves, a metrics
log, gradient norms per parameter, memory kept alive over steps, a device line.
Nothing is stored: the pictures are drawn from the run itself, so the evidence always
matches the bug.

The notebook asks for a mystery by number (`mystery(3)`), so that no import line
names the cause before the learner has found it.
"""
import importlib

from course_helpers.mysteries.evidence import Evidence
from course_helpers.mysteries.pictures import show_evidence

_CASES = {1: "piling_gradients", 2: "high_learning_rate", 3: "batchnorm_validation",
          4: "unscaled_accumulation", 5: "shuffled_labels", 6: "logged_tensors", 7: "labels_left_behind",
          "open": "open_case"}


def mystery(number):
    """The module of mystery run `number` (1-7, or "open"): its buggy code and its `run()`."""
    if number not in _CASES:
        raise ValueError(f"There is no mystery run {number!r}; the runs are {', '.join(map(str, _CASES))}.")
    return importlib.import_module(f"course_helpers.mysteries.{_CASES[number]}")


def rerun(run, **replacements) -> Evidence | None:
    """`run(**replacements)` with a fix in place, or None (said in words) while the fix is a stub."""
    try:
        return run(**replacements)
    except NotImplementedError:
        print("Your fix is not written yet (it raises NotImplementedError): write it above, then run this cell again.")
        return None


__all__ = ["Evidence", "mystery", "rerun", "show_evidence"]
