"""The set-up cell works everywhere: in a checkout, and in (simulated) Google Colab.

Colab is simulated as closely as this machine allows: a fresh folder holding only the
notebook, a Python environment that has torch, numpy and ipywidgets but not the course
package, a kernel in which `google.colab` is already imported (as in Colab), and the
course package installed by the first cell from a wheel built from this checkout as a
release builds it (`python -m build`, checked by `twine check`). When that install
fails, the cell says why in one sentence: not found, no network, or the wrong Python.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_helpers.first_cell import FIRST_CELL, PACKAGE_SOURCE, VERSION
from notebook_tools import ROOT, errors

pytestmark = pytest.mark.slow

PROBE = """\
import sys, course_helpers, torch
from course_helpers.datasets import load_digits
images, labels = load_digits()
print("PACKAGE", course_helpers.__file__)
print("TORCH", torch.__file__)
print("DIGITS", tuple(images.shape))
print("COLAB", "google.colab" in sys.modules)
print("DEVICE", device)
"""


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """The sdist and the wheel, built from this checkout as a release builds them."""
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"python -m build failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return out


@pytest.fixture(scope="module")
def wheel(release):
    """The course package as Colab would get it: the release's wheel."""
    (built,) = release.glob("*.whl")
    return built


def test_release_builds_and_passes_twine_check(release):
    names = sorted(path.name for path in release.iterdir())
    assert names == [f"training_loop_course-{VERSION}-py3-none-any.whl", f"training_loop_course-{VERSION}.tar.gz"], \
        f"the release must be one wheel and one sdist of version {VERSION}, got {names}"
    twine = Path(sys.executable).parent / "twine"
    result = subprocess.run([str(twine), "check", "--strict", *map(str, release.iterdir())],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"twine check failed:\n{result.stdout}\n{result.stderr}"


def test_the_set_up_cell_installs_this_release_pinned_and_alone():
    assert PACKAGE_SOURCE.endswith(f"@v{VERSION}"), "Colab must install the tagged release, not a moving branch"
    assert f'"{PACKAGE_SOURCE}"' in FIRST_CELL
    (install,) = [line for line in FIRST_CELL.splitlines() if '"pip", "install"' in line]
    assert '"--no-deps", package]' in install, "the install must never bring its own torch, numpy or ipywidgets"


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory) -> Path:
    """A fresh venv (pip in it), made once: each test gets a copy of its own."""
    home = tmp_path_factory.mktemp("bare-template")
    subprocess.run([sys.executable, "-m", "venv", str(home / "venv")], check=True, timeout=300)
    return home / "venv"


@pytest.fixture
def bare_python(tmp_path_factory, bare_venv):
    """A venv without the course package that still sees torch, numpy, ipywidgets, ipykernel.

    A path line in a .pth file adds this venv's site-packages without running its own
    .pth files, so the editable install of the course package stays invisible. Each test
    has its own copy (what one installs, the next does not see); `python -m pip` and the
    interpreter find their venv from where they are, so a copy works as the original.
    """
    home = tmp_path_factory.mktemp("bare")
    shutil.copytree(bare_venv, home / "venv", symlinks=True)
    python = home / "venv" / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (Path(site) / "course_parent_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    found = subprocess.run([str(python), "-c", "import importlib.util as u; print(u.find_spec('course_helpers'))"],
                           capture_output=True, text=True, cwd=home).stdout.strip()
    assert found == "None", "the bare environment must not see the course package"
    return python, Path(site)


def kernel_spec(folder: Path, name: str, python: Path, colab: bool, env: dict) -> Path:
    """Write a kernelspec; a Colab one imports a stand-in `google.colab` before the kernel starts."""
    fake = folder / "fake_colab"
    (fake / "google" / "colab").mkdir(parents=True, exist_ok=True)
    (fake / "google" / "__init__.py").write_text("")
    (fake / "google" / "colab" / "__init__.py").write_text('"""Stand-in for Colab\'s module."""\n')
    start = "import runpy; runpy.run_module('ipykernel_launcher', run_name='__main__')"
    if colab:
        start = f"import sys; sys.path.append({str(fake)!r}); import google.colab; " + start
    spec_dir = folder / "jupyter" / "kernels" / name
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-c", start, "-f", "{connection_file}"],
        "display_name": name, "language": "python", "env": env}))
    return folder / "jupyter"


