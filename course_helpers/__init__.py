"""Learner-facing helpers for the course notebooks: set-up, seeding, devices, data, plots.

Nothing in here grades anything; grading lives in the `autograder` package.
"""
from course_helpers.devices import pick_device
from course_helpers.seeding import seed_everything
from course_helpers.session import start

__all__ = ["pick_device", "seed_everything", "start"]
