"""Read diagnoses out of a failing test cell, and make any text safe to show a student.

`assert_passes` fails with an AssertionError whose message is a list of paragraphs,
each starting with its diagnosis code in square brackets:

    [missing-zero-grad] At step 3 the weight gradient was 3.0x ... Fix: ...

`parse` finds those paragraphs; `scrub` removes every hidden test line that might
have found its way into a message (a learner's function can raise with the
calling test's source in its message: it never reaches a student).
"""
import re

CODE_AT_START = re.compile(r"^\[([a-z0-9][a-z0-9\-_.]*)\]\s*(.*)$", re.S)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def parse(message: str) -> list[dict]:
    """[{"code": ..., "text": ...}] for each paragraph that starts with `[code]`."""
    found = []
    for paragraph in re.split(r"\n\s*\n", ANSI.sub("", message or "")):
        match = CODE_AT_START.match(paragraph.strip())
        if match:
            found.append({"code": match.group(1), "text": " ".join(match.group(2).split())})
    return found


MIN_DISTINCTIVE = 20  # shorter lines ("opt.zero_grad()") also occur in honest fix texts


def scrub(text: str, hidden_lines: set[str]) -> str:
    """`text` with every distinctive hidden test line replaced by a marker."""
    if not text:
        return text
    for line in sorted(hidden_lines, key=len, reverse=True):
        if len(line) >= MIN_DISTINCTIVE and line in text:
            text = text.replace(line, "[hidden test code removed]")
    return text


def looks_hidden(text: str, hidden_lines: set[str]) -> bool:
    return scrub(text, hidden_lines) != text
