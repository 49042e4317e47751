"""The JupyterHub configuration files in docs/jupyterhub/ load, and name real things.

No hub runs here, so this checks what can be checked on one machine: every Python file
loads as traitlets configuration, every nbgrader setting is a trait nbgrader has, every
server extension and JupyterLab plugin named is one the installed nbgrader provides,
learners get no formgrader and the instructor does, and the shared exchange is the one
the course's own nbgrader_config.py looks for.
"""
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
import nbgrader.exchange.default as default_exchange  # the classes ExchangeFactory makes
from nbgrader.apps.nbgraderapp import NbGraderApp
from traitlets.config.loader import PyFileConfigLoader

from notebook_tools import ROOT

HUB = ROOT / "docs" / "jupyterhub"
PY_FILES = sorted(HUB.rglob("*.py"))
JSON_FILES = sorted(HUB.rglob("*.json"))
NBGRADER_FILES = [path for path in PY_FILES if path.name == "nbgrader_config.py"]


def load(path: Path):
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()


def lab_plugins() -> set[str]:
    """The plugin ids of the installed nbgrader JupyterLab extension."""
    folder = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyter" / "nbgrader" / "static"
    return {match for script in folder.glob("*.js") for match in re.findall(r'"(@jupyter/nbgrader:[a-z-]+)"', script.read_text())}


def test_the_folder_holds_the_hub_files():
    names = {str(path.relative_to(HUB)) for path in PY_FILES + JSON_FILES}
    assert {"jupyterhub_config.py", "nbgrader_config.py", "instructor/nbgrader_config.py"} <= names


@pytest.mark.parametrize("path", PY_FILES, ids=lambda p: str(p.relative_to(HUB)))
def test_python_files_load_as_traitlets_config(path):
    assert load(path), f"{path} sets nothing"


@pytest.mark.parametrize("path", NBGRADER_FILES, ids=lambda p: str(p.relative_to(HUB)))
def test_nbgrader_settings_are_nbgrader_traits(path):
    traits = {}  # class name -> its settings (several classes share a name: abc and default)
    exchanges = [getattr(default_exchange, name) for name in default_exchange.__all__ if name != "ExchangeError"]
    for cls in [*NbGraderApp().all_configurable_classes(), *exchanges]:
        traits.setdefault(cls.__name__, set()).update(cls.class_traits(config=True))
    for section, values in load(path).items():
        assert section in traits, f"{path.name}: nbgrader has no configurable {section}"
        unknown = set(values) - traits[section]
        assert not unknown, f"{path.name}: {section} has no settings {sorted(unknown)}"


def test_the_shared_exchange_is_the_one_the_course_config_looks_for():
    hub = load(HUB / "nbgrader_config.py")
    course = (ROOT / "nbgrader_config.py").read_text()
    assert f'SHARED_EXCHANGE = Path("{hub.Exchange.root}")' in course
    assert hub.CourseDirectory.course_id == load(ROOT / "nbgrader_config.py").CourseDirectory.course_id


@pytest.mark.parametrize("path", JSON_FILES, ids=lambda p: str(p.relative_to(HUB)))
def test_json_files_name_real_extensions(path):
    data = json.loads(path.read_text())
    for module in data.get("ServerApp", {}).get("jpserver_extensions", {}):
        assert importlib.util.find_spec(module), f"{path.name}: no server extension {module}"
    unknown = set(data.get("disabledExtensions", {})) - lab_plugins()
    assert not unknown, f"{path.name}: nbgrader has no JupyterLab plugins {sorted(unknown)}"


def test_learners_get_no_formgrader_and_the_instructor_does():
    def read(part):
        return json.loads((HUB / part).read_text())

    learner_server = read("learners/jupyter_server_config.d/nbgrader.json")["ServerApp"]["jpserver_extensions"]
    learner_lab = read("learners/labconfig/page_config.json")["disabledExtensions"]
    instructor_server = read("instructor/jupyter_server_config.json")["ServerApp"]["jpserver_extensions"]
    instructor_lab = read("instructor/labconfig/page_config.json")["disabledExtensions"]
    assert learner_server["nbgrader.server_extensions.formgrader"] is False
    assert learner_server["nbgrader.server_extensions.assignment_list"] is True
    assert learner_lab["@jupyter/nbgrader:formgrader"] is True
    assert instructor_server["nbgrader.server_extensions.formgrader"] is True
    assert instructor_lab["@jupyter/nbgrader:formgrader"] is False
    # The learners' file replaces the one nbgrader installs, so it must carry its name.
    installed = Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / "nbgrader.json"
    assert installed.exists() and set(json.loads(installed.read_text())["ServerApp"]["jpserver_extensions"]) \
        == set(learner_server)
