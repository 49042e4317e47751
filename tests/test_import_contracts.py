"""The package's layers, as import-linter checks them (pyproject.toml: [tool.importlinter]).

`lint-imports` runs here, so `make test` fails on a broken contract: the inspector
importing an exercise, grading's parent side importing torch or IPython, reports and
grading importing each other. And the check can fail: on a copy of the package with
one such import added, it reports that contract broken.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = str(Path(sys.executable).parent / "lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT, "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root, text=True,
                          capture_output=True, timeout=300, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "COLUMNS": "300"})


def test_every_contract_is_kept():
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "5 kept, 0 broken" in done.stdout


VIOLATIONS = {
    "Grading's parent side imports no torch": ("autograder/grade/reasons/causes.py", "import torch\n"),
    "Reports and grading do not import each other": ("autograder/grade/app/summary.py",
                                                      "from autograder.report import class_report\n"),
    "The inspector knows no exercise": ("autograder/inspector/words.py", "from autograder.exercises import base\n"),
}


@pytest.mark.parametrize("contract", sorted(VIOLATIONS))
def test_a_broken_layer_is_named(tmp_path, contract):
    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "autograder", copy / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    path, line = VIOLATIONS[contract]
    target = copy / path
    target.write_text(line + target.read_text())
    done = lint(copy)
    assert done.returncode != 0
    broken = [row for row in done.stdout.splitlines() if row.endswith("BROKEN")]
    assert len(broken) == 1 and broken[0].startswith(contract), done.stdout[-3000:]
