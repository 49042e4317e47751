"""Every function in the bug zoo gets exactly its codes, on public and on hidden fixtures."""
import pytest

from autograder import CODES, inspect
from zoo import all_cases

CASES = all_cases()


@pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_zoo_function_gets_exactly_its_codes(case, hidden):
    report = inspect(case.exercise, case.function, hidden=hidden, **dict(case.options))
    got = sorted(report.codes)
    assert got == sorted(case.codes), "\n".join(f"{d.code}: {d.message}" for d in report.diagnoses)


def test_zoo_has_two_buggy_functions_per_code_and_correct_code_per_exercise():
    per_code = {code: 0 for code in CODES}
    for case in CASES:
        for code in case.codes:
            per_code[code] += 1
    thin = {code: n for code, n in per_code.items() if n < 2}
    assert not thin, f"codes with fewer than two zoo functions: {thin}"
    exercises = {c.exercise for c in CASES if not c.codes}
    assert exercises == {"train_loop", "train_until", "train_epoch", "train_epoch_accumulate", "evaluate", "fit",
                         "fit_logged", "fit_tracked", "train_epoch_amp", "train_epoch_onecycle"}


def test_every_diagnosis_message_carries_a_number_from_the_run():
    wordy = {"raises", "wrong-return-type", "global-state-changed"}  # the learner's own error text
    for case in CASES:
        for diagnosis in inspect(case.exercise, case.function, **dict(case.options)).diagnoses:
            if diagnosis.code not in wordy:
                assert any(ch.isdigit() for ch in diagnosis.message), (case.name, diagnosis.message)
