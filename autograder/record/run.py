"""A job for a grading worker and the run it hands back.

Why records and not dicts: the same run travels from the forked process that ran the
learner's cells, through the warm worker and (on a cluster) Dask, to the grading
parent, which puts its outputs in nbgrader's place and explains every lost point from
it. A stop is a `Stop` with a `StopKind`, never an error output read back by its name.
"""
import hashlib
import json
from dataclasses import asdict, dataclass, field
from enum import Enum


# How running out of memory reads when the allocation failed below Python (torch's allocator).
MEMORY_WORDS = ("can't allocate memory", "cannot allocate memory", "out of memory", "DefaultCPUAllocator")


class StopKind(str, Enum):
    """Why a test could not do its own work: what the worker saw stop a cell or its
    process, and what the grader finds in the notebook itself."""
    CRASH = "crash"  # a fault signal ended the process: segmentation fault, abort, ...
    KILLED = "killed"  # any other signal ended it
    EXIT = "exit"  # the notebook ended its own process (os._exit)
    CPU_LIMIT = "cpu-limit"
    NOTEBOOK_TIMEOUT = "notebook-timeout"
    SILENT = "silent"  # the process stopped reporting and was killed
    TIMEOUT = "timeout"  # a cell ran past its time limit (stopped by its alarm, or killed)
    MEMORY = "memory"  # a cell ran out of memory
    TAMPERING = "tampering"  # a cell replaced what the grader or torch relies on
    GRADER = "grader"  # the grader itself could not run the notebook
    ERROR = "error"  # an earlier cell raised
    NOT_ATTEMPTED = "not-attempted"  # the exercise still raises NotImplementedError
    NO_NOTEBOOK = "no-notebook"  # nothing could be run: the notebook is missing or unreadable


@dataclass(frozen=True)
class Stop:
    """What stopped a cell or the run; `words` continue a sentence whose subject is the
    cell: "(the cell defining `train`) crashed the kernel with a segmentation fault"."""
    kind: StopKind
    words: str
    cell: int | None = None  # notebook index of the cell; None: before any cell
    signal: str | None = None

    def to_dict(self) -> dict:
        return {"kind": self.kind.value, "words": self.words, "cell": self.cell, "signal": self.signal}

    @classmethod
    def from_dict(cls, data: dict) -> "Stop":
        return cls(StopKind(data["kind"]), str(data["words"]), data.get("cell"), data.get("signal"))


@dataclass(frozen=True)
class Limits:
    """What one submission may use. The values always come from the `GradingLimits`
    traits (grade/course/settings.py): this is only how they travel."""
    cell_seconds: float
    notebook_seconds: float
    memory_bytes: int
    tmp_bytes: int


@dataclass(frozen=True)
class JobCell:
    index: int  # in the notebook
    source: str
    trusted: bool  # instructor source restored from the gradebook (tests, locked cells)
    grade: bool  # a test cell nbgrader scores


@dataclass(frozen=True)
class Job:
    """The code cells nbgrader would execute, the files of the working folder, the limits:
    everything a worker needs, and nothing of the course (no gradebook, no source)."""
    cells: tuple[JobCell, ...]
    files: dict[str, bytes]
    limits: Limits

    @property
    def key(self) -> str:
        """Equal for equal jobs: a run done ahead of time is used only for the very same job."""
        digest = hashlib.sha256(json.dumps([[asdict(cell) for cell in self.cells], asdict(self.limits),
                                            sorted(self.files)]).encode())
        for name in sorted(self.files):
            digest.update(hashlib.sha256(self.files[name]).digest())
        return digest.hexdigest()

    def without(self, skipped: set[int]) -> "Job":
        return Job(tuple(cell for cell in self.cells if cell.index not in skipped), self.files, self.limits)


@dataclass
class CellRecord:
    """One executed cell: its outputs in nbformat's shape, and what stopped it, if anything."""
    index: int
    outputs: list[dict]
    count: int
    seconds: float = 0.0
    stop: Stop | None = None  # a time limit or the memory limit, inside the cell
    tampering: list[str] = field(default_factory=list)  # found after the cell ran

    def to_dict(self) -> dict:
        return {"index": self.index, "outputs": self.outputs, "count": self.count, "seconds": self.seconds,
                "stop": None if self.stop is None else self.stop.to_dict(), "tampering": list(self.tampering)}

    @classmethod
    def from_dict(cls, data: dict) -> "CellRecord":
        stop = data.get("stop")
        return cls(int(data["index"]), list(data.get("outputs") or []), int(data.get("count") or 0),
                   float(data.get("seconds") or 0.0), None if stop is None else Stop.from_dict(stop),
                   [str(item) for item in data.get("tampering") or []])


@dataclass
class Run:
    """What a worker hands back for one job."""
    cells: dict[int, CellRecord] = field(default_factory=dict)
    stop: Stop | None = None  # what ended the run before its last cell (its process, or tampering); None: none
    crashes: list[Stop] = field(default_factory=list)  # process stops the run was resumed after
    walls: str = ""  # how the process was walled in
    seconds: float = 0.0
    files: dict[str, bytes] = field(default_factory=dict)  # files the notebook wrote in its folder

    @property
    def process_stops(self) -> dict[int, Stop]:
        """Notebook cell -> the stop that ended the process in it."""
        stops = {stop.cell: stop for stop in self.crashes if stop.cell is not None}
        if self.stop is not None and self.stop.cell is not None and self.stop.kind is not StopKind.TAMPERING:
            stops[self.stop.cell] = self.stop
        return stops

    @property
    def tampered_at(self) -> int | None:
        return next((index for index in sorted(self.cells) if self.cells[index].tampering), None)

    @classmethod
    def failed(cls, words: str) -> "Run":
        """No cell ran: the grader could not run the notebook (said in `words`)."""
        return cls(stop=Stop(StopKind.GRADER, words))

    def summary(self) -> dict:
        """What the outcome keeps of the run (outputs live in the notebook)."""
        return {"walls": self.walls, "seconds": round(self.seconds, 3),
                "stop": None if self.stop is None else self.stop.to_dict(),
                "crashes": [stop.to_dict() for stop in self.crashes]}
