"""Diagnoses as words: plain text (terminal, gradebook, AssertionError) and HTML.

The one renderer of a diagnosis: the notebook's self-check, the feedback page and
the class reports all show a diagnosis through `paragraph` (text) or the
`diagnosis` macro of templates/diagnosis.html.j2 (HTML). HTML comes from jinja2
templates with autoescaping; backticked pieces of a message become <code>. The
self-check's HTML is plain markup with inline styles and no script, so it shows the
same in JupyterLab, Notebook 7, VS Code and Colab, and survives in a saved notebook.
"""
from markupsafe import Markup, escape

from autograder.diagnoses import Diagnosis


def paragraph(d: Diagnosis) -> str:
    """One diagnosis, the way an AssertionError carries it."""
    message = d.message if d.message.endswith((".", "!", "?", ")")) else d.message + "."
    where = ""
    if d.code_line:
        where = f" Your code{f', line {d.line}' if d.line else ''}: `{d.code_line.strip()}`."
    return f"[{d.code}] {message}{where} Fix: {d.fix} ({d.section.label}.)"


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


def code_spans(words: str) -> Markup:
    """Escape, then turn `backticked` pieces into <code>."""
    pieces = str(escape(words)).split("`")
    if len(pieces) % 2 == 0:  # an odd backtick out: leave the last one as it is
        pieces[-2:] = [pieces[-2] + "`" + pieces[-1]]
    return Markup("".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces)))


_ENVIRONMENT = None


def environment():
    """The jinja2 environment of every page the course writes (autoescaping on)."""
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        from jinja2 import Environment, PackageLoader

        _ENVIRONMENT = Environment(loader=PackageLoader("autograder", "templates"), autoescape=True,
                                   trim_blocks=True, lstrip_blocks=True)
        _ENVIRONMENT.filters["code"] = code_spans
    return _ENVIRONMENT


def page(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


def html_diagnosis(d: Diagnosis) -> str:
    return str(environment().get_template("diagnosis.html.j2").module.diagnosis(d))


def html(report) -> str:
    return page("check.html.j2", report=report, heading=_heading(report))
