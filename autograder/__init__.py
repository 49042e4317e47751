"""The course's autograder: it watches a learner's training loop run and names the bug.

    from autograder import check, assert_passes, inspect
    check("train_loop", train)                          # self-check: HTML in a notebook, text elsewhere
    assert_passes("train_loop", train, concern="order") # test cell: AssertionError naming the bug
    report = inspect("fit", fit, hidden=True)           # just the Report

Exercises: train_loop, train_epoch, train_epoch_accumulate, evaluate, fit.
Concerns: order, accumulation, modes, logging, numbers ("runs" problems fail every concern).
"""
import importlib

# Where each public name lives. They are loaded on first use, not here: the class grader's
# parent process only runs nbgrader's steps and must not pay for importing torch (1.6 s).
_PUBLIC = {"check": "autograder.api", "assert_passes": "autograder.api", "inspect": "autograder.api",
           "Report": "autograder.inspector.report", "Diagnosis": "autograder.diagnoses",
           "CODES": "autograder.diagnoses", "CONCERNS": "autograder.diagnoses", "EXERCISES": "autograder.exercises"}

__all__ = list(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'autograder' has no attribute '{name}'")
    return getattr(importlib.import_module(_PUBLIC[name]), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
