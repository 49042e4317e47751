"""One run of an exercise: fixtures, a recorded run of the learner's function, a Report.

    fixture = exercise.build(params)         # seeded model, data, loaders, optimizer
    with Recorder(...):                       # global torch hooks write a Trace
        outcome = run_guarded(function, ...)  # time limit, output captured, state restored
        (a per-epoch function is called twice in a row on the same objects, as `fit` calls it)
    diagnoses = errors + exercise.judge(trace, result, fixture)   # or: the model was never called
              + exercise.follow_up(function, fixture, result)      # exercises that call it again
              + what only the second call shows (what the first call left behind), marked as such
    report = exercise's own sections and fixes (`exercise.teach`), the learner's loss curve
             beside a correct loop's on the same fixtures

It sits above both layers it joins: the inspector (recorder, trace, checks) knows no
exercise, and the exercises know nothing of how a run is guarded or reported.
"""
import torch

from autograder.diagnoses import diagnosis
from autograder.exercises import get_exercise
from autograder.inspector.epochs import check_left_behind
from autograder.inspector.errors import explain_outcome
from autograder.inspector.numbers import value
from autograder.inspector.recorder import Recorder
from autograder.inspector.report import Report
from autograder.inspector.guard import one_thread, run_guarded
from autograder.inspector.values import describe

DEFAULT_TIME_LIMIT = 10.0  # seconds; a correct function needs a few hundredths
_recording = 0  # how many runs are being recorded now (a check inside a check counts twice)


def checking() -> bool:
    """Whether a learner's function is being run by the checker right now: code that must not be
    judged for the learner (a mystery run's own loop, whose cause is a graded answer) asks this."""
    return _recording > 0


def _learner_device(function) -> str:
    """The notebook's `device` (the first cell defines it), so the fixtures live where the learner's code works."""
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
    if trace.forwards or trace.losses or trace.backwards or trace.steps or trace.foreign_steps:
        return []
    return [diagnosis(
        "model-never-called",
        f"Your function never called the model, so nothing was {exercise.purpose}: with "
        f"{exercise.workload(fixture)} to go through, the model ran 0 forward passes, and the function "
        f"returned {describe(result)} without it.")]


def training_curve(trace) -> list[float]:
    """The training losses of the passes a backward pass went through, in the order they ran."""
    return [value(f) for f in trace.forwards if f.trained and f.split == "train" and value(f) is not None]


def record(exercise, function, params: dict, time_limit: float):
    """Build fresh fixtures and call `function` on them under the recorder, `exercise.calls`
    times in a row on the same objects (a per-epoch function twice, as `fit` calls it):
    (fixture, trace, one outcome per call made)."""
    global _recording
    fixture = exercise.build(params)
    outcomes = []
    _recording += 1
    try:
        with Recorder(fixture.model, fixture.loss_fn, fixture.optimizer, fixture.book) as recorder:
            for number in range(exercise.calls):
                recorder.begin_call()
                outcome = run_guarded(function, fixture.args, time_limit, seed=params["seed"] + number)
                recorder.end_call(outcome.result)
                outcomes.append(outcome)
                if outcome.error is not None or outcome.timed_out:
                    break  # a second call would only repeat what stopped the first
    finally:
        _recording -= 1
    return fixture, recorder.trace, outcomes


def run_exercise(name: str, function, *, hidden: bool = False, time_limit: float = DEFAULT_TIME_LIMIT,
                 **overrides) -> Report:
    """Run `function` on the exercise's public (or hidden) fixtures; return its Report."""
    if not callable(function):
        raise TypeError(f"expected the function to check, got {type(function).__name__}")
    with one_thread():
        return _run(name, function, hidden, time_limit, overrides)


def _judge_call(exercise, function, fixture, trace, outcome, time_limit, learner_file, first: bool) -> list:
    """The diagnoses of one call, judged on its own part of the trace."""
    found = explain_outcome(outcome, trace, learner_file, time_limit)
    if outcome.error is None and not outcome.timed_out:
        never = never_called(trace, outcome.result, exercise, fixture)
        found += never or exercise.judge(trace, outcome.result, fixture)
        if first and not never:
            found += exercise.follow_up(function, fixture, outcome.result, time_limit)
    return found


def _judge(exercise, function, fixture, trace, outcomes, time_limit, learner_file) -> list:
    """One call: its diagnoses. Two calls: the first call's, then what only the second call
    shows (what the first left behind, or what goes wrong the second time), marked as such."""
    calls = trace.calls
    if len(calls) == 1:
        return _judge_call(exercise, function, fixture, trace, outcomes[0], time_limit, learner_file, True)
    first = _judge_call(exercise, function, fixture, trace.part(calls[0]), outcomes[0], time_limit,
                        learner_file, True)
    if len(outcomes) < 2:
        return first
    part = trace.part(calls[1])
    second = _judge_call(exercise, function, fixture, part, outcomes[1], time_limit, learner_file, False)
    if not any(d.concern == "runs" for d in first):
        second += check_left_behind(trace, calls, fixture.params.get("accum_steps", 1))
    seen = {d.code for d in first}
    return first + [d.in_call(2) for d in second if d.code not in seen]


def _run(name, function, hidden, time_limit, overrides) -> Report:
    exercise = get_exercise(name)
    params = exercise.parameters(hidden, overrides)
    if "device" not in overrides:
        params["device"] = _learner_device(function)
    fixture, trace, outcomes = record(exercise, function, params, time_limit)
    learner_file = getattr(getattr(function, "__code__", None), "co_filename", "")
    found = _judge(exercise, function, fixture, trace, outcomes, time_limit, learner_file)
    found = exercise.teach(_one_per_code(found))
    reference = []  # drawn on the grading data only, where feedback pages show it beside the learner's
    if hidden and exercise.trains and exercise.reference is not None:
        _, reference_trace, _ = record(exercise, exercise.reference, params, time_limit)
        reference = training_curve(reference_trace)
    facts = trace.facts()
    if len(trace.calls) > 1:
        facts["calls"] = [trace.part(call).facts() for call in trace.calls]
    return Report(name, hidden, found, params, sum(o.seconds for o in outcomes), "".join(o.output for o in outcomes),
                  curve=training_curve(trace), reference_curve=reference, facts=facts)
