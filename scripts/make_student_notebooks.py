"""Regenerate every student notebook from its nbgrader source: `make student-notebooks`.

Learners open `notebooks/<phase>/`: what `nbgrader generate_assignment` makes of
`source/<phase>/` (solutions replaced by stubs, hidden tests removed, data files copied
along). Those files are committed and never edited by hand, so this script is the only
way they change. It runs nbgrader in a scratch copy of the course, with a fresh gradebook,
so an instructor's gradebook is never touched and the result depends on the sources only.

    python scripts/make_student_notebooks.py           # rewrite notebooks/ from source/
    python scripts/make_student_notebooks.py --check   # exit 1 naming each stale notebook
"""
import argparse
import filecmp
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE, STUDENT = "source", "notebooks"  # nbgrader_config.py names the same two folders


def assignments(root: Path = ROOT) -> list[str]:
    """Every assignment: each folder of source/ that holds a notebook."""
    return sorted(path.parent.name for path in (root / SOURCE).glob("*/*.ipynb"))


def generate(out: Path, root: Path = ROOT) -> Path:
    """Write every student version under `out`/notebooks/ (a scratch course) and return that folder."""
    bin_dir = str(Path(sys.executable).parent)  # nbgrader's gradebook calls `alembic` from there
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    course = out / "course"
    course.mkdir(parents=True)
    shutil.copy(root / "nbgrader_config.py", course)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    ignore = shutil.ignore_patterns(*config.CourseDirectory.ignore)
    shutil.copytree(root / SOURCE, course / SOURCE, ignore=ignore)
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    config.Exchange.root = str(out / "exchange")  # never read: keeps nbgrader quiet about it
    api = NbGraderAPI(config=config)
    for name in assignments(root):
        result = api.generate_assignment(name, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{result['log']}\n{result['error']}")
    return course / STUDENT


def files(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


def differences(generated: Path, committed: Path) -> list[str]:
    """The student files that are missing, stale or extra in `committed`, as readable lines."""
    problems = []
    names = sorted({p.name for p in generated.iterdir()} | {p.name for p in committed.glob("*") if p.is_dir()})
    for name in names:
        new, old = generated / name, committed / name
        if not new.is_dir():
            problems.append(f"{STUDENT}/{name}/ has no source in {SOURCE}/{name}/ any more")
            continue
        expected, present = files(new), files(old) if old.is_dir() else set()
        for file in sorted(expected - present):
            problems.append(f"{STUDENT}/{name}/{file} is missing")
        for file in sorted(expected & present):
            if not filecmp.cmp(new / file, old / file, shallow=False):
                problems.append(f"{STUDENT}/{name}/{file} differs from what {SOURCE}/{name}/ generates")
    return problems


def write(generated: Path, committed: Path) -> None:
    """Replace each student folder by its regenerated version; drop folders with no source."""
    committed.mkdir(exist_ok=True)
    for old in committed.iterdir():
        if old.is_dir() and not (generated / old.name).is_dir():
            shutil.rmtree(old)
    for new in sorted(generated.iterdir()):
        shutil.rmtree(committed / new.name, ignore_errors=True)
        shutil.copytree(new, committed / new.name)
        for path in (committed / new.name).rglob("*"):
            if path.is_file():
                path.chmod(0o644)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a student notebook is stale")
    check = parser.parse_args(argv).check
    with tempfile.TemporaryDirectory() as scratch:
        generated = generate(Path(scratch))
        if check:
            problems = differences(generated, ROOT / STUDENT)
            for line in problems:
                print(line)
            if problems:
                print("Run `make student-notebooks` and commit notebooks/.")
            return 1 if problems else 0
        write(generated, ROOT / STUDENT)
    print(f"Wrote {len(assignments())} student notebooks under {STUDENT}/.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
