"""The bug zoo: learner-like functions, each filed under the exact diagnosis codes it must get.

Every bug class has at least two differently written buggy functions, and every
correct shape from DESIGN.md is here with an empty code set. `tests/test_inspector_zoo.py`
runs each one on public and hidden fixtures; `benchmarks/inspector_zoo.py` counts
detections, false positives and seconds per check.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    exercise: str
    function: object
    codes: frozenset  # exactly the codes the inspector must report (empty: correct code)
    options: tuple = ()  # extra keyword arguments for inspect(), e.g. (("time_limit", 0.5),)

    @property
    def name(self) -> str:
        return f"{self.exercise}:{self.function.__name__}"


CASES: list[Case] = []


def case(exercise: str, *codes: str, **options):
    """Decorator: file the function under `exercise` with exactly `codes`."""
    def register(function):
        CASES.append(Case(exercise, function, frozenset(codes), tuple(sorted(options.items()))))
        return function
    return register


def all_cases() -> list[Case]:
    from . import (accumulate, contract_shapes, correct_shapes, descent, epoch_boundaries,  # noqa: F401
                   evaluate, fit, fit_logged, fit_tracked, forward_method, functional_losses, lead_cases,
                   modes_train_loop, phase7, runs, schedulers, train_epoch, train_loop, train_until,
                   training_data, updates, validation)
    return list(CASES)
