"""A mystery run's own code is evidence, not an exercise: the checker does not judge it.

Each mystery's cause is a graded answer. Run through `check` (or `inspect`, `assert_passes`),
a mystery's loop would have its cause named for the learner in one line, the answer read
off the package instead of the evidence. So the code of a run whose cause is asked is marked
`@uncheckable`: it runs as usual in its own run and in a rerun, and stops with a clear message
when the checker runs it, called directly or from a function of one's own. The open case's
loop is not marked: that it passes the checker is part of its evidence.
"""
import functools
import sys


def _checker_running() -> bool:
    runner = sys.modules.get("autograder.runner")  # loaded only once something was checked
    return runner is not None and runner.checking()


def uncheckable(function):
    """`function`, refusing to run under the checker (its source stays readable with `inspect`)."""
    run = function.__module__.rsplit(".", 1)[-1].replace("_", " ")  # "run 4"

    @functools.wraps(function)
    def evidence(*args, **kwargs):
        if _checker_running():
            raise RuntimeError(
                f"`{function.__qualname__}` is mystery {run}'s own code, the evidence of a graded question: the "
                "checker does not diagnose it for you. Name its cause from its evidence; in the second half you "
                "write the fix, and the checker judges that.")
        return function(*args, **kwargs)

    return evidence
