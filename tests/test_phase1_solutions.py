"""Phase 1 (tensors): the exercise test cells accept correct code and reject wrong code.

Course CI proves the reference solutions pass and the stubs fail. That is not enough: a
test cell that checks too little passes wrong answers, and one that checks too much fails
correct answers written another way. Here every exercise's own test cells (visible, then
hidden) run against other correct versions, which must pass, and against the mistakes
learners really make, which must fail in the cell named (some only hidden tests catch).
Cells are read from the notebook and run in-process: a few seconds, nearly all of it imports.
"""
import nbformat
import pytest

from notebook_tools import NOTEBOOK_ROOT, nbgrader_meta

PATH = NOTEBOOK_ROOT / "01_tensors" / "01_tensors.ipynb"
EXERCISES = ["make_grid", "to_probabilities", "last_column", "zero_outliers", "normalise_columns",
             "safe_flatten", "answer_broadcast_shape"]
HIDDEN = "### BEGIN HIDDEN TESTS"

# Each correct version must pass the visible and the hidden tests.
CORRECT = {
    "make_grid": [
        "def make_grid(rows, cols):\n    return torch.arange(rows * cols).reshape(rows, cols).float()",
        "def make_grid(rows, cols):\n    return torch.arange(float(rows * cols)).view(rows, cols)",
        "def make_grid(rows, cols):\n"
        "    return torch.tensor([[r * cols + c for c in range(cols)] for r in range(rows)], dtype=torch.float32)",
    ],
    "to_probabilities": [
        "def to_probabilities(counts):\n    return counts.float() / counts.sum()",
        "def to_probabilities(counts):\n    return (counts / counts.sum()).to(torch.float32)",
        "def to_probabilities(counts):\n    total = counts.double().sum()\n"
        "    return (counts.double() / total).float()",
    ],
    "last_column": [
        "def last_column(x):\n    return x.T[-1]",
        "def last_column(x):\n    return x[:, x.shape[1] - 1]",
        "def last_column(x):\n    return x.select(1, -1)",
        "def last_column(x):\n    return x[..., -1].clone()",
    ],
    "zero_outliers": [
        "def zero_outliers(x, limit):\n    return torch.where(x.abs() > limit, torch.zeros_like(x), x)",
        "def zero_outliers(x, limit):\n    return x * (x.abs() <= limit)",
        "def zero_outliers(x, limit):\n    return x.masked_fill(x.abs() > limit, 0)",
        "def zero_outliers(x, limit):\n    y = x.clone()\n    y[(y > limit) | (y < -limit)] = 0\n    return y",
    ],
    "normalise_columns": [
        "def normalise_columns(x):\n"
        "    return (x - x.mean(dim=0, keepdim=True)) / x.std(dim=0, keepdim=True)",
        "def normalise_columns(x):\n    centred = x - x.mean(0)\n    return centred / centred.std(0)",
        "def normalise_columns(x):\n    result = x.clone()\n    for c in range(x.shape[1]):\n"
        "        result[:, c] = (x[:, c] - x[:, c].mean()) / x[:, c].std()\n    return result",
    ],
    "safe_flatten": [
        "def safe_flatten(x):\n    return x.flatten().clone()",
        "def safe_flatten(x):\n    return x.clone().reshape(-1)",
        "def safe_flatten(x):\n    return x.contiguous().view(-1).clone()",
        "def safe_flatten(x):\n    return torch.tensor(x.reshape(-1).tolist(), dtype=x.dtype)",
    ],
    "answer_broadcast_shape": [
        "def answer_broadcast_shape():\n    return (2, 3, 5)",
        "def answer_broadcast_shape():\n    return torch.Size([2, 3, 5])",
    ],
}

