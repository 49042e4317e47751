"""pytest plugin: nbgrader's own autograde tests, with `python -m autograder grade` in `nbgrader autograde`'s place.

nbgrader ships its tests in its wheel (nbgrader/tests/apps/test_nbgrader_autograde.py).
Each calls `run_nbgrader(["autograde", ...])`, a name bound in that module; this plugin
replaces it there, for the `autograde` command only, with the grading command run as
an instructor would run it: `python -m autograder grade ...` with the same arguments,
as a process of its own, in the same folder, with the same environment; the exit
status must be the one the test expects of nbgrader. Every other command the tests
run (`db`, `generate_assignment`, `validate`) is still nbgrader's.

    python -m pytest -p nbgrader_suite --pyargs nbgrader.tests.apps.test_nbgrader_autograde

(`make test-nbgrader`, a CI stage of its own: `bash .ci/run` runs it after `make test`).
Measured with nbgrader itself on the course machine: 40 pass, and 2 are skipped by
nbgrader's own tests (test_many_students, test_infinite_loop_with_output); with the
grader in its place, the same 40 pass. Each test works in its own temporary course and
each grading is a process of its own, so the suite runs under pytest-xdist
(`make test-nbgrader PYTEST_ARGS="-n 2"`: 40 passed on the shared 2-core machine).
"""
import os
import subprocess
import sys

import pytest

SUITE = "nbgrader.tests.apps.test_nbgrader_autograde"
BIN = os.path.dirname(os.path.abspath(sys.executable))


@pytest.fixture(autouse=True)
def grade_in_place_of_nbgrader_autograde(request, monkeypatch):
    module = sys.modules.get(SUITE)
    if module is None or request.module is not module:
        return
    nbgraders = module.run_nbgrader

    def run(args, retcode=0, env=None, stdout=False):
        if args[:1] != ["autograde"]:
            return nbgraders(args, retcode=retcode, env=env, stdout=stdout)
        environment = dict(env if env is not None else os.environ)
        environment["PATH"] = BIN + os.pathsep + environment.get("PATH", "")
        done = subprocess.run([os.path.abspath(sys.executable), "-m", "autograder", "grade", *args[1:]],
                              capture_output=True, text=True, env=environment, timeout=900)
        if done.returncode != retcode:
            raise AssertionError(f"python -m autograder grade {' '.join(args[1:])} returned {done.returncode}, "
                                 f"the test expects {retcode} (as nbgrader autograde gives):\n"
                                 f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
        return done.stdout if stdout else done.stderr

    monkeypatch.setattr(module, "run_nbgrader", run)
