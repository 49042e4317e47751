"""The sandbox hides the course but keeps what learner code needs, wherever the course lies.

CI grades from a clean clone that may itself lie under /tmp; each submission gets a
fresh private /tmp, which must not hide the course's venv and packages with it.
"""
import os

import pytest

from autograder.grade.kernel import sandbox


def run_in_child(check) -> int:
    """Fork, run `check` in the child, return its exit status (0: every assertion held)."""
    child = os.fork()
    if child == 0:
        try:
            check()
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status)


def test_kept_folders_under_tmp_survive_the_private_tmp(tmp_path):
    course = tmp_path / "course"
    (course / "venv").mkdir(parents=True)
    (course / "venv" / "module.py").write_text("x = 1\n")
    (course / "gradebook.db").write_text("secret")

    def check():
        sandbox.hide_paths([str(course)], [str(course / "venv")])
        sandbox.enter_private_world(memory_bytes=2**30, cpu_seconds=30, tmp_bytes=2**20)
        assert (course / "venv" / "module.py").read_text() == "x = 1\n"
        assert not (course / "gradebook.db").exists()

    if os.geteuid() != 0:
        pytest.skip("namespaces need root here")
    assert run_in_child(check) == 0
