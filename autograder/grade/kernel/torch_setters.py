"""What torch's own code changes in torch's namespace is not tampering.

`torch.set_default_dtype(torch.float64)` rebinds `torch.Storage` (FloatStorage to
DoubleStorage): torch's setters change torch's namespace by design, and a snapshot that
called every rebound torch name tampering accused an honest learner (0/9, "torch.Storage
was replaced"). A learner's own `torch.allclose = ...` must still count.

The same holds for torch's classes: the first `torch.compile` wraps every optimizer's
`_init_group` (and `Module.__init__`) in a function of torch's own that calls the very
method it replaced. `wraps_the_original` accepts exactly that: a function whose code
lies in torch's package and that holds the object it replaced (as `__wrapped__` or in
its closure). A learner's own wrapper (code outside torch), or torch's wrapper around
anything else (`torch.compiler.disable(lambda self: [])`), stays tampering.

So each watched torch module is given, once in the warm worker, a subclass of its module
type whose `__setattr__` notes every rebinding made from torch's own code (the Python
frame that set it lies in torch's package; torch's C setters are called from there) and
the exact object it bound. The snapshot accepts a changed torch name only when torch
itself bound that very object there. `object.__setattr__`, `vars(torch)[...] = ...` and
any assignment from learner code leave no such note, and stay tampering.
"""
import os
import sys
import types


class SetterWatch:
    def __init__(self, modules: list[types.ModuleType]):
        torch_dir = _torch_dir()
        made: dict[tuple[int, str], object] = {}  # held only here and by the setters: no module-level data
        self.made_get, self.watched = made.get, []
        for module in modules:
            original = type(module)
            setter = _noting(made, torch_dir, original.__setattr__)
            watched = type(f"Watched{original.__name__.title()}", (original,), {"__setattr__": setter})
            module.__class__ = watched
            self.watched.append((module, original, watched, setter, setter.__code__))

    def made_by_torch(self, owner, name: str, now) -> bool:
        return isinstance(owner, types.ModuleType) and self.made_get((id(owner), name), _NOTHING) is now

    def changes(self) -> list[str]:
        return [f"the grader's watch on `{module.__name__}` was removed (its module type was changed)"
                for module, _, watched, setter, code in self.watched
                if type(module) is not watched or vars(watched).get("__setattr__") is not setter
                or setter.__code__ is not code]

    def remove(self) -> None:
        """Plain module types back (tests use this; a worker keeps its watch for life)."""
        for module, original, watched, _, _ in self.watched:
            if type(module) is watched:
                module.__class__ = original
        self.watched = []


_NOTHING = object()


def wraps_the_original(now, original) -> bool:
    """Whether `now` is a wrapper torch's own code built around `original` (see above)."""
    function = getattr(now, "__func__", now)
    code = getattr(function, "__code__", None)
    if code is None or not code.co_filename.startswith(_torch_dir()):
        return False
    if getattr(function, "__wrapped__", _NOTHING) is original:
        return True
    return any(_content(cell) is original for cell in function.__closure__ or ())


def _content(cell):
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return _NOTHING


def _torch_dir() -> str:
    return os.path.dirname(os.path.abspath(sys.modules["torch"].__file__)) + os.sep


def _noting(made: dict, torch_dir: str, set_attribute):
    frame = sys._getframe

    def __setattr__(module, name, value):
        if frame(1).f_code.co_filename.startswith(torch_dir):
            made[(id(module), name)] = value
        else:
            made.pop((id(module), name), None)
        set_attribute(module, name, value)
    return __setattr__
