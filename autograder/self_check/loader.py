"""Find a learner's function in a `.py` file or an `.ipynb` notebook, without running their demos.

Only the definitions are executed: imports, `def`, `class`, and assignments of plain
constants, cell by cell, in order. A notebook's training demos, plots and test cells
would make a check slow and noisy, and the function never needs them. Jupyter magics
(`%...`, `!...`) are blanked out, keeping line numbers. An import that fails is skipped
(the function may not need it); a syntax error makes the file unusable.
"""
import ast
import json
import linecache
from pathlib import Path


class UnusableFile(Exception):
    """The file cannot be checked; the message says why, for the learner."""


def _cells(path: Path) -> list[tuple[str, str]]:
    """(source name, code) pairs: one for a .py file, one per code cell of a notebook."""
    if path.suffix == ".py":
        return [(str(path), path.read_text(encoding="utf-8"))]
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UnusableFile(f"{path} is not a readable notebook: {error}") from None
    cells = []
    for number, cell in enumerate(notebook.get("cells", []), 1):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            cells.append((f"{path} [cell {number}]", source))
    return cells


def _blank_magics(code: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines())


def _is_definition(node: ast.stmt) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        try:
            ast.literal_eval(node.value)
            return True
        except ValueError:
            return False
    return False


def load_function(path: str | Path, name: str):
    """The callable `name` defined in the file at `path`."""
    path = Path(path)
    if not path.is_file():
        raise UnusableFile(f"There is no file at {path}.")
    if path.suffix not in (".py", ".ipynb"):
        raise UnusableFile(f"{path} is neither a .py file nor an .ipynb notebook.")
    namespace = {"__name__": "__learner__", "__file__": str(path)}
    for source_name, code in _cells(path):
        code = _blank_magics(code)
        try:
            tree = ast.parse(code, filename=source_name)
        except SyntaxError as error:
            raise UnusableFile(f"{source_name}, line {error.lineno}: SyntaxError: {error.msg}") from None
        linecache.cache[source_name] = (len(code), None, code.splitlines(True), source_name)
        for node in tree.body:
            if not _is_definition(node):
                continue
            module = ast.Module(body=[node], type_ignores=[])
            try:
                exec(compile(module, source_name, "exec"), namespace)
            except Exception:  # noqa: BLE001 - an import the function may not need
                continue
    function = namespace.get(name)
    if function is None:
        raise UnusableFile(f"{path} defines no function named `{name}`. Name your function `{name}` "
                           f"(or pass --function NAME).")
    if not callable(function):
        raise UnusableFile(f"`{name}` in {path} is a {type(function).__name__}, not a function.")
    return function
