"""One HTML page per student and notebook: scores, reasons and diagnoses in plain words.

Built only from the outcome records (see autograder.grade.outcome), whose text was
already scrubbed of hidden test lines; every string is HTML-escaped here.
Written to nbgrader's feedback folder as `<notebook>.html`, so `nbgrader
release_feedback` hands it out (run it instead of `nbgrader generate_feedback`,
which would show the hidden tests).
"""
import html
import shutil
from pathlib import Path

from autograder.grade.course import Course
from autograder.grade.outcome import SubmissionOutcome

STYLE = """
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;color:#222;line-height:1.45}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}
.ok{color:#1a7f37}.lost{color:#b42318}.code{font-family:monospace;background:#f3f3f3;padding:0 .3rem}
.note{background:#fff8e1;padding:.5rem 1rem;border-left:4px solid #f0b400}
"""


def render(outcome: SubmissionOutcome) -> str:
    esc = html.escape
    rows = []
    for cell in outcome.cells:
        state = "ok" if cell.points >= cell.max_points else "lost"
        kind = "hidden test" if cell.hidden else "test"
        detail = "".join(f"<p><span class='code'>[{esc(d['code'])}]</span> {esc(d['text'])}</p>"
                         for d in cell.diagnoses) or f"<p>{esc(cell.message)}</p>"
        rows.append(f"<tr><td>{esc(cell.exercise)}<br><small>{kind} <code>{esc(cell.grade_id)}</code></small></td>"
                    f"<td class='{state}'>{cell.points:g} / {cell.max_points:g}</td><td>{detail}</td></tr>")
    notes = "".join(f"<p class='note'>{esc(note)}</p>" for note in outcome.notes)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Feedback: {esc(outcome.assignment)}</title>"
            f"<style>{STYLE}</style></head><body>"
            f"<h1>Feedback on {esc(outcome.assignment)}</h1>"
            f"<p>Student: <b>{esc(outcome.student)}</b> &middot; Score: <b>{outcome.score:g} / {outcome.max_score:g}</b></p>"
            f"{notes}<table><tr><th>exercise</th><th>points</th><th>what the grader found</th></tr>"
            f"{''.join(rows)}</table>"
            "<p><small>Each diagnosis names what happened in your code's run and how to fix it. "
            "Hidden tests are not shown.</small></p></body></html>")


def write_feedback(course: Course, outcome: SubmissionOutcome) -> Path:
    folder = course.folder("feedback", outcome.student, outcome.assignment)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{outcome.notebook or outcome.assignment}.html"
    path.write_text(render(outcome), encoding="utf-8")
    stamp = course.folder("autograded", outcome.student, outcome.assignment) / "timestamp.txt"
    if stamp.is_file():  # `nbgrader release_feedback` reads it next to the page
        shutil.copy(stamp, folder / "timestamp.txt")
    return path
