"""How often each diagnosis was made, per exercise, across the class: CSV, bar chart, HTML.

Read from the `<notebook>.grading.json` records the grader leaves in each
student's autograded folder, so the report can be rebuilt at any time. A student
counts once per (exercise, diagnosis), however many test cells reported it: "40 %
of the class validated without `model.eval()`" means 40 % of the students.
"""
import base64
import csv
import html
import io
import json
from collections import defaultdict
from pathlib import Path

from autograder.grade.course import Course
from autograder.grade.outcome import SubmissionOutcome


def load_outcomes(course: Course, assignment: str) -> list[SubmissionOutcome]:
    root = course.root / course.coursedir.autograded_directory
    outcomes = []
    for path in sorted(root.glob(f"*/{assignment}/*.grading.json")):
        try:
            outcomes.append(SubmissionOutcome.from_dict(json.loads(path.read_text())))
        except (ValueError, KeyError, TypeError):
            continue
    return outcomes


def count_diagnoses(outcomes: list[SubmissionOutcome]) -> tuple[list[dict], int]:
    """Rows {exercise, diagnosis, students, percent} sorted by frequency, and the class size."""
    students = {outcome.student for outcome in outcomes}
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for outcome in outcomes:
        for cell in outcome.cells:
            for diagnosis in cell.diagnoses:
                seen[(cell.exercise, diagnosis["code"])].add(outcome.student)
            if not cell.diagnoses and cell.points < cell.max_points:
                seen[(cell.exercise, _kind(cell.reason))].add(outcome.student)
    size = len(students)
    rows = [{"exercise": exercise, "diagnosis": code, "students": len(who),
             "percent": round(100.0 * len(who) / size, 1) if size else 0.0}
            for (exercise, code), who in seen.items()]
    rows.sort(key=lambda row: (-row["students"], row["exercise"], row["diagnosis"]))
    return rows, size


KINDS = ("tampering detected", "memory limit exceeded", "cell time limit exceeded", "notebook time limit exceeded",
         "not attempted yet", "a hidden check failed", "error in a hidden check", "the notebook file could not be read",
         "the notebook ended the grading process", "the process crashed", "the process was killed", "not run",
         "the test cell wrote to stderr", "partial credit", "CPU time limit exceeded")


def _kind(reason: str) -> str:
    """Failures without a diagnosis code, grouped by their kind (without the details)."""
    if reason.startswith("error: "):
        return "error: " + reason[len("error: "):].split(":")[0]
    if reason.startswith("error in a hidden check: "):
        return reason.split(" (")[0]
    if reason.startswith("failed: "):
        return "a visible check failed"
    if reason.startswith("no `"):
        return "notebook missing"
    return next((kind for kind in KINDS if reason.startswith(kind)), reason.split(" (")[0][:60])


def write_class_report(course: Course, assignment: str) -> Path:
    """Writes class_report.csv, class_report.png and class_report.html; returns the HTML path."""
    outcomes = load_outcomes(course, assignment)
    rows, size = count_diagnoses(outcomes)
    folder = course.report_folder(assignment)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "class_report.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["exercise", "diagnosis", "students", "percent"])
        writer.writeheader()
        writer.writerows(rows)
    png = bar_chart(rows, size, assignment)
    (folder / "class_report.png").write_bytes(png)
    page = folder / "class_report.html"
    page.write_text(_page(assignment, rows, size, outcomes, png), encoding="utf-8")
    return page


def bar_chart(rows: list[dict], size: int, assignment: str) -> bytes:
    from matplotlib.figure import Figure
    shown = rows[:15]
    figure = Figure(figsize=(8, 0.45 * max(len(shown), 2) + 1.2), dpi=90)
    axes = figure.subplots()
    labels = [f"{row['exercise']}: {row['diagnosis']}" for row in shown][::-1]
    values = [row["percent"] for row in shown][::-1]
    axes.barh(labels, values, color="#d9822b")
    axes.set_xlim(0, 100)
    axes.set_xlabel(f"% of the class ({size} students)")
    axes.set_title(f"{assignment}: diagnoses across the class" if shown else f"{assignment}: no diagnoses")
    for y, value in enumerate(values):
        axes.text(value + 1, y, f"{value:g} %", va="center", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _page(assignment, rows, size, outcomes, png: bytes) -> str:
    esc = html.escape
    table = "".join(f"<tr><td>{esc(r['exercise'])}</td><td><code>{esc(r['diagnosis'])}</code></td>"
                    f"<td>{r['students']}</td><td>{r['percent']:g} %</td></tr>" for r in rows)
    scores = [outcome.score for outcome in outcomes]
    mean = sum(scores) / len(scores) if scores else 0.0
    top = (f"<p><b>Most common:</b> {rows[0]['percent']:g} % of the class got "
           f"<code>{esc(rows[0]['diagnosis'])}</code> in <b>{esc(rows[0]['exercise'])}</b>.</p>") if rows else ""
    image = base64.b64encode(png).decode()
    return ("<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>Class report: {esc(assignment)}</title><style>body{{font-family:system-ui,sans-serif;"
            "max-width:60rem;margin:2rem auto}table{border-collapse:collapse}td,th{padding:.3rem .8rem;"
            "border-bottom:1px solid #ddd;text-align:left}</style></head><body>"
            f"<h1>Class report: {esc(assignment)}</h1><p>{size} students &middot; mean score {mean:.2f}</p>{top}"
            f"<img alt='bar chart of diagnoses' src='data:image/png;base64,{image}'>"
            "<table><tr><th>exercise</th><th>diagnosis</th><th>students</th><th>share</th></tr>"
            f"{table}</table></body></html>")
