"""Grading on a Dask cluster: a real `dask scheduler` and `dask worker` processes on 127.0.0.1.

The same small class is graded by the local pool and through the cluster; the
gradebooks and the summaries must agree. One worker is killed mid-batch and no grade
may be lost or counted twice; an unreachable scheduler is a one-line error before
anything is written; a worker without the course package is named and given nothing.
"""
import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

distributed = pytest.importorskip("distributed")

from autograder.grade import cli, cluster  # noqa: E402
from autograder.grade.course import Course  # noqa: E402
from autograder.grade.pipeline import grade_assignment  # noqa: E402
from grading_fixtures import fake_class as fake  # noqa: E402

pytestmark = pytest.mark.slow

STUDENTS = ["alice", "bob", "carol", "dave", "erin", "heidi"]  # correct, bugs, a stub, a crash
BIN = Path(sys.executable).parent
# A `dask worker` that cannot import the course package: it blocks `autograder` imports.
WITHOUT_PACKAGE = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "autograder" or name.startswith("autograder."):
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, Block())
from distributed.cli.dask_worker import main
sys.argv = ["dask worker"] + sys.argv[1:]
main()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """A scheduler and workers started as separate processes, each in its own session."""

    def __init__(self, folder: Path):
        self.folder, self.processes = folder, {}
        self.address = f"tcp://127.0.0.1:{free_port()}"

    def start(self, name: str, command: list[str]) -> None:
        log = open(self.folder / f"{name}.log", "w")
        self.processes[name] = subprocess.Popen(command, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True)

    def worker_command(self, name: str) -> list[str]:
        return ["--name", name, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1",
                "--local-directory", str(self.folder / name)]

    def kill(self, name: str) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait(timeout=30)

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            self.kill(name)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask")
    ours = Cluster(folder)
    port = ours.address.rsplit(":", 1)[1]
    try:
        ours.start("scheduler", [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", port,
                                 "--no-dashboard"])
        for name in ("worker-a", "worker-b"):
            ours.start(name, [str(BIN / "dask"), "worker", ours.address] + ours.worker_command(name))
        ours.start("worker-bare", [sys.executable, "-c", WITHOUT_PACKAGE, ours.address]
                   + ours.worker_command("worker-bare"))
        with distributed.Client(ours.address, timeout=60) as client:
            client.wait_for_workers(3, timeout=120)
        yield ours
    finally:
        ours.stop()


def slow_class(root: Path) -> Path:
    """The fake course with a few students whose notebooks each take a second or two,
    so that a worker killed mid-batch is holding work."""
    fake.make_course(root, cell_seconds=30)
    fake.submit_class(root, STUDENTS)
    for student in STUDENTS:
        path = root / "submitted" / student / fake.ASSIGNMENT / f"{fake.ASSIGNMENT}.ipynb"
        nb = nbformat.read(str(path), as_version=4)
        nb.cells.insert(0, nbformat.v4.new_code_cell("import time\ntime.sleep(1.5)"))
        nbformat.write(nb, str(path))
    return root


@pytest.fixture(scope="module")
def local_grades(tmp_path_factory):
    """The class graded by the local pool: (gradebook scores, summary rows)."""
    root = slow_class(tmp_path_factory.mktemp("local"))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert cli.main([fake.ASSIGNMENT, "--root", str(root), "--jobs", "2", "--quiet"]) == 0
    return fake.gradebook_scores(root, STUDENTS), summary_rows(printed.getvalue())


def summary_rows(printed: str) -> dict[str, tuple[str, str]]:
    """student -> (score, reasons), the seconds column left out."""
    rows = {}
    for line in printed.splitlines():
        parts = line.split(None, 3)
        if parts and parts[0] in STUDENTS:
            rows[parts[0]] = (parts[1], parts[3] if len(parts) > 3 else "")
    return rows


