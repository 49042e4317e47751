"""A warm grading worker: `python -m autograder.grade.worker`, driven by pool.py.

Why a long-lived worker that forks: nbgrader pays, per submission, a kernel start
and `import torch` (2-3 s on a 2-core machine). This process pays them once. For
each submission it forks a child, which inherits torch, the IPython shell and the
integrity snapshot already in memory, walls itself in (sandbox.py) and runs the
cells (executor.py). The worker itself never runs learner code and never reads
the course: the parent sends it only the notebook cells and files to run.

Protocol, JSON lines: the worker warms up at once; stdin then gets one set-up line
{"cover", "keep", "clones", "unused"} and one job per line; stdout answers "ready",
then one result per job. `clones` lists pairs of inherited pipe ends (jobs in, results
out): once warm, the worker forks one copy of itself per pair, which serves that pair
exactly as the worker serves stdin/stdout, so a pool of N workers pays the warm-up
(4 s of CPU) once. The worker
supervises the child's time: a cell that ignores its SIGALRM, or a notebook past
its total limit, has its whole process group killed, and the cells already
finished keep their results.
"""
import base64
import json
import os
import select
import signal
import sys
import time
import traceback

SANDBOX_FAILED = "walls could not be set up"
SANDBOX_EXIT = 70


def grace_seconds(cell_seconds: float) -> float:
    """How long after a cell's own alarm the worker waits before killing the process."""
    return max(2.0, min(5.0, cell_seconds))


def main() -> int:
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything an import prints must not corrupt the protocol
    shell, snapshot = _warm_up()  # first: the parent is still reading the course meanwhile
    line = sys.stdin.readline()
    if not line:  # the parent needed no worker after all
        os._exit(0)
    setup = json.loads(line)
    for fd in [fd for pair in setup.get("unused", []) for fd in pair]:
        os.close(fd)
    walls = _hide_course(setup["cover"], setup["keep"])  # before any learner code: each fork inherits it
    os.chdir("/")
    channels = [tuple(pair) for pair in setup.get("clones", [])]
    for jobs_fd, results_fd in channels:
        if _fork_detached() == 0:  # a clone: it serves its own pipes, then ends
            for fd in [fd for pair in channels for fd in pair if fd not in (jobs_fd, results_fd)]:
                os.close(fd)
            protocol.close()
            os.dup2(jobs_fd, 0)  # on fd 0, as a worker's jobs are: each submission's fork covers it
            os.close(jobs_fd)
            serve(os.fdopen(0, "r"), os.fdopen(results_fd, "w", buffering=1),
                  shell, snapshot, walls)
            os._exit(0)
    for fd in [fd for pair in channels for fd in pair]:
        os.close(fd)
    serve(sys.stdin, protocol, shell, snapshot, walls)
    return 0


def _fork_detached() -> int:
    """fork() whose child is adopted by init at once, so nobody has to reap it: 0 in the child."""
    middle = os.fork()
    if middle == 0:
        if os.fork() != 0:
            os._exit(0)
        return 0
    os.waitpid(middle, 0)
    return middle


def serve(jobs, protocol, shell, snapshot, walls: str) -> None:
    """Say "ready", then answer each job line of `jobs` with one result line."""
    protocol.write(json.dumps({"ready": True, "walls": walls}) + "\n")
    for line in jobs:
        job = json.loads(line)
        try:
            result = supervise(job, shell, snapshot, protocol.fileno())
        except Exception:
            result = {"cells": {}, "stopped": {"cell": None, "kind": "grader", "reason": "the grading worker failed: "
                                                + traceback.format_exc(limit=3)}}
        result["id"] = job["id"]
        protocol.write(json.dumps(result) + "\n")


def _hide_course(cover: list[str], keep: list[str]) -> str:
    from autograder.grade import sandbox
    try:
        sandbox.hide_paths(cover, keep)
        return "course folder hidden"
    except OSError as error:
        return f"course folder NOT hidden ({error})"


def _warm_up():
    """Build the shell, import what every submission needs, take the snapshot.

    The shell comes first, and ipykernel's shell module is loaded: libraries decide at
    import time whether they run in a Jupyter kernel (tqdm.auto then draws a widget
    instead of writing to stderr, which nbgrader would score 0), as under nbgrader."""
    import importlib

    from autograder.grade import executor, integrity
    shell = executor.make_shell()
    # Only what a notebook itself imports, so the warm worker looks like a fresh kernel.
    for name in ["numpy", "torch", "torch.nn", "torch.optim", "torch.utils.data", "torch._dynamo", "matplotlib",
                 "matplotlib.pyplot", "ipywidgets", "ipykernel.zmqshell", "tqdm.auto",
                 "course_helpers", "autograder", "autograder.expect"]:
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


