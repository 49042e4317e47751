"""Grading on a Dask cluster: a real `dask scheduler` and `dask worker` processes on 127.0.0.1.

The same small class is graded by the local pool and through the cluster; the
gradebooks and the summaries must agree. One worker is killed mid-batch and no grade
may be lost or counted twice; an unreachable scheduler is a one-line error before
anything is written; a worker without the course package is named and given nothing;
a worker that joins later is warmed up by the course's worker plugin as it joins.
"""
import contextlib
import io
import os
import time
import signal
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

distributed = pytest.importorskip("distributed")

from autograder.grade.app import grade_app, session  # noqa: E402
from autograder.grade.backends import dask as cluster  # noqa: E402
from autograder.record.run import Job, Limits  # noqa: E402
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
    done = fake.grade(root, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    return fake.gradebook_scores(root, STUDENTS), summary_rows(done.stdout)


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
    done = fake.grade(root, "--scheduler", dask_cluster.address)
    assert done.returncode == 0, done.stderr
    scores, rows = local_grades
    assert fake.gradebook_scores(root, STUDENTS) == scores
    assert summary_rows(done.stdout) == rows
    assert f"on the Dask cluster at {dask_cluster.address}" in done.stdout
    assert "worker-bare" not in done.stdout
    bare = [line for line in done.stderr.splitlines() if "without the course package" in line]
    assert bare and "ModuleNotFoundError" in bare[0], done.stderr
    assert dask_cluster.processes["worker-bare"].poll() is None  # never handed a job it cannot load
    for student in STUDENTS:  # feedback written here, by this process
        assert (root / "feedback" / student / fake.ASSIGNMENT / f"{fake.ASSIGNMENT}.html").is_file()


def test_the_worker_without_the_package_is_named(dask_cluster):
    with distributed.Client(dask_cluster.address, timeout=30) as client:
        lacking = cluster.workers_without_package(client)
        names = {address: info["name"] for address, info in client.scheduler_info()["workers"].items()}
    assert [names[address] for address in lacking] == ["worker-bare"]
    assert "No module named 'autograder" in next(iter(lacking.values()))


def test_a_worker_killed_mid_batch_loses_no_grade(dask_cluster, local_grades, tmp_path, monkeypatch):
    root = slow_class(tmp_path / "course")
    seen, graded = [], session.GradingSession.graded

    def kill_after_the_first(self, outcome):
        seen.append(outcome)
        if len(seen) == 1:
            dask_cluster.kill("worker-b")
        graded(self, outcome)

    monkeypatch.setattr(session.GradingSession, "graded", kill_after_the_first)
    monkeypatch.chdir(root)
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        assert grade_app.main([fake.ASSIGNMENT, "--scheduler", dask_cluster.address, "--log-level=WARN"]) == 0
    assert dask_cluster.processes["worker-b"].poll() is not None  # it really died
    assert sorted(outcome.student for outcome in seen) == sorted(STUDENTS)  # every notebook scored exactly once
    reasons = {o.student: [cell.reason for cell in o.cells] for o in seen}
    assert not any("Dask cluster could not grade" in reason for cells in reasons.values() for reason in cells), reasons
    assert fake.gradebook_scores(root, STUDENTS) == local_grades[0], reasons


def test_a_worker_that_joins_later_is_warmed_up_as_it_joins(dask_cluster):
    """The course's WorkerPlugin (registered at connect) runs on workers that join afterwards."""
    client = cluster.connect(dask_cluster.address)
    try:
        before = set(client.scheduler_info(n_workers=-1)["workers"])
        dask_cluster.start("worker-late", [str(BIN / "dask"), "worker", dask_cluster.address]
                           + dask_cluster.worker_command("worker-late"))
        client.wait_for_workers(len(before) + 1, timeout=120)
        (late,) = set(client.scheduler_info(n_workers=-1)["workers"]) - before
        deadline = time.monotonic() + 60
        while not client.run(_warming_or_warm, workers=[late])[late] and time.monotonic() < deadline:
            time.sleep(0.5)
        assert client.run(_warming_or_warm, workers=[late])[late]
    finally:
        client.close()
        dask_cluster.kill("worker-late")


def _warming_or_warm() -> bool:
    """Runs on the Dask worker (this module is not importable there: it travels by value)."""
    from autograder.grade.backends import local
    return bool(local._LAUNCHED or any(local._IDLE.values()))


_warming_or_warm.__module__ = "__main__"  # cloudpickle sends a function of __main__ by value


def test_a_task_that_fails_is_resubmitted_by_dask(monkeypatch):
    """Resubmission is Dask's own (`retries=`), not a loop of ours."""
    asked = {}

    class Client:
        def scheduler_info(self, n_workers=-1):
            return {"workers": {"tcp://a": {"nthreads": 1}}}

        def submit(self, function, *args, **kwargs):
            asked.update(kwargs)
            raise RuntimeError("stop here")

    monkeypatch.setattr(cluster, "workers_without_package", lambda client: {})
    runner = cluster.DaskRunner(Client(), [])
    with pytest.raises(RuntimeError):
        runner.submit(0, Job((), {}, Limits(1, 1, 1, 1)))
    assert asked["retries"] == cluster.RETRIES >= 1 and asked["workers"] == ["tcp://a"]


def test_an_unreachable_scheduler_is_one_line_and_writes_nothing(tmp_path):
    root = tmp_path / "course"
    fake.make_course(root)
    fake.submit_class(root, ["alice"])
    before = (root / "gradebook.db").read_bytes()
    address = f"tcp://127.0.0.1:{free_port()}"
    done = fake.grade(root, "--scheduler", address)
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"Could not reach the Dask scheduler at {address}" in lines[0], lines
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
        job = Job((), {}, Limits(1, 1, 1, 1))
        future = client.submit(pickle.loads, cloudpickle.dumps(cluster._Call(job, [])), workers=[bare], pure=False)
        result = future.result(timeout=60)
    assert result["missing_package"] == bare and "No module named 'autograder" in result["error"]
    assert dask_cluster.processes["worker-bare"].poll() is None
