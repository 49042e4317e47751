"""Diagnoses as words: plain text (terminal, nbgrader feedback, AssertionError) and HTML.

The HTML is plain markup with inline styles and no script, so it shows the same in
JupyterLab, Notebook 7, VS Code and Colab, and survives in a saved notebook.
"""
import html as _html

from autograder.diagnoses import Diagnosis


def paragraph(d: Diagnosis) -> str:
    """One diagnosis, the way an AssertionError carries it."""
    message = d.message if d.message.endswith((".", "!", "?", ")")) else d.message + "."
    return f"[{d.code}] {message} Fix: {d.fix} ({d.section.label}.)"


def text_diagnoses(diagnoses: list[Diagnosis]) -> str:
    return "\n\n".join(paragraph(d) for d in diagnoses)


def _heading(report) -> str:
    data = "the grading data" if report.hidden else "the practice data"
    if report.passed:
        return f"{report.exercise}: passed every check on {data}."
    n = len(report.diagnoses)
    return f"{report.exercise}: {n} problem{'s' if n > 1 else ''} found on {data}."


def text(report) -> str:
    if report.passed:
        return _heading(report)
    return _heading(report) + "\n\n" + text_diagnoses(report.diagnoses)


_GREEN, _ORANGE = "#1b7a2e", "#b35900"


def _html_diagnosis(d: Diagnosis) -> str:
    e = _html.escape
    return (
        f'<div style="border-left:4px solid {_ORANGE};padding:6px 10px;margin:8px 0;background:#fff8f0;'
        f'color:#222">'
        f'<div><code style="background:#f3e3d3;padding:1px 4px;border-radius:3px">{e(d.code)}</code> '
        f'<b>{e(d.title)}</b></div>'
        f'<div style="margin-top:4px">{_code_spans(d.message)}</div>'
        f'<div style="margin-top:4px"><b>Fix:</b> {_code_spans(d.fix)}</div>'
        f'<div style="margin-top:4px;font-size:90%">Learn more: '
        f'<a href="{e(d.section.href)}" target="_blank">{e(d.section.label)}</a></div>'
        f'</div>')


def _code_spans(words: str) -> str:
    """Escape, then turn `backticked` pieces into <code>."""
    pieces = _html.escape(words).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces))


def html(report) -> str:
    colour = _GREEN if report.passed else _ORANGE
    mark = "✔" if report.passed else "✘"
    body = "".join(_html_diagnosis(d) for d in report.diagnoses)
    return (f'<div style="font-family:sans-serif;font-size:14px;line-height:1.4">'
            f'<div style="color:{colour};font-weight:bold">{mark} {_html.escape(_heading(report))}</div>'
            f'{body}</div>')
