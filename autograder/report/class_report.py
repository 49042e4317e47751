"""What an instructor acts on, per assignment: scores, pass rates, diagnoses, crashes.

Read from the `<notebook>.grading.json` records the grader leaves in each
student's autograded folder, so the report can be rebuilt at any time. Written to
`reports/<assignment>/`:

    class_report.html      the page: score distribution, each test's pass rate, each
                           diagnosis with how many students got it and who, and the
                           crashes, timeouts and tampering listed apart from loop bugs
    class_report.csv       exercise, diagnosis, title, students, percent, who
    diagnoses_by_student.csv  one row per student and diagnosis, for a mail merge
    problems.csv           one row per student and root cause (crash, timeout, ...)
    tests.csv, scores.csv  each test's pass rate; each student's score

A student counts once per (exercise, diagnosis), however many test cells reported
it: "40 % of the class validated without `model.eval()`" means 40 % of the students.
The course-wide report (course_report.py) is rebuilt with it.
"""
import base64
import csv
import json
import statistics
from collections import Counter, defaultdict
from pathlib import Path

from nbgrader.coursedir import CourseDirectory

from autograder.diagnoses import Diagnosis
from autograder.record.outcome import SubmissionOutcome
from autograder.record.run import StopKind
from autograder.render import page

# Root causes by kind, as the report names them (see autograder/record/run.py).
CAUSE_LABELS = {StopKind.CRASH: "crashed the kernel", StopKind.KILLED: "process killed",
                StopKind.TIMEOUT: "cell time limit exceeded", StopKind.NOTEBOOK_TIMEOUT: "notebook time limit exceeded",
                StopKind.CPU_LIMIT: "CPU time limit exceeded", StopKind.EXIT: "ended the grading process",
                StopKind.SILENT: "stopped reporting", StopKind.MEMORY: "memory limit exceeded",
                StopKind.ERROR: "an earlier cell raised an error", StopKind.NOT_ATTEMPTED: "not attempted yet",
                StopKind.TAMPERING: "tampering detected", StopKind.GRADER: "the grader failed",
                StopKind.NO_NOTEBOOK: "no readable notebook"}
# What stopped tests (listed apart from the loop bugs), against what failed in the learner's own code.
STOPS = frozenset(StopKind) - {StopKind.ERROR, StopKind.NOT_ATTEMPTED, StopKind.TAMPERING}


def autograded_root(coursedir: CourseDirectory) -> Path:
    return Path(coursedir.root) / coursedir.autograded_directory


def report_folder(coursedir: CourseDirectory, assignment: str = "") -> Path:
    return Path(coursedir.root) / "reports" / assignment


def load_outcomes(coursedir: CourseDirectory, assignment: str) -> list[SubmissionOutcome]:
    root = autograded_root(coursedir)
    outcomes = []
    for path in sorted(root.glob(f"*/{assignment}/*.grading.json")):
        try:
            outcomes.append(SubmissionOutcome.from_dict(json.loads(path.read_text())))
        except (ValueError, KeyError, TypeError):
            continue
    return outcomes


def count_diagnoses(outcomes: list[SubmissionOutcome]) -> tuple[list[dict], int]:
    """Rows {exercise, diagnosis, title, students, percent, who}, most frequent first, and
    the class size: the loop bugs and other failed checks, not what stopped a test
    (crashes, timeouts, tampering: see `problems`)."""
    students = {outcome.student for outcome in outcomes}
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    titles: dict[str, str] = {}
    for outcome in outcomes:
        for cell in outcome.cells:
            for diagnosis in cell.diagnoses:
                seen[(cell.exercise, diagnosis["code"])].add(outcome.student)
                titles[diagnosis["code"]] = diagnosis.get("title", "")
            if not cell.diagnoses and cell.points < cell.max_points and not cell.cause:
                seen[(cell.exercise, _kind(cell.reason))].add(outcome.student)
    size = len(students)
    rows = [{"exercise": exercise, "diagnosis": code, "title": titles.get(code, ""), "students": len(who),
             "percent": _percent(len(who), size), "who": "; ".join(sorted(who))}
            for (exercise, code), who in seen.items()]
    rows.sort(key=lambda row: (-row["students"], row["exercise"], row["diagnosis"]))
    return rows, size


def _kind(reason: str) -> str:
    """Failures without a diagnosis code or a root cause, grouped by their kind."""
    if reason.startswith("failed: "):
        return "a visible check failed"
    if reason.startswith("error: "):
        return "error: " + reason[len("error: "):].split(":")[0]
    if reason.startswith("error in a hidden check: "):
        return reason.split(" (")[0]
    return reason.split(" (")[0].split(":")[0][:60]


def _percent(count: int, size: int) -> float:
    return round(100.0 * count / size, 1) if size else 0.0


def problems(outcomes: list[SubmissionOutcome]) -> list[dict]:
    """One row per student and root cause: what stopped their tests, where, which tests."""
    rows: dict[tuple, dict] = {}
    for outcome in outcomes:
        for cell in outcome.cells:
            cause = cell.cause
            if cause is None:
                continue
            key = (outcome.student, outcome.notebook, cause.kind, cause.text)
            row = rows.setdefault(key, {"student": outcome.student, "notebook": outcome.notebook,
                                        "kind": cause.kind.value, "label": CAUSE_LABELS[cause.kind],
                                        "what": cause.text, "tests": [], "points_lost": 0.0, "stop": cause.kind in STOPS})
            row["tests"].append(cell.grade_id)
            row["points_lost"] += cell.max_points - cell.points
    return sorted(rows.values(), key=lambda row: (not row["stop"], row["kind"], row["student"]))


def mail_merge_rows(outcomes: list[SubmissionOutcome]) -> list[dict]:
    """One row per (student, exercise, diagnosis): what a personal email needs."""
    rows, seen = [], set()
    for outcome in outcomes:
        for cell in outcome.cells:
            for data in cell.diagnoses:
                key = (outcome.student, cell.exercise, data["code"])
                if key in seen:
                    continue
                seen.add(key)
                d = Diagnosis.from_dict(data)
                rows.append({"student": outcome.student, "assignment": outcome.assignment,
                             "notebook": outcome.notebook, "exercise": cell.exercise, "diagnosis": d.code,
                             "title": d.title, "what_happened": d.message, "fix": d.fix,
                             "section": d.section.label, "link": d.section.href,
                             "score": f"{outcome.score:g}", "max_score": f"{outcome.max_score:g}"})
    return rows


def test_rates(outcomes: list[SubmissionOutcome]) -> list[dict]:
    """Each test cell: how many students passed it, and the mean points."""
    cells: dict[tuple[str, str], list] = defaultdict(list)
    for outcome in outcomes:
        for cell in outcome.cells:
            cells[(outcome.notebook, cell.grade_id)].append(cell)
    rows = []
    for (notebook, grade_id), found in cells.items():
        passed = sum(1 for cell in found if cell.points >= cell.max_points)
        rows.append({"notebook": notebook, "test": grade_id, "exercise": found[0].exercise,
                     "hidden": found[0].hidden, "max_points": found[0].max_points, "students": len(found),
                     "passed": passed, "percent": _percent(passed, len(found)),
                     "mean_points": round(statistics.mean(cell.points for cell in found), 2)})
    return rows


def scores(outcomes: list[SubmissionOutcome]) -> dict[str, tuple[float, float]]:
    """student -> (score, max score) over the assignment's notebooks."""
    total: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for outcome in outcomes:
        total[outcome.student][0] += outcome.score
        total[outcome.student][1] += outcome.max_score
    return {student: (got, most) for student, (got, most) in sorted(total.items())}


def write_class_report(coursedir: CourseDirectory, assignment: str) -> Path:
    """Writes the assignment's report and CSVs, then the course report; returns the HTML path."""
    from autograder.report.course_report import write_course_report

    outcomes = load_outcomes(coursedir, assignment)
    rows, size = count_diagnoses(outcomes)
    folder = report_folder(coursedir, assignment)
    folder.mkdir(parents=True, exist_ok=True)
    found = problems(outcomes)
    by_student = scores(outcomes)
    write_csv(folder / "class_report.csv", rows)
    write_csv(folder / "diagnoses_by_student.csv", mail_merge_rows(outcomes))
    write_csv(folder / "problems.csv", [{k: v for k, v in dict(row, tests="; ".join(row["tests"])).items() if k != "stop"}
                                        for row in found])
    write_csv(folder / "tests.csv", test_rates(outcomes))
    write_csv(folder / "scores.csv", [{"student": s, "score": f"{got:g}", "max_score": f"{most:g}"}
                                      for s, (got, most) in by_student.items()])
    png = bar_chart(rows, size, assignment)
    (folder / "class_report.png").write_bytes(png)
    html = page("class_report.html.j2", assignment=assignment, size=size, rows=rows, tests=test_rates(outcomes),
                stops=[row for row in found if row["stop"]], others=[row for row in found if not row["stop"]],
                distribution=distribution(by_student), summary=score_summary(by_student),
                chart=base64.b64encode(png).decode(),
                histogram=base64.b64encode(score_histogram(by_student, assignment)).decode())
    path = folder / "class_report.html"
    path.write_text(html, encoding="utf-8")
    write_course_report(coursedir)
    return path


def write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        if not rows:
            return
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def distribution(by_student: dict[str, tuple[float, float]]) -> list[dict]:
    """[{score, students, who}] from the highest score down."""
    counts = Counter(got for got, _ in by_student.values())
    return [{"score": f"{got:g}", "students": n,
             "who": ", ".join(s for s, (g, _) in by_student.items() if g == got)}
            for got, n in sorted(counts.items(), reverse=True)]


def score_summary(by_student: dict[str, tuple[float, float]]) -> dict:
    got = [score for score, _ in by_student.values()]
    most = max((m for _, m in by_student.values()), default=0.0)
    if not got:
        return {"mean": "0", "median": "0", "max": f"{most:g}"}
    return {"mean": f"{statistics.mean(got):.2f}", "median": f"{statistics.median(got):g}", "max": f"{most:g}"}


def score_histogram(by_student: dict[str, tuple[float, float]], title: str) -> bytes:
    from course_helpers.plotting import new_figure, png_bytes

    figure, (axes,) = new_figure(6.0, 2.6)
    counts = Counter(got for got, _ in by_student.values())
    axes.bar([float(k) for k in counts], list(counts.values()), width=0.6, color="#3b6ea8")
    axes.set_xlabel("score")
    axes.set_ylabel("students")
    axes.set_title(f"{title}: score distribution")
    return png_bytes(figure)


def bar_chart(rows: list[dict], size: int, assignment: str) -> bytes:
    from course_helpers.plotting import new_figure, png_bytes

    shown = rows[:15]
    figure, (axes,) = new_figure(8.0, 0.45 * max(len(shown), 2) + 1.2)
    labels = [f"{row['exercise']}: {row['diagnosis']}" for row in shown][::-1]
    values = [row["percent"] for row in shown][::-1]
    axes.barh(labels, values, color="#d9822b")
    axes.set_xlim(0, 100)
    axes.set_xlabel(f"% of the class ({size} students)")
    axes.set_title(f"{assignment}: diagnoses across the class" if shown else f"{assignment}: no diagnoses")
    for y, value in enumerate(values):
        axes.text(value + 1, y, f"{value:g} %", va="center", fontsize=8)
    return png_bytes(figure)
