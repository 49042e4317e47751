"""Names added where they hide what is already there: tampering that replaces nothing.

`TrainLoop.teach = lambda self, diagnoses: []` replaces no attribute of `TrainLoop`
(it inherits `teach` from `Exercise`), yet every diagnosis of the exercise vanishes and
a loop without `zero_grad` gets full marks. Likewise `torch.optim.SGD.zero_grad = ...`
hides `Optimizer.zero_grad`, and `EXERCISES["train_loop"].hidden = {...}` set on the
exercise object hides its class's hidden fixtures. So for every class the snapshot
watches (the grader's, the course's, torch's and their subclasses) a name added later
that a base class defines is tampering, and so is an attribute set on one of the
grader's own objects that its class defines, or giving such an object another class.
A name that hides nothing (a new helper) is fine.
"""
from itertools import starmap
from operator import eq


class ShadowCheck:
    def __init__(self, classes: list[tuple[type, str]], objects: list[tuple[object, str]]):
        self.classes = [(cls, place, frozenset(vars(cls))) for cls, place in classes]
        self.objects = [(obj, place, type(obj), frozenset(getattr(obj, "__dict__", ())))
                        for obj, place in objects]
        self._views = [vars(cls).keys() for cls, _, _ in self.classes]
        self._names = [names for _, _, names in self.classes]

    def changes(self) -> list[str]:
        found = []
        if not all(starmap(eq, zip(self._views, self._names))):  # compared in C: it runs after every cell
            for cls, place, names in self.classes:
                for name in sorted(vars(cls).keys() - names):
                    base = next((b for b in cls.__mro__[1:] if name in vars(b)), None)
                    if base is not None:
                        found.append(f"`{place}.{name}` was added, hiding `{base.__module__}.{base.__qualname__}.{name}`")
        for obj, place, cls, names in self.objects:
            if type(obj) is not cls:
                found.append(f"`{place}` was given another class (`{type(obj).__qualname__}`)")
                continue
            added = set(getattr(obj, "__dict__", ())) - names
            found += [f"`{place}.{name}` was set on the object, hiding its class's `{name}`"
                      for name in sorted(added) if hasattr(cls, name)]
        return found
