"""One job in the warm worker: fork the process that runs it, watch its time, resume it.

The forked process (child.py) reports each cell as it starts and as it ends, as JSON
over a one-way `multiprocessing` pipe: never pickles, since learner code runs in that
process and could write to the pipe. The worker kills its whole process group when
a cell ignores the alarm that ends it or the notebook runs past its total limit; the
cells already finished keep their records.

When the process dies in cell k (a crash, a kill, an exit, a time limit), the run is
resumed in a fresh fork: the learner's cells before k run again (they build the state
later cells need), cell k and the test cells already scored are skipped, so a crash in
one exercise does not cost the marks of the next. At most MAX_RESUMES times.
"""
import base64
import json
import os
import signal
import time
from multiprocessing import Pipe

from autograder.record.run import CellRecord, Job, Run, Stop, StopKind

SANDBOX_FAILED = "walls could not be set up"
SANDBOX_EXIT = 70
MAX_RESUMES = 3
MESSAGE_BYTES = 256 * 1024 ** 2  # a larger message from the child is garbage: it is killed


def grace_seconds(cell_seconds: float) -> float:
    """How long after a cell's own alarm the worker waits before killing the process."""
    return max(2.0, min(5.0, cell_seconds))


def run_job(job: Job, shell, snapshot, protocol_fd: int) -> Run:
    """The job's Run, resumed after every cell that stopped its process (see above)."""
    run = _attempt(job, shell, snapshot, protocol_fd)
    while len(run.crashes) < MAX_RESUMES and run.stop is not None and run.stop.cell is not None \
            and run.stop.kind is not StopKind.TAMPERING:
        crashed_at = run.stop.cell
        skipped = {crashed_at} | {stop.cell for stop in run.crashes} | \
                  {cell.index for cell in job.cells if cell.grade and cell.index in run.cells}
        rest = job.without(skipped)
        if not any(cell.index > crashed_at for cell in rest.cells):
            break
        later = _attempt(rest, shell, snapshot, protocol_fd)
        run = Run(cells=run.cells | {index: record for index, record in later.cells.items() if index > crashed_at},
                  stop=later.stop, crashes=run.crashes + [run.stop], walls=run.walls or later.walls,
                  seconds=run.seconds + later.seconds, files=run.files | later.files)
    return run


def _attempt(job: Job, shell, snapshot, protocol_fd: int) -> Run:
    """Fork a process for `job` and collect what it reports under the time limits."""
    from autograder.grade.kernel import child

    reader, writer = Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # the child: never returns
        reader.close()
        try:
            child.run_submission(job, writer, shell, snapshot, protocol_fd)
        finally:
            os._exit(0)
    writer.close()
    try:
        return _collect(job, pid, reader)
    finally:
        reader.close()


def _collect(job: Job, pid: int, reader) -> Run:
    limits = job.limits
    run, started_at = Run(), time.monotonic()
    notebook_deadline, cell_deadline = started_at + limits.notebook_seconds, None
    running, done, killed = None, False, None
    while not done:
        deadline = min(notebook_deadline, cell_deadline or notebook_deadline)
        wait = deadline - time.monotonic()
        if wait <= 0:
            killed = "cell" if cell_deadline and cell_deadline < notebook_deadline else "notebook"
            break
        if not reader.poll(wait):
            continue
        try:
            message = json.loads(reader.recv_bytes(MESSAGE_BYTES))
        except EOFError:
            break
        except OSError:  # a message past any size the grader sends: the stream is not the child's
            killed = "silent"
            break
        except ValueError:
            continue
        if not isinstance(message, dict):
            continue
        if "walls" in message:
            run.walls = str(message["walls"])
        elif "start" in message:
            running = message["start"]
            cell_deadline = time.monotonic() + limits.cell_seconds + grace_seconds(limits.cell_seconds)
        elif "cell" in message:
            record = CellRecord.from_dict(message["cell"])
            run.cells[record.index] = record
            running, cell_deadline = None, None
        elif "files" in message:
            run.files = {str(name): base64.b64decode(data) for name, data in message["files"].items()}
        elif message.get("done"):
            done = True
    status = None if killed else _wait_briefly(pid)
    if status is None:  # still running: past a limit, or it closed its end of the pipe
        killed = killed or "silent"
        _kill_group(pid)
        _, status = os.waitpid(pid, 0)
    run.seconds = round(time.monotonic() - started_at, 3)
    tampered = run.tampered_at
    if tampered is not None:
        run.stop = Stop(StopKind.TAMPERING, "; ".join(run.cells[tampered].tampering), tampered)
    elif not done:
        run.stop = why_stopped(killed, status, job.limits, run.walls, running)
        if run.walls.startswith(SANDBOX_FAILED):
            run.stop = Stop(StopKind.GRADER, f"the grader could not isolate this notebook ({run.walls})")
    return run


def _wait_briefly(pid: int, seconds: float = 2.0):
    """The child's exit status if it ends within `seconds`, else None."""
    end = time.monotonic() + seconds
    while True:
        finished, status = os.waitpid(pid, os.WNOHANG)
        if finished:
            return status
        if time.monotonic() > end:
            return None
        time.sleep(0.01)


def _kill_group(pid: int) -> None:
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            kill()
        except OSError:
            pass


# What a signal that ended the process means, in words.
FAULTS = {"SIGSEGV": "a segmentation fault", "SIGBUS": "a bus error", "SIGFPE": "an arithmetic fault",
          "SIGILL": "an illegal instruction", "SIGABRT": "an abort", "SIGSYS": "a bad system call"}


def why_stopped(killed: str | None, status: int, limits, walls: str = "", cell: int | None = None) -> Stop:
    """Why the process ended before its last cell (in cell `cell`, None: before any).

    The words continue a sentence whose subject is the cell ("the cell defining `train`
    ..."). The grader sends no signal but its time-limit SIGKILL, and the memory limit
    shows as MemoryError, never as a signal. Inside a pid namespace (`walls`) the
    notebook cannot signal the process that runs its cells, so a kill came from outside it."""
    if killed == "cell":
        return Stop(StopKind.TIMEOUT, f"did not stop within its time limit ({limits.cell_seconds:g} s, "
                                      "ignoring the alarm that ends a cell) and was killed", cell)
    if killed == "silent":
        return Stop(StopKind.SILENT, "stopped reporting to the grader (it closed the grader's pipe) "
                                     "and was killed by the grader", cell)
    if killed == "notebook":
        return Stop(StopKind.NOTEBOOK_TIMEOUT,
                    f"was running when the notebook's time limit ({limits.notebook_seconds:g} s) ran out", cell)
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        if number == signal.SIGXCPU:
            return Stop(StopKind.CPU_LIMIT, f"used up the notebook's CPU time ({int(limits.notebook_seconds) + 5} s)",
                        cell, name)
        if name in FAULTS:
            return Stop(StopKind.CRASH, f"crashed the kernel with {FAULTS[name]} ({name})", cell, name)
        if walls.startswith("namespaces"):
            return Stop(StopKind.KILLED, f"was killed by {name} from outside the notebook, which cannot signal the "
                                         "process running its cells: not by the grader, nor by the memory limit "
                                         "(which raises MemoryError); another process or the machine's "
                                         "out-of-memory killer sent it", cell, name)
        return Stop(StopKind.KILLED, f"was killed by {name}, a signal the grader did not send: the notebook's own "
                                     "code killed its process or its process group, or another process did (this "
                                     "is not the memory limit, which raises MemoryError)", cell, name)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return Stop(StopKind.EXIT, f"ended the grading process itself (exit code {code}, e.g. `os._exit`)", cell)
