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
}

CASES = [c for c in all_cases() if c.codes]
USED = set()


@pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_messages_state_only_what_the_run_did(case, hidden):
    report = inspect(case.exercise, case.function, hidden=hidden, **dict(case.options))
    untrue = []
    for d in report.diagnoses:
        for name, (pattern, holds) in RULES.items():
            match = pattern.search(d.message)
            if match:
                USED.add(name)
                if not holds(match, report.facts):
                    untrue.append(f"[{d.code}] says {name!r}, but the run: {report.facts}\n  {d.message}")
    assert not untrue, "\n".join(untrue)


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
