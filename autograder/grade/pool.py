"""Step 3: run jobs on N warm workers at once (the parent side of worker.py).

One thread per worker feeds it jobs from a shared queue and puts answers on a
results queue; the main thread alone touches the gradebook. A worker that dies
(its own bug, the machine) is restarted and the job tried once more; a job that
fails twice still gets an answer, so the batch always completes.
"""
import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import autograder


# The only environment variables a submission inherits: nothing of the grader's own.
PASSED_ON = {"PATH", "HOME", "COURSE_PACKAGE", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "VIRTUAL_ENV", "CONDA_PREFIX", "AUTOGRADER_DEBUG",
             "AUTOGRADER_NO_NAMESPACES"}


class Worker:
    def __init__(self, cover: list[str], keep: list[str]):
        env = {name: value for name, value in os.environ.items() if name in PASSED_ON}
        env.update(MPLBACKEND="Agg", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   PYTHONPATH=os.pathsep.join([str(Path(autograder.__file__).resolve().parent.parent)]
                                              + [p for p in [os.environ.get("PYTHONPATH")] if p]),
                   PYTHONDONTWRITEBYTECODE="1")
        debug = os.environ.get("AUTOGRADER_DEBUG")
        self.process = subprocess.Popen(
            [os.path.abspath(sys.executable), "-m", "autograder.grade.worker"], cwd="/", env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None if debug else subprocess.DEVNULL)
        self._send({"cover": cover, "keep": keep})
        ready = self._receive()
        if not ready or not ready.get("ready"):
            raise RuntimeError("a grading worker failed to start")
        self.walls = ready.get("walls", "")

    def run(self, job: dict) -> dict | None:
        """The worker's answer, or None if the worker itself died."""
        try:
            self._send(job)
            return self._receive()
        except (BrokenPipeError, OSError, ValueError):
            return None

    def _send(self, message: dict) -> None:
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def _receive(self) -> dict | None:
        line = self.process.stdout.readline()
        return json.loads(line) if line else None

    def close(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=5)
        except Exception:
            self.process.kill()


def code_folders() -> list[str]:
    """What a submission may still see inside the course folder: the Python
    environment and the course's own code (public), nothing else."""
    import importlib.util
    keep = [sys.prefix, os.path.realpath(sys.prefix)]
    for name in ("autograder", "course_helpers", "course_helpers.data"):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec and spec.submodule_search_locations:
            keep += [os.path.realpath(p) for p in spec.submodule_search_locations]
            # course_helpers.datasets reads the shipped data sets from the checkout's data/
            # folder (next to the package) when it is not installed as a wheel
            keep += [os.path.realpath(os.path.join(p, os.pardir, "data")) for p in spec.submodule_search_locations
                     if name == "course_helpers" and os.path.isdir(os.path.join(p, os.pardir, "data"))]
    return sorted(set(keep))


class Pool:
    def __init__(self, size: int, cover: list[str]):
        self.size, self.cover, self.keep = size, cover, code_folders()
        self.jobs: queue.Queue = queue.Queue()
        self.results: queue.Queue = queue.Queue()
        self.walls = ""
        self.threads = [threading.Thread(target=self._serve, daemon=True) for _ in range(size)]
        for thread in self.threads:
            thread.start()

    def submit(self, key, job: dict) -> None:
        self.jobs.put((key, job))

    def close(self) -> None:
        for _ in self.threads:
            self.jobs.put(None)

    def _serve(self) -> None:
        worker = None
        while True:
            task = self.jobs.get()
            if task is None:
                break
            key, job = task
            answer = None
            for _attempt in range(2):
                if worker is None:
                    try:
                        worker = Worker(self.cover, self.keep)
                        self.walls = worker.walls
                    except Exception as error:  # cannot start: answer anyway
                        answer = _failed(f"the grading worker could not start ({error})")
                        break
                answer = worker.run(job)
                if answer is not None:
                    break
                worker.close()
                worker = None
            self.results.put((key, answer or _failed("the grading worker died twice on this notebook")))
        if worker is not None:
            worker.close()


def _failed(reason: str) -> dict:
    return {"cells": {}, "stopped": {"cell": None, "reason": reason}, "walls": "", "seconds": 0.0}
