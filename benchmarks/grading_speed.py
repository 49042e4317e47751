"""Grading speed: serial `nbgrader autograde`, `python -m autograder grade --jobs 2`, the Dask path.

Builds identical copies of a course in a temporary folder, each with the same class
of submissions of phase 4 (the real `source/04_training_loop` notebook: correct work,
missing `zero_grad`, losses logged as tensors, untouched stubs), grades one copy with
each command, checks that every test cell got the same score in every gradebook, and
prints:

- plain serial `nbgrader autograde` (nbgrader's own Execute step: a kernel per
  notebook) vs `python -m autograder grade --jobs J`, and plain `nbgrader autograde`
  with the course's isolated step (one warm worker, one notebook at a time);
- with `--dask`: the same class through a local Dask cluster (a `dask scheduler` and
  `dask worker --nworkers J --nthreads 1`, started and stopped here; their start-up is
  not timed) against the local pool with J jobs (target: within 15 %);
- with `--sizes 12,48,192`: time per submission of the local pool as the class grows
  (the cost of each extra submission must stay flat, within 15 %) and the grading
  command's own peak memory (the parent's, its workers' not counted).

The last line is the speed ratio against serial nbgrader.

    python benchmarks/grading_speed.py [--students 12] [--jobs 2] [--fake] [--dask] [--sizes 12,48,192]

`--fake` (or a phase-4 notebook that cannot be released) uses the test suite's
small course of the same shape instead.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import nbformat  # noqa: E402
from traitlets.config.loader import PyFileConfigLoader  # noqa: E402
from grading_fixtures import fake_class  # noqa: E402

ASSIGNMENT = "04_training_loop"
SOLUTION_BLOCK = re.compile(r"[ \t]*### BEGIN SOLUTION\n(.*?)[ \t]*### END SOLUTION\n?", re.S)
BIN = os.path.dirname(os.path.abspath(sys.executable))
ENV = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"])
# Runs `python -m autograder ARGS` and reports this process's own peak memory (not its workers').
WITH_PEAK = ("import resource, sys\nfrom autograder.__main__ import main\ncode = main(sys.argv[1:])\n"
             "print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
             "sys.exit(code)")


def run(command: list[str], cwd: Path, timeout: int = 3600) -> float:
    """Seconds `command` took; fails loudly with its output if it fails."""
    return run_reporting(command, cwd, timeout)[0]


def run_reporting(command: list[str], cwd: Path, timeout: int = 3600) -> tuple[float, str, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=ENV, text=True, capture_output=True, timeout=timeout)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds, done.stdout, done.stderr


def grade(course: Path, *options: str) -> tuple[float, int, float]:
    """(seconds, the grading command's own peak memory in MiB, seconds of the batch itself:
    the command's start-up, imports and connection left out)."""
    seconds, stdout, stderr = run_reporting([os.path.abspath(sys.executable), "-c", WITH_PEAK, "grade",
                                             ASSIGNMENT, "--quiet", *options], course)
    peak = re.search(r"PEAK_KB (\d+)", stderr)
    batch = re.search(r"Graded \d+ notebook\(s\) in ([\d.]+) s", stdout)
    return seconds, int(peak.group(1)) // 1024 if peak else -1, float(batch.group(1)) if batch else seconds


# Appended to a copy's nbgrader_config.py: nbgrader's own autograde steps (its Execute), not the course's.
NBGRADERS_OWN_STEPS = ("\nfrom nbgrader.converters import Autograde as _Autograde\n"
                       "c.Autograde.autograde_preprocessors = _Autograde.class_traits()['autograde_preprocessors'].default()\n")


def with_nbgraders_own_steps(course: Path) -> Path:
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(NBGRADERS_OWN_STEPS)
    return course


def phase4_course(folder: Path) -> Path:
    """A course holding the real phase-4 notebook, released with nbgrader."""
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", folder / "nbgrader_config.py")
    shutil.copytree(ROOT / "source" / ASSIGNMENT, folder / "source" / ASSIGNMENT,
                    ignore=shutil.ignore_patterns("runs", "checkpoints", "*.pt", ".ipynb_checkpoints"))
    run([os.path.abspath(sys.executable), "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force"], folder)
    return folder


def phase4_variants() -> dict[str, callable]:
    """Ways a learner's solution can look, as edits of the reference solution source."""
    def correct(source):
        return source

    def no_zero_grad(source):
        return "\n".join(line for line in source.splitlines() if "zero_grad" not in line)

    def tensor_logging(source):
        return source.replace(".item()", "")

    return {"correct": correct, "no_zero_grad": no_zero_grad, "tensor_logging": tensor_logging, "stub": None}


def submit_phase4(course: Path, students: int) -> None:
    source = nbformat.read(str(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    solutions = {cell.metadata["nbgrader"]["grade_id"]: SOLUTION_BLOCK.sub(lambda m: m.group(1), cell.source)
                 for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")}
    release_dir = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config() \
        .CourseDirectory.get("release_directory", "release")  # the course's is notebooks/
    release = nbformat.read(str(course / release_dir / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    variants = list(phase4_variants().items())
    for number in range(students):
        kind, edit = variants[number % len(variants)]
        nb = nbformat.from_dict(release)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if edit is not None and grade_id in solutions:
                cell.source = edit(solutions[grade_id]) if grade_id == "train_loop" else solutions[grade_id]
        folder = course / "submitted" / f"s{number:02d}_{kind}" / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / f"{ASSIGNMENT}.ipynb"))


def fake_course(folder: Path, students: int) -> Path:
    course = fake_class.make_course(folder, cell_seconds=120)
    ordinary = ["alice", "bob", "carol", "dave", "erin"]
    for number in range(students):
        name = ordinary[number % len(ordinary)]
        fake_class.submit(course, f"s{number:02d}_{name}", fake_class.student_notebook(course, name))
    return course


def scores(course: Path) -> dict[str, dict[str, float]]:
    from nbgrader.api import Gradebook
    config = (course / "nbgrader_config.py").read_text()
    course_id = re.search(r'course_id = "([^"]+)"', config).group(1)
    result = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id) as gb:
        for submission in gb.find_assignment(ASSIGNMENT).submissions:
            result[submission.student.id] = {grade.name: grade.score for notebook in submission.notebooks
                                              for grade in notebook.grades}
    return result


def make_class(folder: Path, students: int, fake: bool) -> tuple[Path, str]:
    """A released course with `students` submissions: phase 4, or the fake course."""
    if not fake:
        try:
            course = phase4_course(folder)
            submit_phase4(course, students)
            return course, "the phase-4 notebook"
        except (SystemExit, Exception) as error:
            print(f"phase 4 unusable ({str(error).splitlines()[0][:200]}); using the fake course")
            shutil.rmtree(folder, ignore_errors=True)
    return fake_course(folder, students), "the test suite's course of the same shape"


class LocalDask:
    """`dask scheduler` and `dask worker --nworkers N --nthreads 1` on 127.0.0.1, for one measurement."""

    def __init__(self, workers: int, folder: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{port}"
        dask = os.path.join(BIN, "dask")
        self.processes = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                            "--no-dashboard"], cwd=folder, env=ENV, start_new_session=True,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        self.processes.append(subprocess.Popen([dask, "worker", self.address, "--nworkers", str(workers),
                                                "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
                                               cwd=folder, env=ENV, start_new_session=True,
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client
        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)

    def stop(self) -> None:
        for process in reversed(self.processes):
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, signal.SIGKILL)


def compare(named: dict[str, dict]) -> bool:
    """Whether every gradebook holds the same scores as the first; differences printed."""
    (first_name, first), *others = named.items()
    same = True
    for name, other in others:
        if other != first:
            same = False
            for student in sorted(first):
                if first[student] != other.get(student):
                    print(f"  {student}: {first_name} {first[student]}  {name} {other.get(student)}")
    return same


def growth(tmp: Path, sizes: list[int], jobs: int, fake: bool) -> None:
    """Time per submission of the local pool at each class size, and the parent's peak memory."""
    rows = []
    for size in sizes:
        course, _ = make_class(tmp / f"size{size}", size, fake)
        seconds, peak, _ = grade(course, "--jobs", str(jobs))
        rows.append((size, seconds, peak))
        print(f"  {size:4d} submissions: {seconds:7.1f} s  ({seconds / size:.2f} s per submission); "
              f"grading command's peak memory {peak} MiB")
        shutil.rmtree(course, ignore_errors=True)
    # Linear growth = a fixed start-up plus a constant cost per submission: the cost of
    # each extra submission between two sizes must stay the same as the class grows.
    extra = [(later[1] - earlier[1]) / (later[0] - earlier[0]) for earlier, later in zip(rows, rows[1:])]
    first, last = rows[0], rows[-1]
    print("seconds per extra submission, between consecutive sizes: "
          + ", ".join(f"{cost:.2f}" for cost in extra)
          + (f" (last / first: {extra[-1] / extra[0]:.2f}x; 1.00x = linear, target within 1.15x)"
             if len(extra) > 1 else ""))
    print(f"time per submission, {last[0]} vs {first[0]} submissions: "
          f"{(last[1] / last[0]) / (first[1] / first[0]):.2f}x (below 1: the start-up spread thinner); "
          f"peak memory {first[2]} -> {last[2]} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=12)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--fake", action="store_true", help="use the test suite's small course")
    parser.add_argument("--dask", action="store_true", help="also grade through a local Dask cluster")
    parser.add_argument("--sizes", default="", help="class sizes for the growth figure, e.g. 12,48,192")
    parser.add_argument("--no-nbgrader", action="store_true", help="skip the serial nbgrader run (and its ratio)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grading-speed-") as tmp:
        tmp = Path(tmp)
        course, what = make_class(tmp / "a", args.students, args.fake)
        twin, third, isolated = tmp / "b", tmp / "c", tmp / "d"
        shutil.copytree(course, twin)
        shutil.copytree(course, third)
        shutil.copytree(course, isolated)
        with_nbgraders_own_steps(course)  # serial nbgrader as nbgrader ships it
        python = os.path.abspath(sys.executable)
        print(f"{args.students} submissions of {what}; {os.cpu_count()} CPU cores")
        if args.sizes:
            print(f"growth, python -m autograder grade --jobs {args.jobs}:")
            growth(tmp, [int(size) for size in args.sizes.split(",")], args.jobs, args.fake)
        plain = None
        if not args.no_nbgrader:
            plain = run([python, "-m", "nbgrader", "autograde", ASSIGNMENT], course)
            print(f"nbgrader autograde (serial):          {plain:6.1f} s  ({plain / args.students:.2f} s per submission)")
            if what == "the phase-4 notebook":  # the course's config names its isolated steps
                walled = run([python, "-m", "nbgrader", "autograde", ASSIGNMENT], isolated)
                print(f"nbgrader autograde with the course's isolated step (serial): {walled:6.1f} s  "
                      f"({walled / args.students:.2f} s per submission)")
        ours, peak, ours_batch = grade(twin, "--jobs", str(args.jobs))
        print(f"python -m autograder grade --jobs {args.jobs}: {ours:6.1f} s  ({ours / args.students:.2f} s per submission; "
              f"batch alone {ours_batch:.1f} s; peak memory of the command {peak} MiB)")
        gradebooks = {"autograder": scores(twin)} | ({"nbgrader": scores(course)} if plain else {})
        if plain and what == "the phase-4 notebook":
            gradebooks["nbgrader, isolated step"] = scores(isolated)
        if args.dask:
            cluster = LocalDask(args.jobs, tmp)
            try:
                on_dask, _, dask_batch = grade(third, "--scheduler", cluster.address)
            finally:
                cluster.stop()
            print(f"python -m autograder grade --scheduler (local Dask, {args.jobs} workers): {on_dask:6.1f} s  "
                  f"({on_dask / args.students:.2f} s per submission; batch alone {dask_batch:.1f} s)")
            print(f"Dask path / local pool ({args.jobs} workers vs {args.jobs} jobs): {on_dask / ours:.2f}x whole command, "
                  f"{dask_batch / ours_batch:.2f}x batch alone (target: at most 1.15x)")
            gradebooks["dask"] = scores(third)
        same = compare(gradebooks)
        print(f"identical scores in all {len(gradebooks)} gradebooks:", "yes" if same else "NO")
        if plain:
            print(f"speed ratio (nbgrader autograde / autograder grade --jobs {args.jobs}): {plain / ours:.2f}x")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
