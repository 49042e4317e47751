"""Run a notebook's code cells in this process, recording Jupyter-style outputs.

Why not a Jupyter kernel: starting a kernel and importing torch costs 2-3 s per
submission, most of nbgrader's time on a small notebook. A warm worker has torch
and IPython imported once; each submission runs in a fork of it (see worker.py)
through a real IPython `InteractiveShell`, so cells behave as in a kernel: magics,
the last expression's value (nbgrader reads it as partial credit), `display()`,
tracebacks. What a cell writes becomes nbformat outputs: `stream` (stdout /
stderr), `execute_result`, `display_data`, `error`, exactly what nbgrader's
scoring reads.

Each cell gets a time limit (SIGALRM raises `CellTimeoutError`, a BaseException
so `except Exception` in learner code does not swallow it; the worker kills the
process if even that is ignored). After every cell the integrity snapshot is
compared (integrity.py); each cell's `CellRecord` is sent to the worker at once, so
a process that dies later loses nothing already graded. A cell stopped by its time
limit or by the memory limit says so in its record (`Stop`), not only in its outputs.
"""
import io
import signal
import sys
import time

from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from autograder.grade.kernel import integrity
from autograder.grade.kernel.grader_state import GraderState
from autograder.record.run import MEMORY_WORDS, CellRecord, Job, Stop, StopKind


STREAM_LIMIT = 1_000_000  # characters of printed text kept per cell


class CellTimeoutError(BaseException):
    """Raised inside a cell that ran past its time limit."""


class Recorder:
    """The outputs of the cell now running, in nbformat's shape."""

    def __init__(self):
        self.outputs: list[dict] = []
        self.count = self.streamed = 0

    def begin(self, count: int) -> None:
        self.outputs, self.count, self.streamed = [], count, 0

    def stream(self, name: str, text: str) -> None:
        if not text or self.streamed > STREAM_LIMIT:
            return
        self.streamed += len(text)
        if self.streamed > STREAM_LIMIT:
            text = text[:STREAM_LIMIT] + "\n... output truncated by the grader ...\n"
        last = self.outputs[-1] if self.outputs else None
        if last and last["output_type"] == "stream" and last["name"] == name:
            last["text"] += text  # one output per run of writes, as a kernel's buffering gives
        else:
            self.outputs.append({"output_type": "stream", "name": name, "text": text})

    def error(self, ename: str, evalue: str, traceback: list[str]) -> None:
        self.outputs.append({"output_type": "error", "ename": ename, "evalue": evalue,
                             "traceback": list(traceback)})

    def result(self, data: dict, metadata: dict) -> None:
        self.outputs.append({"output_type": "execute_result", "execution_count": self.count,
                             "data": data, "metadata": metadata or {}})

    def display(self, data: dict, metadata: dict) -> None:
        self.outputs.append({"output_type": "display_data", "data": data, "metadata": metadata or {}})

    def clear(self) -> None:
        self.outputs = []


RECORDER = Recorder()


class _StreamWriter(io.TextIOBase):
    def __init__(self, name: str):
        self.name_ = name

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        RECORDER.stream(self.name_, text)
        return len(text)

    def isatty(self) -> bool:
        return False


class _RecordingDisplayHook(DisplayHook):
    def write_output_prompt(self):
        pass

    def write_format_data(self, format_dict, md_dict=None) -> None:
        RECORDER.result(dict(format_dict), dict(md_dict or {}))


class _RecordingPublisher(DisplayPublisher):
    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
        RECORDER.display(dict(data), dict(metadata or {}))

    def clear_output(self, wait=False):
        RECORDER.clear()


class GradingShell(InteractiveShell):
    """An IPython shell whose tracebacks become `error` outputs instead of prints."""

    displayhook_class = _RecordingDisplayHook
    display_pub_class = _RecordingPublisher

    def _showtraceback(self, etype, evalue, stb):
        RECORDER.error(getattr(etype, "__name__", str(etype)), str(evalue), stb)

    def enable_gui(self, gui=None):  # no event loop to attach to
        pass

    def enable_matplotlib(self, gui=None):
        """`%matplotlib inline` (or any backend): keep the non-interactive Agg backend.
        Figures would only be rendered to be thrown away; cells behave the same, and
        the figures are closed after each cell as the inline backend would."""
        return gui, "agg"


