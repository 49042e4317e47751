"""Make any text safe to show a student: no line of a hidden test may reach a page.

Diagnoses themselves travel as data (autograder.handoff), never parsed out of a
message; but their words, and any error text, can still quote a hidden test: a
learner's function can raise with the calling test's source in its message. `scrub`
finds those lines; the grader then withholds the whole text.
"""
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
