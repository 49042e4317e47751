"""Names added where they hide what is already there: tampering that replaces nothing.

`TrainLoop.teach = lambda self, diagnoses: []` replaces no attribute of `TrainLoop`
(it inherits `teach` from `Exercise`), yet every diagnosis of the exercise vanishes and
a loop without `zero_grad` gets full marks. Likewise `torch.optim.SGD.zero_grad = ...`
hides `Optimizer.zero_grad`, and `EXERCISES["train_loop"].hidden = {...}` set on the
exercise object hides its class's hidden fixtures. So for every class the snapshot
watches (the grader's, the course's, torch's and their subclasses) a name added later
that a base class defines is tampering, and so is an attribute set on one of the
grader's own objects that its class defines, or giving such an object another class.
A name that hides nothing (a new helper) is fine, and so is a wrapper torch's own code
puts on a torch class around the method it inherits (torch_setters.wraps_the_original:
the first `torch.compile` does that to the optimizers' `_init_group`).
"""
from itertools import starmap
from operator import eq

from autograder.grade.kernel.torch_setters import wraps_the_original


class ShadowCheck:
    def __init__(self, classes: list[tuple[type, str]], objects: list[tuple[object, str]]):
        self.classes = [(cls, place, frozenset(vars(cls))) for cls, place in classes]
        self.objects = [(obj, place, type(obj), frozenset(getattr(obj, "__dict__", ())))
                        for obj, place in objects]
        self._views = [vars(cls).keys() for cls, _, _ in self.classes]
        self._names = [names for _, _, names in self.classes]

    def _accept(self, cls: type, name: str) -> None:
        for number, (known, place, names) in enumerate(self.classes):
            if known is cls:
                self.classes[number] = (known, place, names | {name})
                self._names[number] = self.classes[number][2]

    def changes(self) -> list[str]:
        found = []
        if not all(starmap(eq, zip(self._views, self._names))):  # compared in C: it runs after every cell
            for cls, place, names in self.classes:
                for name in sorted(vars(cls).keys() - names):
                    base = next((b for b in cls.__mro__[1:] if name in vars(b)), None)
                    if base is None:
                        continue
                    if _is_torchs(cls) and _wraps_inherited(vars(cls)[name], vars(base)[name]):
                        self._accept(cls, name)  # torch's own wrapper of the method it inherits
                        continue
                    found.append(f"`{place}.{name}` was added, hiding `{base.__module__}.{base.__qualname__}.{name}`")
        for obj, place, cls, names in self.objects:
            if type(obj) is not cls:
                found.append(f"`{place}` was given another class (`{type(obj).__qualname__}`)")
                continue
            added = set(getattr(obj, "__dict__", ())) - names
            found += [f"`{place}.{name}` was set on the object, hiding its class's `{name}`"
                      for name in sorted(added) if hasattr(cls, name)]
        return found


def _is_torchs(cls: type) -> bool:
    return str(getattr(cls, "__module__", "")).split(".")[0] == "torch"


def _wraps_inherited(now, inherited) -> bool:
    """`now` is torch's wrapper of the inherited method, or of what that one wraps (torch
    may have wrapped the base class's method too, after or before this one)."""
    for _ in range(4):
        if inherited is None:
            return False
        if wraps_the_original(now, inherited):
            return True
        inherited = getattr(inherited, "__wrapped__", None)
    return False
