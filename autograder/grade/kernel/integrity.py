"""Tamper detection: did learner code replace the grader's or torch's functions?

A learner cell can write `autograder.assert_passes = lambda *a, **k: None`, or
`torch.Tensor.backward = ...`, or rebind the notebook's own `assert_passes` name,
and every test cell after it would pass. We cannot stop Python code from doing
that, but we can notice it: the warm worker takes a `Snapshot` *before any learner
code exists* (the objects themselves are kept, so `is` comparisons are exact),
and the executor compares against it after every cell. Any difference is
tampering; the grader scores the affected test cells 0 and names what changed.

Watched: torch's global hook tables (hook_guard.py); every attribute of the grader's and the course's modules, of the torch
namespaces a training loop touches (`torch`, `torch.Tensor`, `torch.nn.Module`,
optimizers, autograd, functional), of IPython's shell that runs the cells, and
of `builtins`; the code, defaults and globals of every watched function; the
trace and profile hooks; `sys.modules` entries. Names the learner *adds* are
fine (a new helper on `torch.Tensor` fakes nothing), unless they hide what a base
class or an object's class defines (shadowing.py: `TrainLoop.teach = ...` hides
`Exercise.teach`); replacing is not. What torch's own code changes in torch's
namespace (`torch.set_default_dtype` rebinds `torch.Storage`) or its classes (the
first `torch.compile` wraps the optimizers' methods) is not tampering (torch_setters.py). The grader's own data is put back before every test cell, and a
cached Report edited in place is tampering (grader_state.py).

Limits, said plainly: code running in the same process can, with enough effort
(ctypes, frame walking), forge anything in that process. This defends against
monkeypatching, the way a learner would actually fake a pass.
"""
import builtins
import sys
import types
from itertools import chain
from operator import attrgetter, is_, itemgetter

from autograder.grade.kernel.hook_guard import HookGuard
from autograder.grade.kernel.shadowing import ShadowCheck
from autograder.grade.kernel.torch_setters import SetterWatch, wraps_the_original

WATCHED_PREFIXES = ("autograder", "course_helpers", "IPython.core")
WATCHED_TORCH = ("torch", "torch.nn.modules.module", "torch.optim.optimizer", "torch.autograd",
                 "torch.autograd.grad_mode", "torch.nn.functional", "torch.nn.utils.clip_grad",
                 "torch.optim.sgd", "torch.optim.adam", "torch.optim.adamw", "torch.utils.data.dataloader",
                 "torch.overrides", "torch._tensor")
FUNCTION_PARTS = ("__code__", "__defaults__", "__kwdefaults__", "__globals__")
# Display-only shell methods: replacing them cannot fake a pass, since the executor
# records a failed cell from the cell's own result, not from what these print. So,
# as under nbgrader (whose own cheat-attempt test replaces `showtraceback`), the
# cells that pass still score and the ones that fail still score 0.
DISPLAY_ONLY = {"IPython.core.interactiveshell.InteractiveShell": {"showtraceback", "showsyntaxerror"}}


