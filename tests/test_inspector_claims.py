"""No diagnosis states what the run contradicts: every claim a message makes about the
run is checked against what the run really did (the Report's facts, read off the trace).

Each rule is a phrase a message may use and the fact it asserts. Every zoo function's
messages, on practice and grading data, are held to them; a rule that no message uses
is a rule about nothing, so each rule must be exercised at least once.
"""
import re

import pytest

from autograder import inspect
from zoo import all_cases


def _stepped(match, facts):
    words = {"once": 1, "twice": 2}
    said = words.get(match.group(1)) or int(match.group(1).split()[0])
    return said == facts["fixture_steps"]


RULES = {
    "the weights never changed": (re.compile(r"weights never (changed|moved)"),
                                  lambda m, facts: not facts["weights_changed"]),
    "the given optimizer never stepped": (re.compile(r"you were given, [^,]+, never stepped|`optimizer\.step\(\)` never ran"),
                                          lambda m, facts: facts["fixture_steps"] == 0),
    "the given optimizer stepped N times": (re.compile(r"you were given, [^,]+, stepped (once|twice|\d+ times)"),
                                            _stepped),
    "the weights changed or were updated": (re.compile(r"weights (changed|were updated) (once|twice|\d+ times)"),
                                            lambda m, facts: facts["weights_changed"] or facts["steps"] > 0),
    "the model ran 0 forward passes": (re.compile(r"the model ran 0 forward passes"),
                                       lambda m, facts: facts["forwards"] == 0),
    "N backward passes ran": (re.compile(r"^(\d+) backward pass(?:es)? ran"),
                              lambda m, facts: int(m.group(1)) <= facts["backwards"]),
    "at step N": (re.compile(r"\b[Aa]t step (\d+)\b"),
                  lambda m, facts: 1 <= int(m.group(1)) <= facts["fixture_steps"]),
    "never moved in N steps": (re.compile(r"never moved in (\d+) steps?"),
                               lambda m, facts: int(m.group(1)) == facts["fixture_steps"]),
    "K of the model's P parameter tensors": (re.compile(r"(\d+) of the model's (\d+) parameter tensors"),
                                             lambda m, facts: int(m.group(1)) < int(m.group(2)) == facts["parameters"]),
    "X of the N training examples never reached a training pass": (
        re.compile(r"(In (?:epoch|call) \d+, )?(\d+) of the (\d+) training examples never reached"),
        lambda m, facts: (int(m.group(3)) - int(m.group(2)) <= facts["examples_trained"]) if m.group(1)
        else int(m.group(3)) - int(m.group(2)) == facts["examples_trained"]),
    "examples went through K training passes": (
        re.compile(r"went through up to (\d+) training forward passes"),
        lambda m, facts: 2 <= int(m.group(1)) <= facts["most_passes_per_example"]),
    "the training loss went from A to B": (
        re.compile(r"the training loss went from ([-\d.e+]+) at the first step to ([-\d.e+]+) at the last"),
        lambda m, facts: _near(m.group(1), facts["first_training_loss"]) and _near(m.group(2), facts["last_training_loss"])),
}


def _near(said: str, measured) -> bool:
    """A number as a message prints it (4 significant digits) against the run's own figure."""
    return measured is not None and abs(float(said) - measured) <= 5e-4 * max(1.0, abs(measured))

CASES = [c for c in all_cases() if c.codes]
USED = set()


@pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_messages_state_only_what_the_run_did(case, hidden):
    report = inspect(case.exercise, case.function, hidden=hidden, **dict(case.options))
    untrue = []
    for d in report.diagnoses:
        facts = facts_of(report, d)
        for name, (pattern, holds) in RULES.items():
            match = pattern.search(d.message)
            if match:
                USED.add(name)
                if not holds(match, facts):
                    untrue.append(f"[{d.code}] says {name!r}, but the run: {facts}\n  {d.message}")
    assert not untrue, "\n".join(untrue)


def facts_of(report, d) -> dict:
    """The facts of the call a diagnosis speaks of: a per-epoch function is called twice in a
    row, and each call's diagnoses are about that call (the second call's say so)."""
    calls = report.facts.get("calls")
    if not calls:
        return report.facts
    return calls[(d.call or 1) - 1]


def test_every_claim_rule_is_exercised():
    for case in CASES:
        report = inspect(case.exercise, case.function, **dict(case.options))
        for d in report.diagnoses:
            for name, (pattern, _) in RULES.items():
                if pattern.search(d.message):
                    USED.add(name)
    assert USED == set(RULES), f"rules no message uses: {sorted(set(RULES) - USED)}"


def test_a_false_claim_is_caught():
    """The rules themselves can fail: a message claiming unchanged weights on a run that changed them."""
    pattern, holds = RULES["the weights never changed"]
    assert not holds(pattern.search("so the weights never changed"), {"weights_changed": True})


FALSE_CLAIMS = [  # (rule, a message, facts the message contradicts)
    ("at step N", "At step 9 the gradient was 2.0× ...", {"fixture_steps": 8}),
    ("never moved in N steps", "2 of the model's 4 parameter tensors never moved in 8 steps of SGD",
     {"fixture_steps": 16}),
    ("K of the model's P parameter tensors", "2 of the model's 6 parameter tensors never moved", {"parameters": 4}),
    ("X of the N training examples never reached a training pass",
     "8 of the 64 training examples never reached a training forward pass", {"examples_trained": 64}),
    ("X of the N training examples never reached a training pass",
     "In epoch 2, 8 of the 64 training examples never reached a training forward pass", {"examples_trained": 40}),
    ("examples went through K training passes", "went through up to 3 training forward passes each",
     {"most_passes_per_example": 2}),
    ("the training loss went from A to B", "the training loss went from 1.1 at the first step to 1.85 at the last",
     {"first_training_loss": 1.1, "last_training_loss": 0.4}),
]


@pytest.mark.parametrize("rule, message, facts", FALSE_CLAIMS, ids=[f"{r}: {m[:30]}" for r, m, _ in FALSE_CLAIMS])
def test_each_new_rule_can_catch_a_false_claim(rule, message, facts):
    pattern, holds = RULES[rule]
    match = pattern.search(message)
    assert match is not None, "the rule must read the message it is about"
    assert not holds(match, facts)
