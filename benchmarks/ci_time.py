"""How long the course's CI takes from a clean clone, stage by stage.

    python benchmarks/ci_time.py [REPOSITORY] [--keep]

clones REPOSITORY (default: this checkout's committed HEAD) into a temporary folder, runs
`CI=true bash .ci/run` there as CI does, and prints each stage's seconds (scripts/stage.py
records them), the tests passed, and on its last line the total: the check's own stages
against its budget of 8 minutes, the stages run apart (outside that budget) beside it.
Exits with .ci/run's status. Nothing is cached by the clone: pip's and uv's download
caches are the machine's, as on CI.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 8 * 60


def run_ci(clone: Path, log: Path) -> tuple[int, float, str]:
    env = dict(os.environ, CI="true", COURSE_STAGE_LOG=str(log))
    for name in ("VIRTUAL_ENV", "PYTHONPATH"):
        env.pop(name, None)
    started = time.monotonic()
    done = subprocess.run(["bash", ".ci/run"], cwd=clone, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    sys.stdout.write(done.stdout[-4000:])
    return done.returncode, time.monotonic() - started, done.stdout


def passed_counts(output: str) -> list[str]:
    """pytest's own summary lines ("1523 passed, 15 skipped in 300.1s"), one per test stage."""
    return re.findall(r"^=+ (.*(?:passed|failed).*) =+$", output, flags=re.MULTILINE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repository", nargs="?", default=str(ROOT))
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="course-ci-"))
    clone, log = folder / "course", folder / "stages.jsonl"
    try:
        subprocess.run(["git", "clone", "--quiet", args.repository, str(clone)], check=True)
        status, total, output = run_ci(clone, log)
        records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    finally:
        if args.keep:
            print(f"clone kept in {clone}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print("\nstage                seconds")
    for record in records:
        notes = ("  (apart)" if record["apart"] else "") + (f"  exit {record['status']}" if record["status"] else "")
        print(f"{record['stage']:<20} {record['seconds']:>7.1f}{notes}")
    for summary in passed_counts(output):
        print(f"pytest: {summary}")
    apart = sum(r["seconds"] for r in records if r["apart"])
    check = total - apart
    print(f"ci total {total:.1f} s: the check {check:.1f} s (budget {BUDGET_S} s), "
          f"apart {apart:.1f} s, .ci/run exit {status}")
    return status


if __name__ == "__main__":
    sys.exit(main())
