"""A plain gradebook CSV: one row per student and assignment, every number spelled out.

    nbgrader export --exporter=autograder.export.plain.PlainExport --to grades.csv
"""
import csv

from nbgrader.plugins import ExportPlugin

from autograder.export.grades import grades, number

COLUMNS = ["assignment", "student_id", "last_name", "first_name", "email", "lms_user_id", "submitted",
           "timestamp", "raw_score", "late_penalty", "score", "max_score", "percent"]


class PlainExport(ExportPlugin):
    """nbgrader's CSV plus what it leaves out: the LMS id, whether anything was
    submitted, and the percentage."""

    def export(self, gradebook) -> None:
        destination = self.to or "grades.csv"
        rows = grades(gradebook, [str(a) for a in self.assignment], [str(s) for s in self.student])
        with open(destination, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for g in rows:
                percent = 100.0 * g.score / g.max_score if g.max_score else 0.0
                writer.writerow([g.assignment, g.student_id, g.last_name, g.first_name, g.email, g.lms_user_id,
                                 "yes" if g.submitted else "no", g.timestamp, number(g.raw_score),
                                 number(g.late_penalty), number(g.score), number(g.max_score), number(percent)])
        self.log.info("Wrote %d grade(s) to %s", len(rows), destination)
