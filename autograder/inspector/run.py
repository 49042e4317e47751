"""One run of an exercise: fixtures, a recorded run of the learner's function, a Report.

    fixture = exercise.build(params)        # seeded model, data, loaders, optimizer
    with Recorder(fixture):                  # global torch hooks write a Trace
        outcome = run_guarded(function, ...) # time limit, output captured, state restored
    diagnoses = errors + exercise.judge(trace, result, fixture)   # or: the model was never called
    report = exercise's own sections and fixes (`exercise.teach`)
"""
import torch

from autograder.diagnoses import diagnosis
from autograder.exercises import get_exercise
from autograder.inspector.errors import explain_outcome
from autograder.inspector.recorder import Recorder
from autograder.inspector.report import Report
from autograder.inspector.sandbox import run_guarded
from autograder.inspector.values import describe

DEFAULT_TIME_LIMIT = 10.0  # seconds; a correct function needs a few hundredths


def _learner_device(function) -> str:
    """The notebook's `device` (the first cell defines it), so `.to(device)` in learner code fits."""
    device = getattr(function, "__globals__", {}).get("device")
    if isinstance(device, (torch.device, str)):
        try:
            device = torch.device(device)
            torch.empty(0, device=device)
            return str(device)
        except (RuntimeError, TypeError, ValueError):
            pass
    return "cpu"


def _one_per_code(diagnoses: list) -> list:
    seen, kept = set(), []
    for d in diagnoses:
        if d.code not in seen:
            seen.add(d.code)
            kept.append(d)
    return kept


def never_called(trace, result, exercise, fixture) -> list:
    """A function that returned without touching the model: one plain diagnosis, not a
    list of everything a loop that never ran also failed to do."""
    if trace.forwards or trace.losses or trace.backwards or trace.steps:
        return []
    return [diagnosis(
        "model-never-called",
        f"Your function never called the model, so nothing was {exercise.purpose}: with "
        f"{exercise.workload(fixture)} to go through, the model ran 0 forward passes, and the function "
        f"returned {describe(result)} without it.")]


def run_exercise(name: str, function, *, hidden: bool = False, time_limit: float = DEFAULT_TIME_LIMIT,
                 **overrides) -> Report:
    """Run `function` once on the exercise's public (or hidden) fixtures; return its Report."""
    if not callable(function):
        raise TypeError(f"expected the function to check, got {type(function).__name__}")
    exercise = get_exercise(name)
    params = exercise.parameters(hidden, overrides)
    if "device" not in overrides:
        params["device"] = _learner_device(function)
    fixture = exercise.build(params)
    learner_file = getattr(getattr(function, "__code__", None), "co_filename", "")
    with Recorder(fixture) as recorder:
        outcome = run_guarded(function, fixture.args, time_limit, seed=params["seed"])
    trace = recorder.trace
    found = explain_outcome(outcome, trace, learner_file, time_limit)
    if outcome.error is None and not outcome.timed_out:
        found += (never_called(trace, outcome.result, exercise, fixture)
                  or exercise.judge(trace, outcome.result, fixture)
                  + exercise.follow_up(function, fixture, outcome.result, time_limit))
    found = exercise.teach(_one_per_code(found))
    return Report(name, hidden, found, params, outcome.seconds, outcome.output)
