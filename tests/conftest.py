"""Shared test set-up: the repository root, the venv's bin/ on PATH for nbgrader, and
which tests keep to one worker when the suite runs on several (`make test`: pytest-xdist,
`--dist loadgroup`)."""
import os
import socket
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


@pytest.fixture(scope="module")
def listener():
    """A port on the grader's loopback that a walled-in submission must not reach."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield server.getsockname()[1]
    server.close()


# -- running on several workers -----------------------------------------------------------
# A worker is a process of its own: what one builds once (a module's fixture, the
# inspector's cached Reports) another builds again. So the tests that share such a thing
# are sent to one worker together, as one xdist group:
#   - the tests of a module that use one of its module- or session-scoped fixtures (a graded
#     class, a built release, a running JupyterLab): built once, not once per worker;
#   - every test of a module that imports the bug zoo: each zoo function's Reports
#     (public and hidden fixtures) are computed once and served from `autograder.inspect`'s
#     cache to every file that asks (test_inspector_zoo, _claims, _sections, ...).
# A test already marked `xdist_group` keeps its own group.

ZOO_GROUP = "zoo"


def _uses_the_zoo(item) -> bool:
    module = getattr(item, "module", None)
    return any(getattr(value, "__name__", "").split(".")[0] == "zoo" or
               getattr(value, "__module__", "").split(".")[0] == "zoo"
               for value in vars(module).values()) if module else False


def _shares_a_module_fixture(item) -> bool:
    """Whether the test uses a module- or session-scoped fixture its own module defines.
    Autouse ones are settings, not things built (one thread, the right stack): they do not
    bind a module to one worker."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    module_id = item.nodeid.split("::")[0]
    automatic = set(info.initialnames) - set(info.argnames)
    for name in item.fixturenames:
        definitions = info.name2fixturedefs.get(name)
        if definitions and name not in automatic:
            fixture = definitions[-1]
            if fixture.scope in ("module", "package", "session") and fixture.baseid == module_id:
                return True
    return False


def worker_group(item) -> str | None:
    """The xdist group a test joins (None: it may run on any worker)."""
    if _uses_the_zoo(item):
        return ZOO_GROUP
    if _shares_a_module_fixture(item):
        return item.nodeid.split("::")[0]
    return None


def _group_names(item) -> str:
    return "_".join(sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                            for mark in item.iter_markers("xdist_group")}))


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            group = worker_group(item)
            if group:
                item.add_marker(pytest.mark.xdist_group(group))


@pytest.hookimpl(tryfirst=True)  # before xdist's worker sends the ids to its scheduler
def pytest_collection_finish(session):
    """xdist tells its scheduler a test's group by writing "@GROUP" onto the test's id in
    the worker; pytest 9.2 keeps the id in another field, so that write is lost and every
    group is silently spread over all workers (pytest-xdist issue 1386). Where the suffix
    is missing, it is written where pytest 9.2 reads it."""
    if not getattr(session.config.option, "loadgroup", False):  # set in xdist workers only
        return
    from _pytest.nodeid import NodeId
    for item in session.items:
        names = _group_names(item)
        if names and not item.nodeid.endswith("@" + names) and hasattr(item, "_id"):
            item._id = NodeId.parse(f"{item.nodeid}@{names}")