def run_notebook(path: Path, kernel: str, jupyter_path: Path, monkeypatch) -> nbformat.NotebookNode:
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter_path))
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(PROBE))
    client = NotebookClient(notebook, timeout=300, kernel_name=kernel, allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return notebook


def printed(notebook) -> dict[str, str]:
    text = "".join(out.get("text", "") for out in notebook.cells[-1].outputs if out.get("name") == "stdout")
    return dict(line.split(" ", 1) for line in text.splitlines() if " " in line)


def first_failure(notebook) -> str:
    for cell in notebook.cells:
        for error in errors(cell):
            return f"{error['ename']}: {error['evalue']}\n{cell.source[:300]}"
    return ""


def set_up_notebook(folder: Path) -> Path:
    """A notebook that is just the set-up cell (every course notebook starts with it)."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(FIRST_CELL)]
    path = folder / "lesson.ipynb"
    nbformat.write(notebook, path)
    return path


def test_wheel_carries_every_module_and_the_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for top in ("autograder", "course_helpers"):
        for module in (ROOT / top).rglob("*.py"):
            assert str(module.relative_to(ROOT)) in names, f"{module} is missing from the wheel"
    for data in (ROOT / "data").glob("*.csv.gz"):
        assert f"course_helpers/data/{data.name}" in names


def test_colab_installs_the_package_from_a_fresh_folder(tmp_path, wheel, bare_python, monkeypatch):
    python, site = bare_python
    lesson = tmp_path / "colab_content"
    lesson.mkdir()
    path = set_up_notebook(lesson)
    assert [p.name for p in lesson.iterdir()] == ["lesson.ipynb"]
    jupyter = kernel_spec(tmp_path, "colab-sim", python, colab=True, env={"COURSE_PACKAGE": str(wheel)})
    notebook = run_notebook(path, "colab-sim", jupyter, monkeypatch)
    assert not first_failure(notebook), first_failure(notebook)
    facts = printed(notebook)
    assert facts["COLAB"] == "True"
    assert facts["PACKAGE"].startswith(str(site)), "the package must come from the wheel install"
    assert facts["DIGITS"] == "(1797, 64)", "the data must be installed with the package"
    assert not facts["TORCH"].startswith(str(site)), "Colab's own torch must stay untouched"
    installed = {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}
    assert not installed & {"torch", "numpy", "ipywidgets"}, f"the set-up cell installed {installed}"
    assert "Using device 'cpu'" in "".join(o.get("text", "") for o in notebook.cells[0].outputs)


def test_checkout_finds_the_package_without_installing(tmp_path, bare_python, monkeypatch):
    python, site = bare_python
    folder = ROOT / "source"
    notebooks = sorted(folder.glob("*/*.ipynb"))
    path = notebooks[0] if notebooks else set_up_notebook(tmp_path)
    jupyter = kernel_spec(tmp_path, "checkout", python, colab=False, env={})
    notebook = nbformat.read(path, as_version=4)
    work = path.parent if notebooks else ROOT  # run the set-up cell from inside the checkout
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter))
    notebook.cells = [c for c in notebook.cells if c.cell_type == "code"][:1] + [nbformat.v4.new_code_cell(PROBE)]
    client = NotebookClient(notebook, timeout=300, kernel_name="checkout", allow_errors=True,
                            resources={"metadata": {"path": str(work)}})
    client.execute()
    assert not first_failure(notebook), first_failure(notebook)
    facts = printed(notebook)
    assert facts["PACKAGE"] == str(ROOT / "course_helpers" / "__init__.py")
    assert facts["COLAB"] == "False"
    assert not any(site.glob("training_loop_course*")), "nothing may be installed in a checkout"


def test_outside_colab_and_checkout_the_message_says_what_to_do(tmp_path, bare_python, monkeypatch):
    python, _ = bare_python
    lesson = tmp_path / "elsewhere"
    lesson.mkdir()
    path = set_up_notebook(lesson)
    jupyter = kernel_spec(tmp_path, "elsewhere", python, colab=False, env={})
    notebook = run_notebook(path, "elsewhere", jupyter, monkeypatch)
    (error,) = errors(notebook.cells[0])
    assert error["ename"] == "ModuleNotFoundError"
    assert "open this notebook inside the course folder" in error["evalue"]


def wheel_for_another_python(wheel: Path, folder: Path) -> Path:
    """A copy of the wheel whose metadata asks for a Python that does not exist yet."""
    copy = folder / wheel.name
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(copy, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith(".dist-info/METADATA"):
                data = data.replace(b"Requires-Python: >=3.10", b"Requires-Python: >=3.99")
            target.writestr(item, data)
    return copy


def closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("failure, said", [
    ("not found", "it was not found"),
    ("no network", "there is no network"),
    ("wrong python", "it needs another Python version"),
])
def test_a_failed_install_says_why_in_one_sentence(failure, said, tmp_path, wheel, bare_python, monkeypatch):
    python, site = bare_python
    package = {
        "not found": lambda: str(tmp_path / "nowhere" / wheel.name),
        "no network": lambda: f"http://127.0.0.1:{closed_port()}/{wheel.name}",
        "wrong python": lambda: str(wheel_for_another_python(wheel, tmp_path)),
    }[failure]()
    lesson = tmp_path / "colab_content"
    lesson.mkdir()
    jupyter = kernel_spec(tmp_path, "colab-fails", python, colab=True,
                          env={"COURSE_PACKAGE": package, "PIP_RETRIES": "0", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    notebook = run_notebook(set_up_notebook(lesson), "colab-fails", jupyter, monkeypatch)
    (error,) = errors(notebook.cells[0])
    assert error["ename"] == "RuntimeError"
    message = error["evalue"]
    assert message == f"Could not install the course package ({package}) because {said}" + message.split(said, 1)[1]
    assert message.count(". ") == 0 and message.endswith("."), f"one sentence, please: {message}"
    assert not any(site.glob("training_loop_course*")), "a failed install must leave nothing behind"
