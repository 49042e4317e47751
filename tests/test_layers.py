"""Layers import downwards only: the inspector knows no exercise; exercises know no runner,
api or grading; the runner knows no api or grading. Read from the source, so a new import
that breaks the order fails here, naming the file."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "autograder"

FORBIDDEN = {
    "inspector": ("autograder.exercises", "autograder.runner", "autograder.api", "autograder.grade",
                  "autograder.report", "autograder.self_check"),
    "exercises": ("autograder.runner", "autograder.api", "autograder.grade", "autograder.report",
                  "autograder.self_check"),
}


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_downwards(layer):
    wrong = [f"{path.relative_to(PACKAGE.parent)} imports {name}"
             for path in sorted((PACKAGE / layer).glob("*.py"))
             for name in imported(path) if name.startswith(FORBIDDEN[layer])]
    assert not wrong, "\n".join(wrong)


def test_runner_sits_below_the_api_and_grading():
    names = imported(PACKAGE / "runner.py")
    assert not [n for n in names if n.startswith(("autograder.api", "autograder.grade", "autograder.report"))]


def test_the_check_can_fail():
    assert "autograder.exercises" in imported(PACKAGE / "runner.py")
