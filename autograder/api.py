"""check, assert_passes, inspect: what notebook cells, hidden tests and tools call.

One run of a learner's function per (function, fixtures) is enough for every concern:
test cells for "order", "modes", "logging" ... of one exercise share a cached Report.
The cache key holds the function's identity and code, and the code of the functions
it calls by global name, so editing a helper and checking again runs afresh.
`check` always runs afresh: it is what a learner calls after changing something.
"""
import weakref
from collections import OrderedDict

from autograder.exercises import get_exercise
from autograder.handoff import failure
from autograder.runner import DEFAULT_TIME_LIMIT, run_exercise
from autograder.inspector.report import Report
from autograder.render import html, text

_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 1024  # Reports are small (no trace); course CI asks for each many times


def _code_of(function):
    code = getattr(function, "__code__", None)
    helpers = []
    if code is not None:
        names = getattr(function, "__globals__", {})
        for name in code.co_names:
            helper = names.get(name)
            helper_code = getattr(helper, "__code__", None)
            if helper_code is not None:
                helpers.append((name, helper_code))
    return code, tuple(helpers)


def _key(exercise, function, hidden, time_limit, overrides):
    return (exercise, hidden, time_limit, tuple(sorted(overrides.items(), key=lambda kv: kv[0])),
            id(function), _code_of(function))


def _store(key, function, report):
    try:
        alive = weakref.ref(function)
    except TypeError:
        alive = lambda: function  # noqa: E731 - objects without weak references are held
    _CACHE[key] = (alive, report)
    _CACHE.move_to_end(key)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)


def inspect(exercise: str, function, *, hidden: bool = False, time_limit: float = DEFAULT_TIME_LIMIT,
            **overrides) -> Report:
    """The Report for `function` on the exercise's public (or hidden) fixtures; nothing shown."""
    try:
        key = _key(exercise, function, hidden, time_limit, overrides)
        hash(key)
    except TypeError:
        return run_exercise(exercise, function, hidden=hidden, time_limit=time_limit, **overrides)
    cached = _CACHE.get(key)
    if cached is not None and cached[0]() is function:
        return cached[1]
    report = run_exercise(exercise, function, hidden=hidden, time_limit=time_limit, **overrides)
    _store(key, function, report)
    return report


def assert_passes(exercise: str, function, concern: str | None = None, *, hidden: bool = False,
                  time_limit: float = DEFAULT_TIME_LIMIT, **overrides) -> Report:
    """Raise AssertionError (the plain-text diagnoses, the Report as `.report`) unless
    `function` passes `concern`; under the grader the Report also goes out as data."""
    spec = get_exercise(exercise)
    if concern is not None and concern not in spec.concerns:
        raise ValueError(f"{exercise} checks the concerns {', '.join(spec.concerns)}; "
                         f"{concern!r} is not one of them")
    report = inspect(exercise, function, hidden=hidden, time_limit=time_limit, **overrides)
    failing = report.failing(concern)
    if failing:
        raise failure(report, failing, concern)
    return report


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def check(exercise: str, function, *, hidden: bool = False, time_limit: float = DEFAULT_TIME_LIMIT,
          **overrides) -> Report:
    """The learner's self-check: run afresh, show the result (HTML in a notebook), return it."""
    report = run_exercise(exercise, function, hidden=hidden, time_limit=time_limit, **overrides)
    try:
        _store(_key(exercise, function, hidden, time_limit, overrides), function, report)
    except TypeError:
        pass
    if _in_notebook():
        from IPython.display import display
        display({"text/html": html(report), "text/plain": text(report)}, raw=True)
        report._shown = True  # the cell's own Out[] would show it a second time
    else:
        print(text(report))
    return report
