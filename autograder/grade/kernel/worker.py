"""A warm grading worker: `python -m autograder.grade.kernel.worker FD [FD...]`, started by
the local back-end (grade/backends/local.py).

Why a long-lived worker that forks: nbgrader pays, per submission, a kernel start
and `import torch` (2-3 s on a 2-core machine). This process pays them once. For
each submission it forks a child, which inherits torch, the IPython shell and the
integrity snapshot already in memory, walls itself in and runs the cells
(supervise.py, child.py). The worker itself never runs learner code and never reads
the course: the parent sends it only the cells and files to run.

Protocol: each FD is one end of a `multiprocessing.Pipe` (a socket pair); objects go
both ways with `Connection.send` / `recv`. The worker warms up at once, then reads one
set-up message from the first connection ({"cover", "keep", "clones"}), says
{"ready", "walls"}, and answers each `record.run.Job` with a `record.run.Run`. Once
warm it forks `clones` copies of itself, each serving one of the next connections
exactly as the worker serves the first, so a pool of N workers pays the warm-up
(4 s of CPU) once; connections not wanted are closed.
"""
import os
import sys
import traceback
from multiprocessing.connection import Connection

from autograder.record.run import Run

# Only what a notebook itself imports, so the warm worker looks like a fresh kernel.
PRELOADED = ["numpy", "torch", "torch.nn", "torch.optim", "torch.utils.data", "torch._dynamo", "matplotlib",
             "matplotlib.pyplot", "ipywidgets", "ipykernel.zmqshell", "tqdm.auto",
             "course_helpers", "autograder", "autograder.expect"]


def main(argv: list[str]) -> int:
    os.dup2(2, 1)  # anything an import prints goes to stderr
    connections = [Connection(int(fd)) for fd in argv]
    shell, snapshot = warm_up()  # first: the parent is still reading the course meanwhile
    parent, spare = connections[0], connections[1:]
    try:
        setup = parent.recv()
    except (EOFError, OSError):  # the parent needed no worker after all
        os._exit(0)
    wanted = spare[:setup["clones"]]
    for unused in spare[setup["clones"]:]:
        unused.close()
    walls = _hide_course(setup["cover"], setup["keep"])  # before any learner code: each fork inherits it
    os.chdir("/")
    for mine in wanted:
        if _fork_detached() == 0:  # a clone: it serves its own connection, then ends
            for other in [parent] + wanted:
                if other is not mine:
                    other.close()
            serve(mine, shell, snapshot, walls)
            os._exit(0)
    for clone in wanted:
        clone.close()
    serve(parent, shell, snapshot, walls)
    return 0


def serve(connection: Connection, shell, snapshot, walls: str) -> None:
    """Say "ready", then answer each Job with a Run until the parent closes the connection."""
    from autograder.grade.kernel import supervise

    connection.send({"ready": True, "walls": walls})
    while True:
        try:
            job = connection.recv()
        except (EOFError, OSError):
            return
        try:
            run = supervise.run_job(job, shell, snapshot, connection.fileno())
        except Exception:
            run = Run.failed("the grading worker failed: " + traceback.format_exc(limit=3))
        connection.send(run)


def _fork_detached() -> int:
    """fork() whose child is adopted by init at once, so nobody has to reap it: 0 in the child."""
    middle = os.fork()
    if middle == 0:
        if os.fork() != 0:
            os._exit(0)
        return 0
    os.waitpid(middle, 0)
    return middle


def _hide_course(cover: list[str], keep: list[str]) -> str:
    from autograder.grade.kernel import sandbox
    try:
        sandbox.hide_paths(cover, keep)
        return "course folder hidden"
    except OSError as error:
        return f"course folder NOT hidden ({error})"


def warm_up():
    """Build the shell, import what every submission needs, take the snapshot.

    The shell comes first, and ipykernel's shell module is loaded: libraries decide at
    import time whether they run in a Jupyter kernel (tqdm.auto then draws a widget
    instead of writing to stderr, which nbgrader would score 0), as under nbgrader."""
    import importlib

    from autograder.grade.kernel import executor, integrity
    shell = executor.make_shell()
    for name in PRELOADED:
        try:
            importlib.import_module(name)
        except Exception:
            pass
    # Both packages load their public names on first use: load them all now, before the
    # snapshot, so every grader module is watched for tampering and its data put back
    # before each test cell.
    for package in [sys.modules.get("autograder"), sys.modules.get("course_helpers")]:
        for name in getattr(package, "__all__", []):
            try:
                getattr(package, name)
            except Exception:
                pass
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)  # several submissions share the cores
        _build_common_optimizers(torch)
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:  # its first figure hooks pyplot into the shell: do it before the snapshot
        pyplot.close(pyplot.figure())
    snapshot = integrity.Snapshot()
    snapshot.watch_instance(shell, "get_ipython()")
    snapshot.watch_instance(executor.RECORDER, "the grader's output recorder")
    snapshot.watch_shell_hooks(shell)
    snapshot.watch_torch_hooks()
    snapshot.watch_torch_setters()
    return shell, snapshot


def _build_common_optimizers(torch) -> None:
    """torch replaces `Optimizer.step` on a class the first time one is built; doing it
    now, before the integrity snapshot, keeps that from looking like tampering."""
    parameter = torch.nn.Parameter(torch.zeros(1))
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad"):
        try:
            getattr(torch.optim, name)([parameter], lr=0.1)
        except Exception:
            pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
