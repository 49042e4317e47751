"""Read the files a tracked run leaves in its folder, without trusting any of them.

`fit_tracked` writes `metrics.csv`, `config.json`, `best.pt` and `last.pt` into its
`run_dir`. Every reader here returns what it found *and* a sentence saying what is
wrong when something is (a missing file, a column that is not there, a checkpoint that
is not a state_dict), so the exercise can turn the sentence into a diagnosis with the
learner's own numbers in it. Nothing here raises on a learner's file.
"""
import csv
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import torch

COLUMNS = ("epoch", "train_loss", "val_loss", "val_acc", "lr", "checkpoint")
NUMBERS = ("train_loss", "val_loss", "val_acc", "lr")


@dataclass
class Row:
    """One epoch of metrics.csv, as numbers, with the precision each number was written at."""

    epoch: int
    values: dict  # column -> float
    precision: dict  # column -> half a unit of the last digit written
    checkpoint: str

    def matches(self, column: str, value: float) -> bool:
        """Whether the written number is `value`, up to the digits the file kept."""
        written = self.values[column]
        return abs(written - value) <= self.precision[column] + 1e-6 * max(abs(value), 1e-12)


def _half_unit(text: str) -> float:
    """Half a unit of the last digit written: '0.125' -> 0.0005, '1.2e-05' -> 5e-07."""
    try:
        exponent = Decimal(text.strip()).as_tuple().exponent
    except InvalidOperation:
        return 0.0
    return 0.5 * 10.0 ** exponent if isinstance(exponent, int) else 0.0


def read_metrics(run_dir: Path) -> tuple[list[Row] | None, str]:
    """The rows of run_dir/metrics.csv, or None and what is wrong with the file."""
    path = Path(run_dir) / "metrics.csv"
    if not path.is_file():
        return None, f"there is no {path.name} in run_dir"
    try:
        with path.open(newline="") as handle:
            table = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        return None, f"{path.name} could not be read as CSV ({type(error).__name__}: {error})"
    header = list(table[0]) if table else _header(path)
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        return None, (f"{path.name} has the columns {header}, which lack {missing} "
                      f"(it needs {list(COLUMNS)})")
    rows = []
    for number, line in enumerate(table, start=1):
        try:
            epoch = int(line["epoch"])
            values = {column: float(line[column]) for column in NUMBERS}
        except (TypeError, ValueError):
            shown = {column: line[column] for column in ("epoch", *NUMBERS)}
            return None, f"row {number} of {path.name} holds something that is not a number: {shown}"
        if not all(math.isfinite(v) for v in values.values()):
            return None, f"row {number} of {path.name} holds a value that is not finite: {values}"
        precision = {column: _half_unit(line[column]) for column in NUMBERS}
        rows.append(Row(epoch, values, precision, line["checkpoint"] or ""))
    return rows, ""


def _header(path: Path) -> list[str]:
    with path.open(newline="") as handle:
        return next(csv.reader(handle), [])


def names_best_checkpoint(text: str, run_dir: Path) -> bool:
    """Whether a checkpoint column names run_dir/best.pt (absolute, or relative to here or run_dir)."""
    if not text:
        return False
    best = (Path(run_dir) / "best.pt").resolve()
    path = Path(text)
    return path.resolve() == best or (Path(run_dir) / path).resolve() == best


def read_config(run_dir: Path) -> tuple[dict | None, str]:
    """run_dir/config.json as a dict, or None and what is wrong with it."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        return None, "there is no config.json in run_dir"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return None, f"config.json is not valid JSON ({type(error).__name__}: {error})"
    if not isinstance(config, dict):
        return None, f"config.json holds a {type(config).__name__}, not a JSON object of settings"
    return config, ""


def leaves(value):
    """Every (key, value) pair in nested dicts and lists, the key being the nearest dict key."""
    stack = [("", value)]
    while stack:
        key, item = stack.pop()
        if isinstance(item, dict):
            stack.extend((str(k), v) for k, v in item.items())
        elif isinstance(item, (list, tuple)):
            stack.extend((key, v) for v in item)
        else:
            yield key, item


def mappings(value):
    """`value` and every dict nested in it (through dicts, lists and tuples)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def load_checkpoint(path: Path, device, weights_only: bool = True) -> tuple[object, str]:
    """torch.load of a checkpoint, or None and why not.

    best.pt must load with `weights_only=True` (it is a state_dict: plain tensors).
    last.pt may hold Python's own random state too, so it is loaded as the learner's
    own code would load it; the grader runs that code anyway.
    """
    if not path.is_file():
        return None, f"there is no {path.name} in run_dir"
    try:
        return torch.load(path, map_location=device, weights_only=weights_only), ""
    except Exception as error:  # a pickled object, a truncated file: say which
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()  # torch's message has terminal colours
        first = text.splitlines()[0].split(". ")[0] if text else ""
        how = "torch.load(weights_only=True)" if weights_only else "torch.load"
        return None, f"{path.name} could not be loaded with {how} ({type(error).__name__}: {first[:160]})"


def is_state_dict_of(value, model: torch.nn.Module) -> bool:
    """A mapping with exactly the model's parameter and buffer names, all tensors."""
    if not isinstance(value, dict):
        return False
    return set(value) == set(model.state_dict()) and all(isinstance(v, torch.Tensor) for v in value.values())
