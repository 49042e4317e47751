"""The grader's verdict for one notebook: a score and a reason for every graded cell.

These records are the single source of truth after grading: the gradebook comments,
the summary table, each student's feedback page and the class report are all drawn
from them (kept as `<notebook>.grading.json` next to the autograded notebook), never
from a second reading of the notebook. Scores and manual-grading flags are copied from
the gradebook, where nbgrader's own steps wrote them.
"""
from dataclasses import asdict, dataclass, field, fields

from autograder.record.run import StopKind


@dataclass(frozen=True)
class Cause:
    """What stopped a test, as the learner reads it: `subject` (the cell it happened
    in, or "this test") and `words` ("crashed the kernel with a segmentation fault")."""
    kind: StopKind
    cell: int | None
    subject: str
    words: str
    signal: str | None = None

    @property
    def text(self) -> str:
        return f"{self.subject} {self.words}".strip()

    def as_seen_by(self, subject: str) -> "Cause":
        return Cause(self.kind, self.cell, subject, self.words, self.signal)

    def to_dict(self) -> dict:
        return {"kind": self.kind.value, "cell": self.cell, "subject": self.subject, "words": self.words,
                "signal": self.signal, "text": self.text}

    @classmethod
    def from_dict(cls, data: dict) -> "Cause":
        return cls(StopKind(data["kind"]), data.get("cell"), str(data.get("subject", "")),
                   str(data.get("words", "")), data.get("signal"))


@dataclass
class CellOutcome:
    grade_id: str
    exercise: str
    points: float
    max_points: float
    reason: str
    hidden: bool = False
    diagnoses: list[dict] = field(default_factory=list)  # Diagnosis.to_dict() each, already safe to show
    message: str = ""  # what the learner may read about this cell (never hidden source)
    cause: Cause | None = None  # what stopped this test (a crash, a timeout, tampering...)
    curve: list[float] = field(default_factory=list)  # the learner's losses on this test's data
    reference_curve: list[float] = field(default_factory=list)  # a correct loop's, on the same data
    needs_manual_grade: bool = False  # as nbgrader's gradebook has it

    def to_dict(self) -> dict:
        data = asdict(self)
        data["cause"] = None if self.cause is None else self.cause.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "CellOutcome":
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        if values.get("cause") is not None:
            values["cause"] = Cause.from_dict(values["cause"])
        return cls(**values)


@dataclass
class SubmissionOutcome:
    student: str
    assignment: str
    notebook: str = ""
    cells: list[CellOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # notebook-level: a misnamed file, restored test cells, ...
    run: dict = field(default_factory=dict)  # record.run.Run.summary(): walls, seconds, how it stopped

    @property
    def score(self) -> float:
        return sum(cell.points for cell in self.cells)

    @property
    def max_score(self) -> float:
        return sum(cell.max_points for cell in self.cells)

    @property
    def walls(self) -> str:
        return self.run.get("walls", "")

    @property
    def seconds(self) -> float:
        return float(self.run.get("seconds", 0.0))

    def to_dict(self) -> dict:
        return {"student": self.student, "assignment": self.assignment, "notebook": self.notebook,
                "cells": [cell.to_dict() for cell in self.cells], "notes": list(self.notes), "run": dict(self.run),
                "score": self.score, "max_score": self.max_score}

    @classmethod
    def from_dict(cls, data: dict) -> "SubmissionOutcome":
        return cls(student=data["student"], assignment=data["assignment"], notebook=data.get("notebook", ""),
                   cells=[CellOutcome.from_dict(cell) for cell in data.get("cells", [])],
                   notes=list(data.get("notes", [])), run=dict(data.get("run") or {}))
