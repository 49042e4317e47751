"""Graded answers: the learner commits an answer first, and learns why only with the feedback.

A graded question must not tell right from wrong before it is graded, so nothing the
student notebook imports may know its answer: not this module, not a widget, not a hash.
The visible test cell checks only the answer's form (`expect_choice`, or a plain type
check), in the same words whatever was answered. The right answer and the explanation of
every option are written in the hidden part of the test cell, which only the grader runs
(`grade_choice`, `grade_answer`). There the explanations are printed, so nbgrader's own
feedback shows them, and a wrong answer fails with a diagnosis handed over as data
(autograder.handoff), so the course's feedback page shows why the answer given is wrong
and why the right one is right, with a link back to the question.
"""
from autograder.diagnoses import Diagnosis, Section
from autograder.handoff import failure
from autograder.inspector.report import Report

WRONG = "wrong-answer"  # a graded question answered wrongly: not a bug of a loop, so no registry entry


def letter_of(value) -> str:
    """The letter an answer names: "b", " B", "B. The gradients ..." all name "B"."""
    return str(value).strip()[:1].upper()


def expect_choice(name: str, value, letters: str = "ABCD") -> str:
    """The visible check of a graded multiple-choice answer: one of `letters`, nothing more.

    It prints the same sentence for every letter, so trying each one confirms nothing."""
    letter = letter_of(value)
    if not letter or letter not in letters:
        raise AssertionError(f"{name}() should return one letter, {letters[0]} to {letters[-1]}; "
                             f"it returned {value!r}.")
    print(f"{name}() returns {letter!r}. Whether it is right is checked when your work is graded; "
          "the feedback then explains every option.")
    return letter


def grade_choice(name: str, value, correct: str, explanations: dict[str, str], section: Section) -> None:
    """The hidden check of a multiple-choice answer: print why each option fits or not, then fail
    unless `value` names `correct`.

    `explanations` maps each letter to why that option fits the evidence or not; `section`
    is the `##` heading where the question is asked."""
    if correct not in explanations:
        raise ValueError(f"the right answer {correct!r} is not one of the options {', '.join(explanations)}")
    letter = letter_of(value)
    print(f"The answer to {name}() is {correct}. Why each option fits or not:")
    for option, why in explanations.items():
        print(f"  {option}: {why}")
    if letter == correct:
        return
    given = (f"You answered {letter}: {explanations[letter]}" if letter in explanations
             else f"You answered {value!r}, which is none of the options {', '.join(explanations)}.")
    _fail(name, f"{given} The answer is {correct}: {explanations[correct]}", correct, section)


def grade_answer(name: str, value, correct, why: str, section: Section, right=None) -> None:
    """The hidden check of an answer that is a value (a number, a shape, a code): print why the
    answer is what it is, then fail unless `right(value)` (by default: `value == correct`)."""
    print(f"The answer to {name}() is {correct!r}: {why}")
    try:
        accepted = bool(right(value)) if right is not None else value == correct
    except (AttributeError, TypeError, ValueError, ArithmeticError):
        accepted = False  # an answer of the wrong kind is a wrong answer, said as one
    if not accepted:
        _fail(name, f"You answered {value!r}. The answer is {correct!r}: {why}", correct, section)


def _fail(name: str, message: str, correct, section: Section) -> None:
    """Raise the AssertionError of a wrong answer; under the grader its diagnosis also goes out as data."""
    wrong = Diagnosis(WRONG, message, f"Go back to “{section.heading}” with the explanation of {correct!r} "
                                      "in mind, and compare it with your reasoning.", section)
    raise failure(Report(name, True, [wrong]), [wrong], None)
