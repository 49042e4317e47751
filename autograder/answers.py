"""Graded answers: the learner commits an answer first, and learns why only with the feedback.

A graded question must not tell right from wrong before it is graded, so nothing the
student notebook imports may know its answer: not this module, not a widget, not a hash.
The visible test cell only checks the answer's form (`expect_choice`), with the same
words whatever was answered. The right answer and the explanation of every option are
written in the hidden part of the test cell, which only the grader runs (`grade_choice`).
There the explanations are printed, so nbgrader's own feedback shows them, and a wrong
answer fails with a diagnosis handed over as data (autograder.handoff), so the course's
feedback page shows the explanation of the option picked and of the right one.
"""
from autograder.diagnoses import Diagnosis, Section
from autograder.handoff import failure
from autograder.inspector.report import Report

WRONG = "wrong-answer"  # the code of a graded question answered wrongly (not a loop's bug: no registry entry)


def letter_of(value) -> str:
    """The letter an answer names: "b", " B", "B. The gradients ..." all name "B"."""
    return str(value).strip()[:1].upper()


def expect_choice(name: str, value, letters: str = "ABCD") -> str:
    """The visible check of a graded multiple-choice answer: one of `letters`, nothing more.

    It says the same for every letter, so running it with each one confirms nothing."""
    letter = letter_of(value)
    if not letter or letter not in letters:
        raise AssertionError(f"{name}() should return one letter, {letters[0]} to {letters[-1]}; "
                             f"it returned {value!r}.")
    print(f"{name}() returns {letter!r}. Whether it is right is checked when your work is graded; "
          "the feedback explains every option.")
    return letter


def grade_choice(name: str, value, correct: str, explanations: dict[str, str], section: Section) -> None:
    """The hidden check: print why each option is right or wrong, then fail unless `value` names `correct`.

    `explanations` maps each letter to why that option fits the evidence or not; `section`
    is where the question is asked (the feedback links back to it)."""
    if correct not in explanations:
        raise ValueError(f"the right answer {correct!r} is not one of the options {', '.join(explanations)}")
    letter = letter_of(value)
    print(f"The answer to {name}() is {correct}.")
    for option, why in explanations.items():
        print(f"  {option}: {why}")
    if letter == correct:
        return
    picked = (f"You answered {letter}: {explanations[letter]}" if letter in explanations
              else f"You answered {value!r}, which is none of {', '.join(explanations)}.")
    wrong = Diagnosis(WRONG, f"{picked} The answer is {correct}: {explanations[correct]}",
                      f"Read the evidence of “{section.heading}” again with the explanation of {correct} in mind.",
                      section)
    raise failure(Report(name, True, [wrong]), [wrong], None)