def supervise(job: dict, shell, snapshot, protocol_fd: int) -> dict:
    """Fork a child for one submission and collect its per-cell messages under time limits."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        try:
            _child(job, write_end, shell, snapshot, protocol_fd)
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        return _collect(job, pid, read_end)
    finally:
        os.close(read_end)


def _child(job, write_end, shell, snapshot, protocol_fd) -> None:
    from autograder.grade import executor, sandbox
    os.setsid()
    os.close(protocol_fd)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    limits = job["limits"]

    def send(text: str) -> None:
        data = (text + "\n").encode()
        while data:
            data = data[os.write(write_end, data):]

    try:
        walls = sandbox.enter_private_world(limits["memory_bytes"], int(limits["notebook_seconds"]) + 5,
                                            limits["tmp_bytes"])
    except Exception as error:  # never run learner code outside its walls
        send(json.dumps({"walls": f"{SANDBOX_FAILED}: {type(error).__name__}: {error}"}))
        os._exit(SANDBOX_EXIT)
    try:  # a group of its own: a learner's killpg() can then reach only itself and what it started
        os.setpgid(0, 0)  # (inside a pid namespace the cell runner is pid 1, which ignores them)
    except OSError:  # already a group leader (no pid namespace: setsid() above made it one)
        pass
    send(json.dumps({"walls": walls}))
    os.environ.update({"HOME": os.getcwd(), "MPLCONFIGDIR": os.path.join(os.getcwd(), ".matplotlib"),
                       "NBGRADER_EXECUTION": "autograde"})
    executor.write_files({name: base64.b64decode(data) for name, data in job["files"].items()})
    executor.run_cells(shell, job["cells"], limits["cell_seconds"], send, snapshot)


def _collect(job: dict, pid: int, read_end: int) -> dict:
    limits = job["limits"]
    started_at = time.monotonic()
    notebook_deadline = started_at + limits["notebook_seconds"]
    cell_deadline = None
    cells, running, done, walls, killed = {}, None, False, None, None
    buffer = b""
    while True:
        deadline = min(notebook_deadline, cell_deadline or notebook_deadline)
        wait = deadline - time.monotonic()
        if wait <= 0:
            killed = ("cell" if cell_deadline and cell_deadline < notebook_deadline else "notebook")
            break
        ready, _, _ = select.select([read_end], [], [], wait)
        if not ready:
            continue
        chunk = os.read(read_end, 1 << 16)
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "walls" in message:
                walls = message["walls"]
            elif "start" in message:
                running = message["start"]
                cell_deadline = time.monotonic() + limits["cell_seconds"] + grace_seconds(limits["cell_seconds"])
            elif "cell" in message:
                cells[str(message["cell"])] = message
                running, cell_deadline = None, None
            elif message.get("done"):
                done = True
        if done:
            break
    status = None if killed else _wait_briefly(pid)
    if status is None:  # still running: past a limit, or it closed its end of the pipe
        killed = killed or "silent"
        _kill_group(pid)
        _, status = os.waitpid(pid, 0)
    stopped = None
    if not done:
        stopped = {"cell": running, **why_stopped(killed, status, limits, walls or "")}
        if walls and walls.startswith(SANDBOX_FAILED):
            stopped = {"cell": None, "kind": "grader",
                       "reason": f"the grader could not isolate this notebook ({walls})"}
    return {"cells": cells, "stopped": stopped, "walls": walls,
            "seconds": round(time.monotonic() - started_at, 3)}


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


# What a signal that ended the process means, in words: (kind, words after "the cell ...").
FAULTS = {"SIGSEGV": "a segmentation fault", "SIGBUS": "a bus error", "SIGFPE": "an arithmetic fault",
          "SIGILL": "an illegal instruction", "SIGABRT": "an abort", "SIGSYS": "a bad system call"}


def why_stopped(killed, status: int, limits: dict, walls: str = "") -> dict:
    """Why the process ended before its last cell: {"kind", "reason", "signal"}.

    `reason` continues a sentence whose subject is the cell ("the cell defining `train`
    ..."). Kinds: crash (a fault signal), killed (any other signal: the grader sends
    none but its time-limit SIGKILL, and the memory limit shows as MemoryError, never as
    a signal), timeout, notebook-timeout, cpu-limit, exit. Inside a pid namespace
    (`walls`) the notebook cannot signal the process that runs its cells, so a kill came
    from outside it."""
    if killed == "cell":
        return {"kind": "timeout", "reason": f"did not stop within its time limit ({limits['cell_seconds']:g} s, "
                                             "ignoring the alarm that ends a cell) and was killed"}
    if killed == "silent":
        return {"kind": "killed", "reason": "stopped reporting to the grader (it closed the grader's pipe) "
                                            "and was killed by the grader"}
    if killed == "notebook":
        return {"kind": "notebook-timeout",
                "reason": f"was running when the notebook's time limit ({limits['notebook_seconds']:g} s) ran out"}
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        if number == signal.SIGXCPU:
            return {"kind": "cpu-limit", "signal": name,
                    "reason": f"used up the notebook's CPU time ({int(limits['notebook_seconds']) + 5} s)"}
        if name in FAULTS:
            return {"kind": "crash", "signal": name,
                    "reason": f"crashed the kernel with {FAULTS[name]} ({name})"}
        if walls.startswith("namespaces"):
            return {"kind": "killed", "signal": name,
                    "reason": f"was killed by {name} from outside the notebook, which cannot signal the process "
                              "running its cells: not by the grader, nor by the memory limit (which raises "
                              "MemoryError); another process or the machine's out-of-memory killer sent it"}
        return {"kind": "killed", "signal": name,
                "reason": f"was killed by {name}, a signal the grader did not send: the notebook's own code "
                          "killed its process or its process group, or another process did (this is not the "
                          "memory limit, which raises MemoryError)"}
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return {"kind": "exit", "reason": f"ended the grading process itself (exit code {code}, e.g. `os._exit`)"}


if __name__ == "__main__":
    sys.exit(main())