class Snapshot:
    """Every watched (owner, name) -> the object that was there. Only code-like
    values are watched (modules, classes, functions, descriptors): plain data such
    as counters and caches change legitimately while a notebook runs."""

    def __init__(self):
        self.entries: list[tuple[object, str, str, object]] = []  # owner, place, name, value
        self.modules: dict[str, types.ModuleType] = {}
        self.instances: list[tuple[object, str, dict]] = []
        self.classes: list[tuple[type, str]] = []
        self.hook_lists, self.hooks = None, {}
        self.torch_hooks: HookGuard | None = None
        self.setters: SetterWatch | None = None
        self.trace = (sys.gettrace(), sys.getprofile())
        for name, module in list(sys.modules.items()):
            if isinstance(module, types.ModuleType) and _is_watched(name):
                self.modules[name] = module
                self._record_namespace(module, name)
        self._record_namespace(builtins, "builtins")
        for cls in [_get("torch", "Tensor"), _get("torch.nn", "Module"), _get("torch.optim", "Optimizer")]:
            if cls is not None:
                for sub in [cls, *_subclasses(cls)]:
                    self._record_class(sub, f"{sub.__module__}.{sub.__qualname__}")
        self._quick = _QuickCheck(self.entries)
        self.shadows = ShadowCheck(self.classes, _grader_objects(self.modules))

    def _record_namespace(self, module, place: str) -> None:
        for name, value in list(vars(module).items()):
            if _is_code_like(value):
                self.entries.append((module, place, name, value))
                if isinstance(value, type) and getattr(value, "__module__", None) == module.__name__:
                    self._record_class(value, f"{place}.{name}")
                self._record_function(value, f"{place}.{name}")

    def _record_class(self, cls: type, place: str) -> None:
        self.classes.append((cls, place))
        display_only = DISPLAY_ONLY.get(f"{cls.__module__}.{cls.__qualname__}", set())
        for name, value in list(vars(cls).items()):
            if name in display_only:
                continue
            if _is_code_like(value) or isinstance(value, (classmethod, staticmethod, property)):
                self.entries.append((cls, place, name, value))
                self._record_function(value, f"{place}.{name}")

    def _record_function(self, value, place: str) -> None:
        function = getattr(value, "__func__", value)
        if isinstance(function, types.FunctionType):
            for part in FUNCTION_PARTS:
                self.entries.append((function, place, part, getattr(function, part)))

    def watch_instance(self, obj, place: str) -> None:
        """Also watch one object's own attributes (the shell running the cells):
        a method assigned onto the instance shadows its class's method."""
        self.instances.append((obj, place, dict(vars(obj))))

    def watch_shell_hooks(self, shell) -> None:
        """IPython lets code hook into how later cells run: event callbacks (run after
        a cell, they could erase its error), AST and input transformers (they could
        rewrite a test cell), custom exception handlers. None may be added."""
        self.hook_lists = lambda: {
            **{f"event '{name}' callbacks": list(callbacks) for name, callbacks in shell.events.callbacks.items()},
            "AST transformers": list(shell.ast_transformers),
            "input transformers": list(shell.input_transformers_post) + list(shell.input_transformers_cleanup),
            "custom exception handlers": list(shell.custom_exceptions)}
        self.hooks = self.hook_lists()

    def watch_torch_hooks(self) -> None:
        """Guard torch's global hook tables, which the loop inspector relies on (hook_guard.py)."""
        self.torch_hooks = HookGuard()

    def watch_torch_setters(self) -> None:
        """Let torch's own code rebind names in the watched torch modules (torch_setters.py)."""
        self.setters = SetterWatch([module for name, module in self.modules.items() if name in WATCHED_TORCH])

    def changes(self, limit: int = 5) -> list[str]:
        """Plain-words list of what differs now, empty when nothing was replaced."""
        found = [] if self.torch_hooks is None else self.torch_hooks.changes()
        if self.hook_lists is not None:
            now = self.hook_lists()
            found += [f"IPython {name} were changed (get_ipython() hooks)" for name, items in now.items()
                      if items != self.hooks.get(name, [])]
        for obj, place, before in self.instances:
            for name, value in list(vars(obj).items()):
                if callable(value) and before.get(name, _MISSING) is not value and hasattr(type(obj), name):
                    found.append(f"`{place}.{name}` was replaced")
        found += self.shadows.changes()
        if self.setters is not None:
            found += self.setters.changes()
        if (sys.gettrace(), sys.getprofile()) != self.trace:
            found.append("a trace or profile hook was installed (sys.settrace / sys.setprofile)")
        for name, module in self.modules.items():
            if sys.modules.get(name) is not module:
                found.append(f"module `{name}` was replaced in sys.modules")
        if self._quick.unchanged():
            return found
        accepted, wrappers = False, []
        for number, (owner, place, name, value) in enumerate(self.entries):
            if len(found) >= limit:
                break
            if name in FUNCTION_PARTS:
                now = getattr(owner, name, _MISSING)
            else:
                now = vars(owner).get(name, _MISSING)
            if now is value:
                continue
            if (self.setters is not None and self.setters.made_by_torch(owner, name, now)) or \
                    (name not in FUNCTION_PARTS and _is_torchs(owner) and wraps_the_original(now, value)):
                self.entries[number] = (owner, place, name, now)  # torch's own doing: the new normal
                wrappers.append((now, f"{place}.{name}"))
                accepted = True
                continue
            what = "was deleted" if now is _MISSING else "was replaced"
            found.append(f"`{place}` had its {name} changed" if name in FUNCTION_PARTS
                         else f"`{place}.{name}` {what}")
        if accepted:
            for wrapper, place in wrappers:  # watched from now on, as what it replaced was
                self._record_function(wrapper, place)
            self._quick = _QuickCheck(self.entries)
        return found


_MISSING = object()


