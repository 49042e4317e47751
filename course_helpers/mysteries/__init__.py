"""Phase 7's mystery runs: training runs gone wrong, made fresh by the course's own code.

Each mystery is one small module: the code of the run, and `run()`, which trains a tiny
seeded model with it (on a subset of the digits, or a small regression) and returns the
`Evidence` a practitioner would have afterwards: loss curves, a metrics log, gradient
norms per parameter, memory kept alive over steps, a device line. Nothing is stored: the
pictures are drawn from the run itself, so the evidence always matches the run.

The modules are named by number and their words describe the set-up only: what went
wrong is for the learner to find. The causes, and why each option of a question fits or
not, are written in the hidden tests of the phase 7 source notebook, never here.
"""
import importlib

from course_helpers.mysteries.evidence import Evidence
from course_helpers.mysteries.pictures import show_evidence

_CASES = {1: "run_1", 2: "run_2", 3: "run_3", 4: "run_4", 5: "run_5", 6: "run_6", 7: "run_7",
          "open": "open_case"}


def mystery(number):
    """The module of mystery run `number` (1-7, or "open"): its code and its `run()`."""
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
