"""The grader's own data (caches, registries) as the last instructor cell left it.

Replacing functions is caught by integrity.Snapshot; this covers the other way to
fake a pass: writing into the grader's data, such as a passing Report stored in the
inspector's cache under the learner's function. Learner cells may legitimately fill
that cache (a self-check does), so additions are not flagged but undone: whatever a
learner cell put in the grader's containers is gone before the next instructor cell
runs. Objects *inside* the containers are not copied; instead each Report-like record
there (anything of the grader's with `to_dict`) is fingerprinted when captured, and a
learner cell that edited one in place (`report.diagnoses.clear()`) is tampering.
"""
import json
import sys
import types
from collections import OrderedDict


class GraderState:
    def __init__(self):
        self.saved: list[tuple[object, str, object, object]] = []  # module, name, container, copy
        self.records: list[tuple[object, str, type, str]] = []  # record, where, its class, fingerprint

    def capture(self) -> None:
        self.saved, self.records = [], []
        for name, module in list(sys.modules.items()):
            if not (isinstance(module, types.ModuleType) and name.startswith("autograder")):
                continue
            for attr, value in list(vars(module).items()):
                if type(value) in (dict, list, set) or type(value) is OrderedDict:
                    self.saved.append((module, attr, value, value.copy()))
                    self.records += [(record, f"{name}.{attr}", type(record), _fingerprint(record))
                                     for record in _records_in(value)]

    def restore(self) -> None:
        for module, attr, container, copy in self.saved:
            setattr(module, attr, container)
            if isinstance(container, list):
                container[:] = copy
            else:
                container.clear()
                container.update(copy)

    def edited(self) -> list[str]:
        """Records captured with the data that are no longer what they were."""
        return [f"a {kind.__name__} the grader had cached (in `{where}`) was edited"
                for record, where, kind, before in self.records
                if type(record) is not kind or _fingerprint(record) != before][:3]


def _records_in(container) -> list:
    """The grader's records held in a container, one level of tuples deep (the inspector's
    cache holds (function reference, Report) pairs)."""
    items = container.values() if isinstance(container, dict) else container
    found = []
    for item in list(items):
        for value in (item if type(item) is tuple else (item,)):
            if hasattr(type(value), "to_dict") and type(value).__module__.startswith("autograder"):
                found.append(value)
    return found


def _fingerprint(record) -> str:
    try:
        return json.dumps(record.to_dict(), sort_keys=True, default=repr)
    except Exception as error:  # a record that cannot say what it holds any more was broken
        return f"unreadable: {type(error).__name__}"
