"""The course as nbgrader sees it: folders, gradebook, limits, read from nbgrader's config.

Why read nbgrader's own config (config.py): `python -m autograder grade` must grade
exactly the course that `nbgrader autograde` grades from the same folder, with the
same gradebook, the same preprocessors, the same cell timeout and the same
IgnorePattern for warnings.
"""
import os
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange.default.exchange import Exchange
from traitlets.config import Config

from autograder.grade import config as settings

DEFAULT_CELL_SECONDS = 30  # nbgrader's own default for Execute.timeout


@dataclass
class Limits:
    """What one submission may use. Memory is on top of the warm worker's own
    footprint (torch already imported)."""
    cell_seconds: float = DEFAULT_CELL_SECONDS
    notebook_seconds: float = 600.0
    memory_bytes: int = 2 * 1024 ** 3
    tmp_bytes: int = 256 * 1024 ** 2

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_config(cls, config: Config) -> "Limits":
        """`c.GradingLimits.*`; the cell limit defaults to nbgrader's own cell timeout
        (none there: the notebook's limit bounds each cell)."""
        traits = settings.GradingLimits(config=config)
        notebook = float(traits.notebook_seconds)
        cell = traits.cell_seconds or settings.nbgrader_cell_seconds(config) or notebook
        return cls(cell_seconds=float(cell), notebook_seconds=notebook,
                   memory_bytes=traits.memory_mb * 1024 ** 2, tmp_bytes=traits.tmp_mb * 1024 ** 2)


@dataclass
class Course:
    root: Path
    config: Config
    coursedir: CourseDirectory
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def load(cls, root: str | os.PathLike = ".") -> "Course":
        root = Path(root).resolve()
        config = settings.load_config(root)
        coursedir = CourseDirectory(config=config, root=str(root))
        return cls(root=root, config=config, coursedir=coursedir, limits=Limits.from_config(config))

    @property
    def db_url(self) -> str:
        """nbgrader resolves a relative sqlite path against the current folder; we
        resolve it against the course root, so grading works from anywhere."""
        url = self.coursedir.db_url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url[len(prefix):].startswith("/"):
            return prefix + str(self.root / url[len(prefix):])
        return url

    def folder(self, kind: str, student: str, assignment: str) -> Path:
        """`kind` is one of nbgrader's folder names: submitted, autograded, feedback, source."""
        name = getattr(self.coursedir, f"{kind}_directory")
        student = "." if kind == "source" else student
        return Path(self.coursedir.format_path(name, student, assignment))

    def report_folder(self, assignment: str) -> Path:
        return self.root / "reports" / assignment

    def secret_paths(self) -> list[str]:
        """Everything a submission must not see: the whole course folder (gradebook,
        source notebooks, .git, other students' work) and the exchange, plus any
        nbgrader folder or database configured outside the course folder."""
        paths = [str(self.root)]
        for name in ("submitted", "autograded", "feedback", "source", "release"):
            paths.append(os.path.abspath(os.path.join(self.root, getattr(self.coursedir, f"{name}_directory"))))
        if self.db_url.startswith("sqlite:///"):
            paths.append(self.db_url[len("sqlite:///"):])
        paths.append(str(Exchange(config=self.config).root))  # nbgrader's own default when not configured
        inside = lambda p: p == str(self.root) or p.startswith(str(self.root) + os.sep)  # noqa: E731
        return [paths[0]] + sorted({p for p in paths[1:] if not inside(p) and os.path.exists(p)})
