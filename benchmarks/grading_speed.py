"""Grading speed: plain serial `nbgrader autograde` vs `python -m autograder grade --jobs 2`.

Builds two identical copies of a course in a temporary folder, each with the same
class of submissions of phase 4 (the real `notebooks/04_training_loop` notebook:
correct work, missing `zero_grad`, losses logged as tensors, untouched stubs), grades
one copy with each command, checks that every test cell got the same score in both
gradebooks, and prints the speed ratio on its last line.

    python benchmarks/grading_speed.py [--students 12] [--jobs 2] [--fake]

`--fake` (or a phase-4 notebook that cannot be released) uses the test suite's
small course of the same shape instead.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import nbformat  # noqa: E402
from grading_fixtures import fake_class  # noqa: E402

ASSIGNMENT = "04_training_loop"
SOLUTION_BLOCK = re.compile(r"[ \t]*### BEGIN SOLUTION\n(.*?)[ \t]*### END SOLUTION\n?", re.S)


def run(command: list[str], cwd: Path, timeout: int = 1800) -> float:
    """Seconds `command` took; fails loudly with its output if it fails."""
    env = dict(os.environ, PATH=os.path.dirname(os.path.abspath(sys.executable)) + os.pathsep + os.environ["PATH"])
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, text=True, capture_output=True, timeout=timeout)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds


def phase4_course(folder: Path) -> Path:
    """A course holding the real phase-4 notebook, released with nbgrader."""
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", folder / "nbgrader_config.py")
    shutil.copytree(ROOT / "source" / ASSIGNMENT, folder / "notebooks" / ASSIGNMENT,
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
    release = nbformat.read(str(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=12)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--fake", action="store_true", help="use the test suite's small course")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grading-speed-") as tmp:
        tmp = Path(tmp)
        course, what = None, "the test suite's course of the same shape"
        if not args.fake:
            try:
                course = phase4_course(tmp / "a")
                submit_phase4(course, args.students)
                what = "the phase-4 notebook"
            except (SystemExit, Exception) as error:
                print(f"phase 4 unusable ({str(error).splitlines()[0][:200]}); using the fake course")
                shutil.rmtree(tmp / "a", ignore_errors=True)
                course = None
        if course is None:
            course = fake_course(tmp / "a", args.students)
        twin = tmp / "b"
        shutil.copytree(course, twin)
        python = os.path.abspath(sys.executable)
        print(f"{args.students} submissions of {what}; {os.cpu_count()} CPU cores")
        plain = run([python, "-m", "nbgrader", "autograde", ASSIGNMENT], course)
        print(f"nbgrader autograde (serial):          {plain:6.1f} s  ({plain / args.students:.2f} s per submission)")
        ours = run([python, "-m", "autograder", "grade", ASSIGNMENT, "--jobs", str(args.jobs), "--quiet"], twin)
        print(f"python -m autograder grade --jobs {args.jobs}: {ours:6.1f} s  ({ours / args.students:.2f} s per submission)")
        first, second = scores(course), scores(twin)
        same = first == second
        print("identical scores in both gradebooks:", "yes" if same else "NO")
        if not same:
            for student in sorted(first):
                if first[student] != second.get(student):
                    print(f"  {student}: nbgrader {first[student]}  autograder {second.get(student)}")
        print(f"speed ratio (nbgrader autograde / autograder grade --jobs {args.jobs}): {plain / ours:.2f}x")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
