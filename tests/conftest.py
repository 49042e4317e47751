"""Shared test set-up: the repository root, and the venv's bin/ on PATH for nbgrader."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = str(Path(sys.executable).absolute().parent)

# nbgrader's commands call `alembic` and `jupyter` from PATH; the kernels that
# nbclient starts must be this interpreter's.
if BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = BIN + os.pathsep + os.environ.get("PATH", "")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT
