"""`python -m autograder check PATH --exercise NAME`: exit 0 pass, 1 bug, 2 unusable file."""
import json
import subprocess
import sys

from autograder.self_check.cli import main

CORRECT_EPOCH = '''
import torch

def train_epoch(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)
'''

BUGGY_EPOCH = CORRECT_EPOCH.replace("        optimizer.zero_grad()\n", "")


def _notebook(path, *cells):
    path.write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
                  for c in cells] + [{"cell_type": "markdown", "metadata": {}, "source": "# notes"}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_python_file_that_passes_exits_0(tmp_path, capsys):
    source = tmp_path / "mine.py"
    source.write_text(CORRECT_EPOCH + "\nraise SystemExit('module-level code never runs')\n")
    assert main([str(source), "--exercise", "train_epoch"]) == 0
    assert "passed every check" in capsys.readouterr().out


def test_notebook_with_a_bug_exits_1_and_skips_demos_and_magics(tmp_path, capsys):
    notebook = _notebook(tmp_path / "04.ipynb",
                         "%matplotlib inline\n!pip list\nimport torch\nEPOCHS = 3",
                         "while True:\n    pass  # a demo that would hang if it ran",
                         BUGGY_EPOCH,
                         "from autograder import assert_passes\nassert_passes('train_epoch', train_epoch)")
    assert main([str(notebook), "--exercise", "train_epoch"]) == 1
    out = capsys.readouterr().out
    assert "[missing-zero-grad]" in out and "Phase 4" in out


def test_concern_option_limits_the_verdict(tmp_path, capsys):
    source = tmp_path / "mine.py"
    source.write_text(BUGGY_EPOCH)
    assert main([str(source), "--exercise", "train_epoch", "--concern", "modes"]) == 0
    assert main([str(source), "--exercise", "train_epoch", "--concern", "order", "--hidden"]) == 1


def test_unusable_files_exit_2_with_a_clear_message(tmp_path, capsys):
    broken = _notebook(tmp_path / "broken.ipynb", "def train_epoch(model, loader, loss_fn, optimizer)\n    pass")
    assert main([str(broken), "--exercise", "train_epoch"]) == 2
    assert "[cell 1], line 1: SyntaxError" in capsys.readouterr().err
    other = tmp_path / "other.py"
    other.write_text("def something_else():\n    pass\n")
    assert main([str(other), "--exercise", "fit"]) == 2
    assert "defines no function named `fit`" in capsys.readouterr().err
    assert main([str(tmp_path / "absent.py"), "--exercise", "fit"]) == 2
    assert main([str(other), "--exercise", "no_such_exercise"]) == 2
    (tmp_path / "notes.txt").write_text("hello")
    assert main([str(tmp_path / "notes.txt"), "--exercise", "fit"]) == 2


def test_command_line_entry_point(tmp_path):
    source = tmp_path / "mine.py"
    source.write_text(BUGGY_EPOCH)
    done = subprocess.run([sys.executable, "-m", "autograder", "check", str(source), "--exercise",
                           "train_epoch"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "[missing-zero-grad]" in done.stdout


def test_importing_the_command_line_leaves_the_check_function_alone():
    import autograder
    import autograder.self_check.cli  # noqa: F401

    assert callable(autograder.check) and autograder.check.__module__ == "autograder.api"
