"""The set-up promises hold: two README commands, one pin list, CI calling the test command."""
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pins(text: str) -> dict[str, str]:
    return {name.lower(): version for name, version in re.findall(r"^\s*-?\s*([A-Za-z0-9_.\-]+)==([^\s#]+)", text, re.M)}


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\b", ci, re.M), ".ci/run must call the README's test command"


def test_torch_is_pinned_and_installed_first():
    makefile = (ROOT / "Makefile").read_text()
    torch_line = makefile.index("pip install --quiet torch==2.13.0")
    rest_line = makefile.index("-r requirements.txt")
    assert torch_line < rest_line


def test_conda_environment_has_the_same_pins_as_pip():
    requirements = pins((ROOT / "requirements.txt").read_text())
    environment = pins((ROOT / "environment.yml").read_text())
    assert requirements["torch"] == "2.13.0"
    assert requirements == environment


def test_constraints_agree_with_requirements():
    requirements = pins((ROOT / "requirements.txt").read_text())
    constraints = pins((ROOT / "constraints.txt").read_text())
    for name, version in requirements.items():
        if name != "torch":
            assert constraints.get(name) == version, f"{name}: requirements {version}, constraints {constraints.get(name)}"


def test_every_python_package_ships_in_the_wheel():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(project["tool"]["setuptools"]["packages"])
    on_disk = {str(init.parent.relative_to(ROOT)).replace("/", ".")
               for top in ("autograder", "course_helpers") for init in (ROOT / top).rglob("__init__.py")}
    assert on_disk <= listed, f"packages missing from pyproject.toml: {sorted(on_disk - listed)}"


def test_nbgrader_uses_the_source_folder():
    config = (ROOT / "nbgrader_config.py").read_text()
    assert 'c.CourseDirectory.source_directory = "source"' in config


def test_readme_links_each_student_notebook_and_its_colab_badge():
    from course_helpers.first_cell import PACKAGE_SOURCE, colab_url

    readme = (ROOT / "README.md").read_text()
    for source in sorted((ROOT / "source").glob("*/*.ipynb")):
        phase = source.parent.name
        assert f"](notebooks/{phase}/{phase}.ipynb)" in readme, f"README's table lacks a link to phase {phase}"
        assert f"]({colab_url(phase)})" in readme, f"README lacks the Colab badge of {phase}: {colab_url(phase)}"
    assert PACKAGE_SOURCE in readme, "README must name what the set-up cell installs in Colab"
    assert "source/<phase>/<phase>.ipynb" in readme, "README must say where the solutions are"


def test_make_test_runs_both_stacks_and_the_colab_one_cannot_skip():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: test-main test-colab$", makefile, re.M)
    colab = re.search(r"^test-colab:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "COURSE_REQUIRE_COLAB=1 $(COLAB_BIN)/python" in colab and "tests/test_colab_stack.py" in colab
    assert re.search(r"^lab: .*\bexchange\b", makefile, re.M), "make lab must create nbgrader's exchange"
    assert "twine check --strict" in makefile and "-m build" in makefile


def test_what_make_runs_keeps_its_bytecode_where_the_environment_says_not_to():
    """With PYTHONDONTWRITEBYTECODE set (some images and CI machines set it), every process
    compiled torch and nbgrader from source again: 40 % of the suite's CPU."""
    probe = f'probe: ; @{sys.executable} -c "import sys; print(sys.dont_write_bytecode)"'
    done = subprocess.run(["make", "--no-print-directory", "-f", "Makefile", "--eval", probe, "probe"], cwd=ROOT,
                          env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_colab_requirements_agree_with_their_constraints():
    requirements = pins((ROOT / "requirements-colab.txt").read_text())
    constraints = pins((ROOT / "constraints-colab.txt").read_text())
    assert requirements["torch"] == "2.13.0"
    for name, version in requirements.items():
        if name != "torch":
            assert constraints.get(name) == version, f"{name}: requirements-colab {version}, constraints-colab {constraints.get(name)}"


def test_the_package_version_is_written_once():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["dynamic"]["version"] == \
        {"attr": "course_helpers.first_cell.VERSION"}
