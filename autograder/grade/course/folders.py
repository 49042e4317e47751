"""Where things lie in a course, as nbgrader's CourseDirectory says: what a submission
must not see, and the gradebook's address from any working folder.

Why nbgrader's own objects: `python -m autograder grade` and `nbgrader autograde` must
grade exactly the same course from the same folder.
"""
import os

from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange.default.exchange import Exchange
from traitlets.config import Config


def gradebook_url(coursedir: CourseDirectory) -> str:
    """nbgrader resolves a relative sqlite path against the current folder (its converter
    works from the course root); this resolves it against the root, so it works from anywhere."""
    url, prefix = coursedir.db_url, "sqlite:///"
    if url.startswith(prefix) and not url[len(prefix):].startswith("/"):
        return prefix + os.path.join(os.path.abspath(coursedir.root), url[len(prefix):])
    return url


def folder(coursedir: CourseDirectory, kind: str, student: str, assignment: str) -> str:
    """`kind` is one of nbgrader's folder names: submitted, autograded, feedback, source, release."""
    student = "." if kind in ("source", "release") else student
    return coursedir.format_path(getattr(coursedir, f"{kind}_directory"), student, assignment)


def secret_paths(coursedir: CourseDirectory, config: Config) -> list[str]:
    """Everything a submission must not see: the whole course folder (gradebook, source
    notebooks, .git, other students' work) and the exchange, plus any nbgrader folder or
    database configured outside the course folder."""
    root = os.path.abspath(coursedir.root)
    paths = [os.path.abspath(os.path.join(root, getattr(coursedir, f"{name}_directory")))
             for name in ("submitted", "autograded", "feedback", "source", "release")]
    url = gradebook_url(coursedir)
    if url.startswith("sqlite:///"):
        paths.append(url[len("sqlite:///"):])
    paths.append(str(Exchange(config=config).root))  # nbgrader's own default when not configured
    inside = lambda p: p == root or p.startswith(root + os.sep)  # noqa: E731
    return [root] + sorted({p for p in paths if not inside(p) and os.path.exists(p)})