# Each wrong version must fail, and in the cell named: "visible" or "hidden".
WRONG = {
    "make_grid": [
        ("int64, the dtype arange gives", "visible",
         "def make_grid(rows, cols):\n    return torch.arange(rows * cols).reshape(rows, cols)"),
        ("column by column", "visible",
         "def make_grid(rows, cols):\n    return torch.arange(float(rows * cols)).reshape(cols, rows).T"),
        ("counting from 1", "visible",
         "def make_grid(rows, cols):\n    return torch.arange(1.0, rows * cols + 1).reshape(rows, cols)"),
        ("only the example", "hidden",
         "def make_grid(rows, cols):\n    return torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])"),
    ],
    "to_probabilities": [
        ("floor division", "visible",
         "def to_probabilities(counts):\n    return counts // counts.sum()"),
        ("dividing by the number of classes", "visible",
         "def to_probabilities(counts):\n    return counts.float() / len(counts)"),
        ("float64 in, float64 out", "hidden",
         "def to_probabilities(counts):\n    return counts / counts.sum()"),
        ("changes float input in place", "hidden",
         "def to_probabilities(counts):\n    if counts.is_floating_point():\n"
         "        counts /= counts.sum()\n        return counts.float()\n"
         "    return counts.float() / counts.sum()"),
    ],
    "last_column": [
        ("a slice keeps the dimension", "visible",
         "def last_column(x):\n    return x[:, -1:]"),
        ("the last row", "visible", "def last_column(x):\n    return x[-1]"),
        ("column 3 hard-coded", "hidden", "def last_column(x):\n    return x[:, 3]"),
        ("squeeze drops a length-1 row too", "hidden",
         "def last_column(x):\n    return x[:, -1:].squeeze()"),
    ],
    "zero_outliers": [
        ("changes its input", "visible",
         "def zero_outliers(x, limit):\n    x[x.abs() > limit] = 0\n    return x"),
        ("forgets abs", "visible",
         "def zero_outliers(x, limit):\n    return torch.where(x > limit, torch.zeros_like(x), x)"),
        ("float zero turns integers into floats", "hidden",
         "def zero_outliers(x, limit):\n    return torch.where(x.abs() > limit, 0.0, x)"),
        (">= instead of >", "hidden",
         "def zero_outliers(x, limit):\n    return torch.where(x.abs() >= limit, torch.zeros_like(x), x)"),
    ],
    "normalise_columns": [
        ("rows instead of columns", "visible",
         "def normalise_columns(x):\n"
         "    return (x - x.mean(dim=1, keepdim=True)) / x.std(dim=1, keepdim=True)"),
        ("population std", "visible",
         "def normalise_columns(x):\n    return (x - x.mean(dim=0)) / x.std(dim=0, correction=0)"),
        ("one mean and std for the whole tensor", "visible",
         "def normalise_columns(x):\n    return (x - x.mean()) / x.std()"),
        ("changes its input", "visible",
         "def normalise_columns(x):\n    x -= x.mean(dim=0)\n    x /= x.std(dim=0)\n    return x"),
        ("only the visible test's shape", "hidden",
         "def normalise_columns(x):\n    if x.shape != (4, 3):\n        return x - x.mean(dim=0)\n"
         "    return (x - x.mean(dim=0)) / x.std(dim=0)"),
    ],
    "safe_flatten": [
        ("reshape shares memory", "visible", "def safe_flatten(x):\n    return x.reshape(-1)"),
        ("flatten shares memory", "visible", "def safe_flatten(x):\n    return x.flatten()"),
        ("contiguous().view shares memory when x is contiguous", "visible",
         "def safe_flatten(x):\n    return x.contiguous().view(-1)"),
        ("memory order instead of row-major order", "hidden",
         "def safe_flatten(x):\n    return x.T.reshape(-1).clone() if not x.is_contiguous() "
         "else x.reshape(-1).clone()"),
        ("returns a 1-D input itself", "hidden",
         "def safe_flatten(x):\n    return x if x.dim() == 1 else x.reshape(-1).clone()"),
    ],
    "answer_broadcast_shape": [
        ("a list", "visible", "def answer_broadcast_shape():\n    return [2, 3, 5]"),
        ("a string", "visible", "def answer_broadcast_shape():\n    return '(2, 3, 5)'"),
        ("the wrong shape", "hidden", "def answer_broadcast_shape():\n    return (3, 2, 5)"),
    ],
}


@pytest.fixture(scope="module")
def cells():
    notebook = nbformat.read(PATH, as_version=4)
    return {nbgrader_meta(cell)["grade_id"]: cell.source for cell in notebook.cells
            if nbgrader_meta(cell).get("grade_id")}  # in notebook order


def checks(cells, exercise):
    """The exercise's test code in the order it runs, as (visible or hidden, source) pairs.

    A `*_hidden` cell counts as hidden as a whole; a cell that holds both splits at its marker.
    """
    test_ids = [grade_id for grade_id in cells if grade_id.startswith(f"test_{exercise}")]
    for grade_id in test_ids:
        source = cells[grade_id]
        if grade_id.endswith("_hidden"):
            yield "hidden", source
        elif HIDDEN in source:
            visible, hidden = source.split(HIDDEN, 1)
            yield "visible", visible
            yield "hidden", hidden
        else:
            yield "visible", source


def first_failure(cells, exercise, implementation):
    """Run the imports, `implementation`, then the test cells; return (cell, error) of the first failure."""
    namespace = {}
    exec(cells["imports"], namespace)
    exec(implementation, namespace)
    for name, source in checks(cells, exercise):
        try:
            exec(source, namespace)
        except Exception as error:  # noqa: BLE001 (any error fails the cell, as in nbgrader)
            return name, error
    return None, None


def test_every_exercise_is_covered(cells):
    solutions = {grade_id for grade_id, source in cells.items() if "### BEGIN SOLUTION" in source}
    assert solutions == set(EXERCISES), "add the notebook's new exercises to CORRECT and WRONG"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_solution_passes(cells, exercise, capsys):
    cell, error = first_failure(cells, exercise, cells[exercise])
    assert error is None, f"the notebook's own {exercise} fails its {cell} test: {error!r}"


@pytest.mark.parametrize("exercise, implementation",
                         [(name, code) for name, codes in CORRECT.items() for code in codes])
def test_correct_versions_pass(cells, exercise, implementation, capsys):
    cell, error = first_failure(cells, exercise, implementation)
    assert error is None, f"correct code fails the {cell} test of {exercise}: {error!r}\n{implementation}"


@pytest.mark.parametrize("exercise, mistake, expected_cell, implementation",
                         [(name, *case) for name, cases in WRONG.items() for case in cases],
                         ids=[f"{name}: {case[0]}" for name, cases in WRONG.items() for case in cases])
def test_wrong_versions_fail_where_expected(cells, exercise, mistake, expected_cell, implementation, capsys):
    cell, error = first_failure(cells, exercise, implementation)
    assert error is not None, f"{exercise} with the mistake '{mistake}' passes every test"
    assert cell == expected_cell, f"'{mistake}' should fail the {expected_cell} test, but failed the {cell} one"
    if cell == "visible":
        assert isinstance(error, AssertionError) and str(error), \
            f"a visible test should explain '{mistake}' in words, but raised {error!r}"
