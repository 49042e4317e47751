"""Tamper detection for torch's global hook tables, which the loop inspector watches a loop with.

The inspector sees a learner's loop through global module forward hooks and global
optimizer step hooks (autograder/inspector/recorder.py). A submission that empties
those tables, deletes the inspector's entries or swaps a table for another object
blinds it: the loop would read as "never called the model", or pass unseen. Those
tables are plain dicts, so integrity.Snapshot (which watches code) cannot see it.

So the warm worker, before any learner code exists, replaces each table with a
`GuardedTable` (an OrderedDict: torch uses it exactly as before) and puts one
do-nothing sentinel hook in each. Then:

- an entry the grader made (the sentinel, the inspector's hooks) removed or
  overwritten by code that is not the grader's is tampering, named with the learner
  function that did it; a learner's own hooks come and go freely;
- an entry removed behind the table's back (`dict.clear(table)`) is noticed the next
  time the grader touches the table (the inspector restores the tables after each
  run), or at the end of the cell, by the missing sentinel;
- a table object replaced in its module is tampering;
- a torch function or dispatch mode of the notebook's own left active after a cell is
  tampering: it can change what any torch call in a later test returns (torch's own,
  such as the one `torch.set_default_device` leaves, is not).
"""
import os
import sys
from collections import OrderedDict

import torch

import autograder

# The tables the inspector registers into. (Not the backward tables: the inspector does
# not use them, and any entry there makes every module wrap its outputs for backward.)
TABLES = {
    "global forward pre-hooks": ("torch.nn.modules.module", "_global_forward_pre_hooks"),
    "global forward hooks": ("torch.nn.modules.module", "_global_forward_hooks"),
    "global optimizer step pre-hooks": ("torch.optim.optimizer", "_global_optimizer_pre_hooks"),
    "global optimizer step post-hooks": ("torch.optim.optimizer", "_global_optimizer_post_hooks"),
}
# The grader's own code, and the code looked through to find who called it: torch's
# and the standard library's. Kept as default arguments, which integrity.Snapshot watches.
_GRADER_DIR = os.path.dirname(os.path.abspath(autograder.__file__)) + os.sep
_LOOKED_THROUGH = tuple(os.path.dirname(os.path.abspath(path)) + os.sep for path in (os.__file__, torch.__file__))


def _learner_caller(grader=_GRADER_DIR, skipped=_LOOKED_THROUGH, here=__file__) -> str | None:
    """The learner function behind the current change of a table, or None when the
    grader made it. torch and the standard library are looked through (`handle.remove()`
    runs in torch's code, on behalf of whoever called it)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename == here:
        frame = frame.f_back
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(grader):
            return None
        if filename.startswith(skipped):
            frame = frame.f_back
            continue
        name = frame.f_code.co_name
        return "a notebook cell" if name == "<module>" else f"`{name}`"
    return None


class GuardedTable(OrderedDict):
    """A torch hook table that knows which entries the grader made and who removes them."""

    def __init__(self, items, label: str, guard: "HookGuard"):
        super().__init__(items)
        self.label, self.guard = label, guard
        self.grader_keys = set(self)

    def __setitem__(self, key, value):
        caller = _learner_caller()
        if caller is None:
            self.grader_keys.add(key)
        elif key in self.grader_keys and key in self:
            self.guard.tampered(self.label, f"torch's {self.label} (which the grader watches the loop with) "
                                            f"had an entry replaced by {caller}")
        super().__setitem__(key, value)

    def __delitem__(self, key):
        self._removing([key])
        super().__delitem__(key)

    def pop(self, key, *default):
        if key in self:
            self._removing([key])
        return super().pop(key, *default)

    def popitem(self, last=True):
        if self:
            self._removing([next(reversed(self)) if last else next(iter(self))])
        return super().popitem(last)

    def clear(self):
        self._removing(list(self))
        super().clear()

    def _removing(self, keys) -> None:
        caller = _learner_caller()
        if caller is None:
            self.guard.check_sentinel(self)
            self.grader_keys.difference_update(keys)
        elif self.grader_keys.intersection(keys):
            self.guard.tampered(self.label, f"torch's {self.label} (which the grader watches the loop with) "
                                            f"were removed by {caller}")
            self.grader_keys.difference_update(keys)


class HookGuard:
    """Installed once in the warm worker; `changes()` after every cell."""

    def __init__(self):
        self.found: dict[str, str] = {}  # what was tampered with -> in words (the first finding)
        self.tables: dict[str, tuple[object, str, GuardedTable, object]] = {}
        for label, (module_name, attr) in TABLES.items():
            module = sys.modules.get(module_name)
            table = getattr(module, attr, None)
            if not isinstance(table, dict):
                continue
            guarded = GuardedTable(table, label, self)
            setattr(module, attr, guarded)
            sentinel = object()
            guarded[sentinel] = _do_nothing
            self.tables[label] = (module, attr, guarded, sentinel)
        self.modes = {id(mode) for mode in self._active_modes()}

    @staticmethod
    def _active_modes() -> list:
        """The torch function and dispatch modes active now, innermost last."""
        try:
            native = torch._C
            modes = [native._get_function_stack_at(i) for i in range(native._len_torch_function_stack())]
            return modes + [native._get_dispatch_stack_at(i) for i in range(native._len_torch_dispatch_stack())]
        except (AttributeError, RuntimeError):
            return []

    def _foreign_modes(self) -> list[str]:
        """Modes left active that torch itself did not make (`torch.set_default_device` makes
        one, which is the learner's right), nor were active before any learner code."""
        return [type(mode).__qualname__ for mode in self._active_modes()
                if id(mode) not in self.modes and not type(mode).__module__.startswith("torch.")]

    def tampered(self, what: str, words: str) -> None:
        self.found.setdefault(what, words)

    def check_sentinel(self, table: GuardedTable) -> None:
        entry = self.tables.get(table.label)
        if entry is not None and entry[3] not in table:
            self.tampered(table.label, f"torch's {table.label} (which the grader watches the loop with) were "
                                       "emptied behind the grader's back")

    def remove(self) -> None:
        """Put plain tables back (tests use this; a worker keeps its guard for life)."""
        for module, attr, guarded, sentinel in self.tables.values():
            if getattr(module, attr, None) is guarded:
                setattr(module, attr, OrderedDict((k, v) for k, v in guarded.items() if k is not sentinel))
        self.tables = {}

    def changes(self) -> list[str]:
        for label, (module, attr, guarded, sentinel) in self.tables.items():
            if getattr(module, attr, None) is not guarded:
                self.tampered(label, f"torch's {label} table (which the grader watches the loop with) was replaced")
            else:
                self.check_sentinel(guarded)
        foreign = self._foreign_modes()
        if foreign:
            self.tampered("modes", f"a torch function or dispatch mode of the notebook's own (`{foreign[0]}`) was "
                                   "left active (it can change what torch calls in later cells return)")
        return list(self.found.values())


def _do_nothing(*args, **kwargs):
    return None
