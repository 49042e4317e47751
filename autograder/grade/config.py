"""The grader's configuration: nbgrader's own, loaded as nbgrader loads it, plus the grader's limits.

Why nbgrader's own loader and objects: an instructor configures a course once, in
`nbgrader_config.py`. Whatever `nbgrader autograde` would honour there (the
`c.Autograde.*` preprocessor lists, `c.Execute.timeout` or
`c.ExecutePreprocessor.timeout`, `c.OverwriteCells.add_missing_cells`, ...) must take
effect here too, so we read it through nbgrader's classes instead of copying their
defaults. The grader's own limits are traits of the same kind, set in the same file:

    c.GradingLimits.memory_mb = 4096
    c.GradingLimits.notebook_seconds = 900
    c.ClassGrading.scheduler = "tcp://scheduler.example.edu:8786"
"""
import os

from nbgrader.apps.baseapp import NbGrader
from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute
from traitlets import Float, Integer, Unicode
from traitlets.config import Config, Configurable


class GradingLimits(Configurable):
    """What one submission may use while it is graded."""

    memory_mb = Integer(2048, help="Memory per submission in MiB, on top of the warm worker's own "
                                   "footprint (torch already imported).").tag(config=True)
    notebook_seconds = Float(600.0, help="Seconds one notebook may run in all.").tag(config=True)
    tmp_mb = Integer(256, help="Size in MiB of the private /tmp each submission gets.").tag(config=True)
    cell_seconds = Float(None, allow_none=True,
                         help="Seconds per cell. Default: nbgrader's own cell timeout "
                              "(Execute.timeout or ExecutePreprocessor.timeout).").tag(config=True)


class ClassGrading(Configurable):
    """How a class is graded: on this machine's cores, or on a Dask cluster."""

    jobs = Integer(os.cpu_count() or 2, help="Notebooks graded at once on this machine.").tag(config=True)
    scheduler = Unicode("", help="Address of a Dask scheduler (tcp://host:8786) to grade on; "
                                 "empty: grade on this machine.").tag(config=True)


def load_config(root: str | os.PathLike) -> Config:
    """The configuration `nbgrader` itself would read when started in `root`: Jupyter's
    config folders, then the course's own `nbgrader_config.py` (it wins)."""
    app, here = NbGrader(), os.getcwd()
    os.chdir(root)
    try:
        app.load_config_file()
    finally:
        os.chdir(here)
    return app.config


def autograde_converter(config: Config, coursedir: CourseDirectory) -> Autograde:
    """nbgrader's Autograde converter, configured: its preprocessor lists and options."""
    return Autograde(coursedir=coursedir, config=config)


def nbgrader_cell_seconds(config: Config) -> float | None:
    """The cell timeout nbgrader's Execute step would use; None when it has none."""
    timeout = Execute(config=config).timeout
    return None if timeout is None or timeout <= 0 else float(timeout)


def skip_tag(config: Config) -> str:
    """Cells with this tag are not executed by nbgrader (nbclient's `skip_cells_with_tag`)."""
    return Execute(config=config).skip_cells_with_tag
