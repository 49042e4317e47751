"""What grading one submission produced: a score and a reason for every test cell.

These records are the grader's single source of truth after a run: the summary
table, each student's feedback page and the class report are all drawn from them
(saved as `<notebook>.grading.json` next to the autograded notebook), never from a second
reading of the student's notebook.
"""
from dataclasses import asdict, dataclass, field, fields


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
    cause: dict | None = None  # causes.Cause.to_dict(): what stopped this test (a crash, a timeout...)
    curve: list[float] = field(default_factory=list)  # the learner's losses on this test's data
    reference_curve: list[float] = field(default_factory=list)  # a correct loop's, on the same data

    @classmethod
    def from_dict(cls, data: dict) -> "CellOutcome":
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass
class SubmissionOutcome:
    student: str
    assignment: str
    notebook: str = ""
    cells: list[CellOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # notebook-level: misnamed, restored cells, ...
    walls: str = ""
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(cell.points for cell in self.cells)

    @property
    def max_score(self) -> float:
        return sum(cell.max_points for cell in self.cells)

    def to_dict(self) -> dict:
        return asdict(self) | {"score": self.score, "max_score": self.max_score}

    @classmethod
    def from_dict(cls, data: dict) -> "SubmissionOutcome":
        cells = [CellOutcome.from_dict(cell) for cell in data.get("cells", [])]
        return cls(student=data["student"], assignment=data["assignment"],
                   notebook=data.get("notebook", ""), cells=cells,
                   notes=list(data.get("notes", [])), walls=data.get("walls", ""),
                   seconds=data.get("seconds", 0.0))
