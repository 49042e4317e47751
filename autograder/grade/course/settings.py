"""The grader's own limits: traits, set in `nbgrader_config.py` beside nbgrader's options.

    c.GradingLimits.memory_mb = 4096
    c.GradingLimits.notebook_seconds = 900
    c.GradingLimits.cell_seconds = 60      # default: nbgrader's own c.Execute.timeout

Why traits: an instructor configures a course once, in `nbgrader_config.py`, and
nbgrader's command line sets any trait (`--GradingLimits.memory_mb=1024`). These
traits are the one source of the limits' defaults; `record.run.Limits` is only how
their values travel to a worker.
"""
from traitlets import Float, Integer
from traitlets.config import Configurable

from autograder.record.run import Limits


class GradingLimits(Configurable):
    """What one submission may use while it is graded."""

    memory_mb = Integer(2048, help="Memory per submission in MiB, on top of the warm worker's own "
                                   "footprint (torch already imported).").tag(config=True)
    notebook_seconds = Float(600.0, help="Seconds one notebook may run in all.").tag(config=True)
    tmp_mb = Integer(256, help="Size in MiB of the private /tmp each submission gets.").tag(config=True)
    cell_seconds = Float(None, allow_none=True,
                         help="Seconds per cell. Default: nbgrader's own cell timeout "
                              "(Execute.timeout or ExecutePreprocessor.timeout).").tag(config=True)

    def for_job(self, execute_timeout: float | None) -> Limits:
        """The limits of one job; without a cell limit of either kind, the notebook's bounds each cell."""
        nbgraders = execute_timeout if execute_timeout and execute_timeout > 0 else None
        cell = self.cell_seconds or nbgraders or self.notebook_seconds
        return Limits(cell_seconds=float(cell), notebook_seconds=float(self.notebook_seconds),
                      memory_bytes=self.memory_mb * 1024 ** 2, tmp_bytes=self.tmp_mb * 1024 ** 2)