class _QuickCheck:
    """A view of a snapshot's entries that says, fast, whether every watched value is
    still the very object recorded.

    It runs after every cell, and a snapshot holds about 33 000 entries: looked at one by
    one in Python that took 11 ms a cell, half a second of a 48-cell notebook. Here each
    owner's names are read in one `itemgetter` call, every function's code, defaults and
    globals in one `attrgetter` pass, and compared by identity with `operator.is_`, all
    in C. Only when something differs does `Snapshot.changes` walk the entries to say what.
    """

    def __init__(self, entries: list):
        names: dict[int, tuple[object, list, list]] = {}
        self.functions, parts = [], []
        for owner, _, name, value in entries:
            if name in FUNCTION_PARTS:
                if name == FUNCTION_PARTS[0]:
                    self.functions.append(owner)
                parts.append(value)
            else:
                names.setdefault(id(owner), (owner, [], []))
                names[id(owner)][1].append(name)
                names[id(owner)][2].append(value)
        self.parts = parts
        self.read_parts = attrgetter(*FUNCTION_PARTS)
        # vars() of a module or a class is a live view that cannot be replaced: kept once.
        self.namespaces = [(vars(owner), itemgetter(*keys, keys[0]), tuple(values) + (values[0],))
                           for owner, keys, values in names.values()]  # keys[0] twice: always a tuple

    def unchanged(self) -> bool:
        try:
            for namespace, read, values in self.namespaces:
                if not all(map(is_, read(namespace), values)):
                    return False
        except KeyError:  # a watched name was deleted
            return False
        return all(map(is_, chain.from_iterable(map(self.read_parts, self.functions)), self.parts))


def _is_torchs(owner) -> bool:
    """A torch module or class (what torch's own wrappers may be accepted on)."""
    name = owner.__name__ if isinstance(owner, types.ModuleType) else getattr(owner, "__module__", None)
    return isinstance(owner, (types.ModuleType, type)) and isinstance(name, str) and name.split(".")[0] == "torch"


def _is_code_like(value) -> bool:
    return isinstance(value, (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType,
                              types.MethodType, types.MethodDescriptorType, types.WrapperDescriptorType,
                              types.GetSetDescriptorType, types.MemberDescriptorType))


def _is_watched(name: str) -> bool:
    return name.startswith(WATCHED_PREFIXES) or name in WATCHED_TORCH


def _get(module_name: str, attr: str):
    module = sys.modules.get(module_name)
    return getattr(module, attr, None) if module is not None else None


def _subclasses(cls: type) -> list[type]:
    found, todo = [], list(cls.__subclasses__())
    while todo:
        sub = todo.pop()
        if sub.__module__.startswith("torch"):
            found.append(sub)
            todo.extend(sub.__subclasses__())
    return found


def watched_bindings(namespace: dict) -> dict[str, object]:
    """Names in the notebook's namespace bound to grader or torch modules, functions
    or classes (e.g. `assert_passes` after `from autograder import assert_passes`).
    Taken after each instructor cell; a learner cell rebinding one is tampering."""
    found = {}
    for name, value in list(namespace.items()):
        if isinstance(value, types.ModuleType):
            origin = value.__name__
        elif isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType)):
            origin = getattr(value, "__module__", None) or ""
        else:
            continue
        if origin.startswith(("autograder", "torch", "course_helpers")):
            found[name] = value
    return found


def rebound(namespace: dict, bindings: dict[str, object]) -> list[str]:
    return [f"the notebook name `{name}` was rebound away from `{_describe(value)}`"
            for name, value in bindings.items() if namespace.get(name, _MISSING) is not value]


def _describe(value) -> str:
    if isinstance(value, types.ModuleType):
        return value.__name__
    return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', '?')}"


def _grader_objects(modules: dict[str, types.ModuleType]) -> list[tuple[object, str]]:
    """The grader's and the course's own objects that live in their modules (the exercise
    specs in `EXERCISES`, say), directly or in a module-level container."""
    found, seen = [], set()
    for name, module in modules.items():
        if not name.startswith(("autograder", "course_helpers")):
            continue
        for attr, value in list(vars(module).items()):
            items = [(value, f"{name}.{attr}")]
            if type(value) in (dict, list, tuple, set) or _is_ordered_dict(value):
                members = value.items() if isinstance(value, dict) else enumerate(value)
                items = [(item, f"{name}.{attr}[{key!r}]") for key, item in members]
            for item, place in items:
                kind = type(item)
                if id(item) in seen or _is_code_like(item) or not kind.__module__.startswith(("autograder", "course_helpers")):
                    continue
                seen.add(id(item))
                found.append((item, place))
    return found


def _is_ordered_dict(value) -> bool:
    from collections import OrderedDict
    return type(value) is OrderedDict
