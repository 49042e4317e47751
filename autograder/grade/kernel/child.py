"""Inside the fork that runs one submission: walls first, then the working folder, then the cells.

Nothing of the worker's own channels stays open here: the learner's code can reach
only the one-way pipe it reports on, whose messages the worker reads as JSON.
"""
import base64
import json
import os
import tempfile

from autograder.grade.kernel import executor, sandbox, work_folder
from autograder.grade.kernel.supervise import SANDBOX_EXIT, SANDBOX_FAILED
from autograder.record.run import Job


def run_submission(job: Job, channel, shell, snapshot, protocol_fd: int) -> None:
    os.setsid()
    os.close(protocol_fd)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)

    def send(message: dict) -> None:
        channel.send_bytes(json.dumps(message, default=_as_text).encode())

    limits = job.limits
    try:
        walls = sandbox.enter_private_world(limits.memory_bytes, int(limits.notebook_seconds) + 5,
                                            limits.tmp_bytes)
    except Exception as error:  # never run learner code outside its walls
        send({"walls": f"{SANDBOX_FAILED}: {type(error).__name__}: {error}"})
        os._exit(SANDBOX_EXIT)
    try:  # a group of its own: a learner's killpg() can then reach only itself and what it started
        os.setpgid(0, 0)  # (inside a pid namespace the cell runner is pid 1, which ignores them)
    except OSError:  # already a group leader (no pid namespace: setsid() above made it one)
        pass
    send({"walls": walls})
    home = tempfile.mkdtemp(prefix="home-")  # outside the working folder: it is not handed back
    os.environ.update({"HOME": home, "MPLCONFIGDIR": os.path.join(home, ".matplotlib"),
                       "NBGRADER_EXECUTION": "autograde"})
    work_folder.write_files(job.files)
    executor.run_cells(shell, job, send, snapshot)
    written = work_folder.written_files(job.files)
    send({"files": {name: base64.b64encode(data).decode() for name, data in written.items()}})
    send({"done": True})


def _as_text(value):
    """What JSON cannot hold as it is: bytes (an image a formatter returned raw) as base64."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    return str(value)