def make_shell() -> GradingShell:
    """Built once in the warm worker, before the integrity snapshot, so every
    submission starts from the same pristine shell (fork copies it)."""
    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    config.InteractiveShell.xmode = "Plain"
    # Some libraries ask the shell's config whether they run in a Jupyter kernel.
    config.IPKernelApp.quiet = True
    return GradingShell.instance(config=config)


def run_cells(shell: GradingShell, job: Job, send, snapshot: "integrity.Snapshot") -> None:
    """Run the job's cells in order, sending `{"start": index}` before and one
    CellRecord (as data) after each; stop after a cell that tampered.

    `trusted` cells hold instructor source restored from the gradebook; the names they
    bind to grader or torch objects must not be rebound by learner cells, and whatever a
    learner cell did to the grader's own data is undone before one runs.
    The functions this loop uses are bound to locals before any learner code runs,
    so replacing them in their modules cannot change a run already under way.
    """
    run_cell, changes, rebound, watched = shell.run_cell, snapshot.changes, integrity.rebound, integrity.watched_bindings
    recorder, now, limits = RECORDER, time.monotonic, job.limits
    sys.stdout, sys.stderr = _StreamWriter("stdout"), _StreamWriter("stderr")
    signal.signal(signal.SIGALRM, _raise_timeout(limits.cell_seconds))
    bindings: dict = {}
    grader_state = GraderState()
    grader_state.capture()
    restore, capture, edited = grader_state.restore, grader_state.capture, grader_state.edited
    for number, cell in enumerate(job.cells, start=1):
        send({"start": cell.index})
        if cell.trusted:
            restore()  # a learner cell's writes into the grader's caches never reach a test
        recorder.begin(number)
        started, failure = now(), None
        signal.setitimer(signal.ITIMER_REAL, limits.cell_seconds, 1.0)
        try:
            result = run_cell(cell.source, store_history=True)
            signal.setitimer(signal.ITIMER_REAL, 0)
            if not result.success:
                failure = result.error_before_exec or result.error_in_exec
                if not any(o["output_type"] == "error" for o in recorder.outputs):
                    recorder.error(type(failure).__name__, str(failure), [repr(failure)])
        except BaseException as raised:  # a timeout landing inside IPython's own code
            signal.setitimer(signal.ITIMER_REAL, 0)
            failure = raised
            recorder.error(type(raised).__name__, str(raised), [repr(raised)])
        seconds = now() - started
        _close_figures()
        tampering = changes() + ([] if cell.trusted else rebound(shell.user_ns, bindings) + edited())
        if cell.trusted:
            bindings = watched(shell.user_ns)
            capture()
        record = CellRecord(cell.index, recorder.outputs, number, round(seconds, 3),
                            stop=_stopped_by(failure, limits), tampering=tampering)
        send({"cell": record.to_dict()})
        if tampering:
            break


def _stopped_by(failure, limits) -> Stop | None:
    """A cell stopped by its time limit or by the memory limit (not by its own error)."""
    if isinstance(failure, CellTimeoutError):
        return Stop(StopKind.TIMEOUT, f"did not finish within its time limit ({limits.cell_seconds:g} s)")
    if isinstance(failure, MemoryError) or any(word in str(failure) for word in MEMORY_WORDS):
        return Stop(StopKind.MEMORY, "ran out of memory: it used more than the memory limit "
                                     f"({limits.memory_bytes / 1024 ** 2:g} MiB)")
    return None


def _raise_timeout(limit: float):
    def handler(signum, frame):
        raise CellTimeoutError(f"cell time limit exceeded ({limit:g} s)")
    return handler


def _close_figures() -> None:
    """A kernel's inline backend closes figures after each cell; do the same (without
    rendering them) so plots never pile up into memory warnings."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        try:
            pyplot.close("all")
        except Exception:
            pass
