"""The graded exercises, by name: each knows its fixtures, its contract and its checks."""
from autograder.exercises.evaluate import Evaluate
from autograder.exercises.fit import Fit
from autograder.exercises.fit_logged import FitLogged
from autograder.exercises.fit_tracked import FitTracked
from autograder.exercises.train_epoch import TrainEpoch
from autograder.exercises.train_epoch_accumulate import TrainEpochAccumulate
from autograder.exercises.train_epoch_amp import TrainEpochAmp
from autograder.exercises.train_epoch_onecycle import TrainEpochOnecycle
from autograder.exercises.train_loop import TrainLoop
from autograder.exercises.train_until import TrainUntil

EXERCISES = {exercise.name: exercise for exercise in
             (TrainLoop(), TrainUntil(), TrainEpoch(), TrainEpochAccumulate(), Evaluate(), Fit(), FitLogged(),
              FitTracked(), TrainEpochAmp(), TrainEpochOnecycle())}


def get_exercise(name: str):
    if name not in EXERCISES:
        raise ValueError(f"unknown exercise {name!r}: use one of {', '.join(EXERCISES)}")
    return EXERCISES[name]
