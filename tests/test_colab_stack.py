"""The course on Google Colab's versions: every student and source notebook runs top to bottom.

These tests run in the second environment (`make colab-env`, run by `make test-colab`)
that holds what Colab preinstalls (requirements-colab.txt: ipywidgets 7.7.1, IPython
7.34, ipykernel 6.17, numpy 2.1.3, matplotlib 3.10.0). Anywhere else they skip;
with COURSE_REQUIRE_COLAB=1 (make test-colab sets it) being elsewhere is a failure.

A source notebook must run without an error; a student notebook may fail only in its
graded test cells. Both must give static views whole outputs (ipywidgets 7 cuts a
widget's text at 110 characters too).
"""
import os
import re
from importlib.metadata import PackageNotFoundError, version

import pytest

from notebook_tools import (ROOT, execute, executed_student_notebook, run_problems, source_notebooks,
                            static_view_problems, student_notebook)

pytestmark = [pytest.mark.colab, pytest.mark.slow]
NOTEBOOKS = source_notebooks()
IDS = [path.parent.name for path in NOTEBOOKS]


def colab_pins() -> dict[str, str]:
    """Colab's versions, as requirements-colab.txt pins them (torch aside: see that file)."""
    text = (ROOT / "requirements-colab.txt").read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, re.M))
    return {name: pin for name, pin in pins.items()
            if name in {"ipywidgets", "widgetsnbextension", "ipykernel", "ipython", "numpy", "matplotlib"}}


def installed(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


@pytest.fixture(scope="module", autouse=True)
def on_the_colab_stack():
    wrong = {name: installed(name) for name, pin in colab_pins().items() if installed(name) != pin}
    if wrong:
        reason = f"not on Colab's versions (make colab-env): here {wrong}"
        if os.environ.get("COURSE_REQUIRE_COLAB") == "1":
            pytest.fail(f"COURSE_REQUIRE_COLAB=1 but {reason}")
        pytest.skip(reason)


def test_the_pins_are_colabs():
    assert colab_pins() == {"ipywidgets": "7.7.1", "widgetsnbextension": "3.6.10", "ipykernel": "6.17.1",
                            "ipython": "7.34.0", "numpy": "2.1.3", "matplotlib": "3.10.0"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_source_notebook_runs_on_colab_versions(path):
    notebook = execute(path)
    problems = run_problems(notebook, student=False) + static_view_problems(notebook)
    assert not problems, f"{path.relative_to(ROOT)} on Colab's versions:\n" + "\n\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_student_notebook_runs_on_colab_versions(path):
    student = student_notebook(path)
    notebook = executed_student_notebook(path)
    problems = run_problems(notebook, student=True) + static_view_problems(notebook)
    assert not problems, f"{student.relative_to(ROOT)} on Colab's versions:\n" + "\n\n".join(problems)