def test_a_class_graded_on_the_cluster_equals_the_local_pool(dask_cluster, local_grades, tmp_path):
    root = slow_class(tmp_path / "course")
    printed, errors = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors):
        code = cli.main([fake.ASSIGNMENT, "--root", str(root), "--scheduler", dask_cluster.address, "--quiet"])
    assert code == 0, errors.getvalue()
    scores, rows = local_grades
    assert fake.gradebook_scores(root, STUDENTS) == scores
    assert summary_rows(printed.getvalue()) == rows
    assert f"on the Dask cluster at {dask_cluster.address}" in printed.getvalue()
    assert "worker-bare" not in printed.getvalue()
    bare = [line for line in errors.getvalue().splitlines() if "without the course package" in line]
    assert bare and "ModuleNotFoundError" in bare[0], errors.getvalue()
    assert dask_cluster.processes["worker-bare"].poll() is None  # never handed a job it cannot load
    for student in STUDENTS:  # feedback written here, by this process
        assert (root / "feedback" / student / fake.ASSIGNMENT / f"{fake.ASSIGNMENT}.html").is_file()


def test_the_worker_without_the_package_is_named(dask_cluster):
    with distributed.Client(dask_cluster.address, timeout=30) as client:
        lacking = cluster.workers_without_package(client)
        names = {address: info["name"] for address, info in client.scheduler_info()["workers"].items()}
    assert [names[address] for address in lacking] == ["worker-bare"]
    assert "No module named 'autograder" in next(iter(lacking.values()))


def test_a_worker_killed_mid_batch_loses_no_grade(dask_cluster, local_grades, tmp_path):
    root = slow_class(tmp_path / "course")
    course = Course.load(root)
    client = cluster.connect(dask_cluster.address)
    seen = []

    def progress(outcome):
        seen.append(outcome.student)
        if len(seen) == 1:
            dask_cluster.kill("worker-b")
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            batch = grade_assignment(course, fake.ASSIGNMENT, students=None, progress=progress,
                                     open_runner=cluster.DaskRunner.opener(client))
    finally:
        client.close()
    assert dask_cluster.processes["worker-b"].poll() is not None  # it really died
    assert sorted(seen) == sorted(STUDENTS)  # every notebook scored exactly once
    reasons = {o.student: [cell.reason for cell in o.cells] for o in batch.outcomes}
    assert not any("Dask cluster could not grade" in reason for cells in reasons.values() for reason in cells), reasons
    assert fake.gradebook_scores(root, STUDENTS) == local_grades[0], reasons


def test_an_unreachable_scheduler_is_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys):
    root = tmp_path / "course"
    fake.make_course(root)
    fake.submit_class(root, ["alice"])
    before = (root / "gradebook.db").read_bytes()
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 2)
    address = f"tcp://127.0.0.1:{free_port()}"
    assert cli.main([fake.ASSIGNMENT, "--root", str(root), "--scheduler", address, "--quiet"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Could not reach the Dask scheduler at {address}"), lines
    assert (root / "gradebook.db").read_bytes() == before
    assert not (root / "autograded").exists() and not (root / "feedback").exists()


def test_without_dask_installed_the_message_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(cluster.ClusterError, match=r"pip install 'training-loop-course\[cluster\]'"):
        cluster.connect("tcp://127.0.0.1:1")


def test_a_job_landing_on_a_worker_without_the_package_comes_back_named(dask_cluster):
    """The task is only the standard library's pickle.loads: the bare worker loads it,
    and the job says which worker lacks what (the runner then sends it elsewhere)."""
    import pickle

    import cloudpickle
    cloudpickle.register_pickle_by_value(cluster)
    with distributed.Client(dask_cluster.address, timeout=30) as client:
        bare = next(address for address, info in client.scheduler_info()["workers"].items()
                    if info["name"] == "worker-bare")
        job = {"id": 0, "cells": [], "files": {}, "limits": {}}
        future = client.submit(pickle.loads, cloudpickle.dumps(cluster._Call(job, [])), workers=[bare], pure=False)
        result = future.result(timeout=60)
    assert result["missing_package"] == bare and "No module named 'autograder" in result["error"]
    assert dask_cluster.processes["worker-bare"].poll() is None
