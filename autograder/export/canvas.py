"""A gradebook CSV that Canvas imports (Grades > Import): one row per student, one
column per assignment.

    nbgrader export --exporter=autograder.export.canvas.CanvasExport --to canvas.csv

Canvas reads the columns `Student` (Last, First), `ID` (its own user id),
`SIS User ID`, `SIS Login ID` and `Section`, then one column per assignment, with a
`Points Possible` row under the header. It matches a row to a student by `ID`, or
by the SIS ids when `ID` is empty. nbgrader's `lms_user_id` (set by
`nbgrader db student add --lms-user-id` or a roster import) fills `ID`; the
student's nbgrader id fills the SIS login id (configurable). A column named as an
existing Canvas assignment, "Name (12345)" as Canvas's own export writes it, updates
that assignment; any other name creates a new one: `CanvasExport.columns` maps
nbgrader's assignment names to the Canvas column titles.
"""
import csv
from collections import defaultdict

from nbgrader.plugins import ExportPlugin
from traitlets import Dict, Enum, Unicode

from autograder.export.grades import grades, number

HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


class CanvasExport(ExportPlugin):
    columns = Dict({}, help="nbgrader assignment name -> Canvas column title, e.g. "
                            "{'04_training_loop': 'Phase 4 (12345)'}; by default the assignment's name"
                   ).tag(config=True)
    section = Unicode("", help="the Section column's value (Canvas ignores it when empty)").tag(config=True)
    sis_login_id = Enum(["id", "email"], default_value="id",
                        help="what fills SIS Login ID: the nbgrader student id, or the email").tag(config=True)
    sis_user_id = Enum(["id", "none"], default_value="id",
                       help="what fills SIS User ID: the nbgrader student id, or nothing").tag(config=True)

    def export(self, gradebook) -> None:
        destination = self.to or "canvas_grades.csv"
        rows = grades(gradebook, [str(a) for a in self.assignment], [str(s) for s in self.student])
        assignments = list(dict.fromkeys(g.assignment for g in rows))
        maximum = {g.assignment: g.max_score for g in rows}
        by_student: dict[str, dict] = defaultdict(dict)
        people = {}
        for g in rows:
            by_student[g.student_id][g.assignment] = g.score
            people[g.student_id] = g
        with open(destination, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER + [self.columns.get(name, name) for name in assignments])
            writer.writerow(["    Points Possible", "", "", "", ""] + [number(maximum[a]) for a in assignments])
            for student_id in sorted(by_student):
                person = people[student_id]
                name = ", ".join(part for part in (person.last_name, person.first_name) if part) or student_id
                login = person.email if self.sis_login_id == "email" and person.email else student_id
                writer.writerow([name, person.lms_user_id, student_id if self.sis_user_id == "id" else "", login,
                                 self.section] + [number(by_student[student_id][a]) for a in assignments])
        self.log.info("Wrote %d student(s) x %d assignment(s) to %s", len(by_student), len(assignments),
                      destination)
