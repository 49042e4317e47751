"""`make lab` opens a working course: JupyterLab serves phase 1 as a learner gets it (no
solutions), the widget and nbgrader extensions are installed, and nbgrader's formgrader
answers from the repository root with its exchange available (release and collect work)."""
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from notebook_tools import ROOT

pytestmark = pytest.mark.slow
JUPYTER = str(Path(sys.executable).absolute().parent / "jupyter")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def lab_command() -> list[str]:
    """The command `make lab` runs, read from the Makefile so the two cannot drift apart."""
    recipe = re.search(r"^lab:.*\n\t(.+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    as_root = "--allow-root" if os.geteuid() == 0 else ""
    words = recipe.replace("$(BIN)/jupyter", JUPYTER).replace("$(AS_ROOT)", as_root).split()
    assert words[:2] == [JUPYTER, "lab"], f"unexpected lab recipe: {recipe}"
    return words


@pytest.fixture(scope="module")
def lab():
    subprocess.run(["make", "-s", "exchange"], cwd=ROOT, check=True, timeout=60)  # what `make lab` does first
    port, token = free_port(), secrets.token_hex(16)
    command = lab_command() + ["--no-browser", f"--port={port}", "--ip=127.0.0.1",
                               f"--IdentityProvider.token={token}"]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, f"JupyterLab exited: {server.stderr.read()[-2000:]}"
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within 90 s")
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def get(lab, path):
    base, token = lab
    separator = "&" if "?" in path else "?"
    with urllib.request.urlopen(f"{base}{path}{separator}token={token}", timeout=30) as response:
        return response.status, response.read().decode()


def test_lab_serves_the_first_notebook(lab):
    status, body = get(lab, "/api/contents/notebooks/01_tensors/01_tensors.ipynb")
    assert status == 200 and json.loads(body)["type"] == "notebook"
    cells = json.loads(body)["content"]["cells"]
    text = "\n".join(cell["source"] for cell in cells)
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, "make lab opens the solutions"
    assert "raise NotImplementedError()" in text, "phase 1 must open with its exercises to fill in"
    status, page = get(lab, "/lab")
    assert status == 200 and "jupyter" in page.lower()


def test_widget_and_nbgrader_lab_extensions_are_installed(lab):
    status, body = get(lab, "/lab/api/extensions")
    names = {extension["name"] for extension in json.loads(body)}
    assert "jupyter-widgets-jupyterlab-manager" in names
    assert "jupyter-nbgrader" in names


def test_formgrader_runs_from_the_repository_root(lab):
    status, page = get(lab, "/formgrader")
    assert status == 200 and "formgrader" in page.lower()
    status, page = get(lab, "/formgrader/manage_assignments")
    assert status == 200 and "manage assignments" in page.lower()
    assert "warning-exchange" not in page, "formgrader says release and collect are unavailable"
