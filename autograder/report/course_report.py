"""The whole course at a glance: every graded assignment's scores, diagnoses and crashes.

Rebuilt from every `<notebook>.grading.json` under the autograded folder each time an
assignment's class report is written, so it always covers what has been graded.
Written to `reports/course_report.html` and `reports/course_diagnoses.csv` (one row
per assignment, exercise and diagnosis, with the students who got it).
"""
from pathlib import Path

from nbgrader.coursedir import CourseDirectory

from autograder.report import class_report
from autograder.render import page


def graded_assignments(coursedir: CourseDirectory) -> list[str]:
    return sorted({path.parent.name for path in class_report.autograded_root(coursedir).glob("*/*/*.grading.json")})


def write_course_report(coursedir: CourseDirectory) -> Path:
    folder = class_report.report_folder(coursedir)
    folder.mkdir(parents=True, exist_ok=True)
    assignments, diagnoses = [], []
    for name in graded_assignments(coursedir):
        outcomes = class_report.load_outcomes(coursedir, name)
        rows, size = class_report.count_diagnoses(outcomes)
        by_student = class_report.scores(outcomes)
        found = class_report.problems(outcomes)
        assignments.append({"name": name, "size": size, "summary": class_report.score_summary(by_student),
                            "distribution": class_report.distribution(by_student),
                            "stops": [row for row in found if row["stop"]],
                            "top": rows[:5]})
        diagnoses += [dict(row, assignment=name) for row in rows]
    diagnoses.sort(key=lambda row: (-row["students"], row["assignment"], row["exercise"]))
    class_report.write_csv(folder / "course_diagnoses.csv",
                           [{"assignment": r["assignment"], **{k: v for k, v in r.items() if k != "assignment"}}
                            for r in diagnoses])
    path = folder / "course_report.html"
    path.write_text(page("course_report.html.j2", assignments=assignments, diagnoses=diagnoses[:40]),
                    encoding="utf-8")
    return path
