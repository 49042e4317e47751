"""The course's autograder: it watches a learner's training loop run and names the bug.

    from autograder import check, assert_passes, inspect
    check("train_loop", train)                          # self-check: HTML in a notebook, text elsewhere
    assert_passes("train_loop", train, concern="order") # test cell: AssertionError naming the bug
    report = inspect("fit", fit, hidden=True)           # just the Report

Exercises: train_loop, train_epoch, train_epoch_accumulate, evaluate, fit.
Concerns: order, accumulation, modes, logging, numbers ("runs" problems fail every concern).
"""
from autograder.api import assert_passes, check, inspect
from autograder.diagnoses import CODES, CONCERNS, Diagnosis
from autograder.exercises import EXERCISES
from autograder.inspector.report import Report

__all__ = ["check", "assert_passes", "inspect", "Report", "Diagnosis", "CODES", "CONCERNS", "EXERCISES"]
