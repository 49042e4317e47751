"""Shared test set-up: the repository root, and the venv's bin/ on PATH for nbgrader."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Kernels are started from sys.executable, some of them inside a notebook's own folder
# (nbgrader's Validator changes directory first): a relative path would not be found.
sys.executable = os.path.abspath(sys.executable)
BIN = str(Path(sys.executable).parent)

# nbgrader's commands call `alembic` and `jupyter` from PATH; the kernels that
# nbclient starts must be this interpreter's.
if BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = BIN + os.pathsep + os.environ.get("PATH", "")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT
