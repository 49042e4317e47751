"""Tampering, exactly: what fakes a pass is caught, what torch offers every user is not.

Both sides, on the snapshot the warm worker takes before any learner code (in this
process, undone after each test). Caught: a method given to a grader or torch class
that hides its base class's (`TrainLoop.teach`, `SGD.zero_grad`), an attribute set
on one of the grader's own objects that hides its class's, a Report cached by an
earlier cell edited in place, a torch name rebound by learner code (even to another
torch object, even where torch's own setter rebinds the same name), a mode of the
notebook's own left on. Not caught: torch's setters and their like (they change
torch's namespace by design), new helpers that hide nothing.
"""
import pytest
import torch

import autograder.api as api
from autograder.exercises import EXERCISES
from autograder.exercises.base import Exercise
from autograder.exercises.train_loop import TrainLoop
from autograder.grade.kernel import integrity
from autograder.grade.kernel.grader_state import GraderState


@pytest.fixture(scope="module")
def snapshot():
    import torch._dynamo  # noqa: F401  (the worker imports it before its snapshot: it rewraps manual_seed)
    taken = integrity.Snapshot()
    taken.watch_torch_hooks()
    taken.watch_torch_setters()
    yield taken
    taken.setters.remove()
    taken.torch_hooks.remove()


@pytest.fixture
def clean(snapshot):
    """A test starts and ends with nothing changed since the snapshot."""
    dtype = torch.get_default_dtype()
    assert snapshot.changes() == []
    yield snapshot
    torch.set_default_dtype(dtype)
    assert snapshot.changes() == [], "a test left a change behind"


HONEST = {
    "set_default_dtype": lambda: torch.set_default_dtype(torch.float64),
    "set_default_dtype float16": lambda: torch.set_default_dtype(torch.float16),
    "manual_seed": lambda: torch.manual_seed(1234),
    "set_num_threads": lambda: torch.set_num_threads(1),
    "set_printoptions": lambda: torch.set_printoptions(precision=3, sci_mode=False),
    "use_deterministic_algorithms": lambda: torch.use_deterministic_algorithms(True),
    "set_float32_matmul_precision": lambda: torch.set_float32_matmul_precision("high"),
    "set_detect_anomaly": lambda: torch.autograd.set_detect_anomaly(True),
    "set_default_device": lambda: torch.set_default_device("cpu"),
    "set_flush_denormal": lambda: torch.set_flush_denormal(True),
    "a helper added to Tensor": lambda: setattr(torch.Tensor, "course_helper_norm", lambda self: self.norm()),
}
UNDO = {
    "use_deterministic_algorithms": lambda: torch.use_deterministic_algorithms(False),
    "set_float32_matmul_precision": lambda: torch.set_float32_matmul_precision("highest"),
    "set_detect_anomaly": lambda: torch.autograd.set_detect_anomaly(False),
    "set_default_device": lambda: torch.set_default_device(None),
    "set_flush_denormal": lambda: torch.set_flush_denormal(False),
    "a helper added to Tensor": lambda: delattr(torch.Tensor, "course_helper_norm"),
}


@pytest.mark.parametrize("what", sorted(HONEST))
def test_what_torch_offers_every_user_is_not_tampering(clean, what):
    HONEST[what]()
    try:
        assert clean.changes() == [], what
        assert clean.changes() == []  # and it stays so, cell after cell
    finally:
        UNDO.get(what, lambda: None)()


def test_torchs_own_rebinding_is_accepted_only_to_the_object_torch_bound(clean):
    """After set_default_dtype rebinds torch.Storage, the learner rebinding it is still tampering."""
    torch.set_default_dtype(torch.float64)
    assert clean.changes() == []
    honest = torch.Storage
    try:
        torch.Storage = torch.FloatStorage
        assert clean.changes() == ["`torch.Storage` was replaced"]
    finally:
        torch.Storage = honest  # (a learner's assignment: torch's note is gone, so it stays flagged)
        torch.set_default_dtype(torch.float32)  # torch's own setter puts the accepted binding back
    assert clean.changes() == []


def check(snapshot, change, undo) -> list[str]:
    change()
    try:
        return snapshot.changes()
    finally:
        undo()


def test_a_method_that_hides_the_base_class_one_is_tampering(clean):
    """`TrainLoop.teach` did not exist: TrainLoop inherits Exercise's. Defining it to drop
    every diagnosis replaces nothing, and used to give a loop without zero_grad full marks."""
    found = check(clean, lambda: setattr(TrainLoop, "teach", lambda self, diagnoses: []),
                  lambda: delattr(TrainLoop, "teach"))
    assert any("`autograder.exercises.train_loop.TrainLoop.teach` was added, hiding "
               "`autograder.exercises.base.Exercise.teach`" in line for line in found), found
    found = check(clean, lambda: setattr(torch.optim.SGD, "zero_grad", lambda self, set_to_none=True: None),
                  lambda: delattr(torch.optim.SGD, "zero_grad"))
    assert any("SGD.zero_grad` was added, hiding `torch.optim.optimizer.Optimizer.zero_grad`" in line
               for line in found), found


def test_an_attribute_set_on_a_grader_object_that_hides_its_class_is_tampering(clean):
    exercise = EXERCISES["train_loop"]
    found = check(clean, lambda: setattr(exercise, "teach", lambda diagnoses: []), lambda: delattr(exercise, "teach"))
    assert any("EXERCISES['train_loop'].teach` was set on the object, hiding its class's `teach`" in line
               for line in found), found
    found = check(clean, lambda: setattr(exercise, "hidden", {"seed": 0}), lambda: delattr(exercise, "hidden"))
    assert any(".hidden` was set on the object" in line for line in found), found

    class Lenient(TrainLoop):
        def teach(self, diagnoses):
            return []
    found = check(clean, lambda: setattr(exercise, "__class__", Lenient), lambda: setattr(exercise, "__class__", TrainLoop))
    assert any("was given another class (`" in line and "Lenient" in line for line in found), found


def test_a_learners_own_subclass_is_not_tampering(clean):
    """Learners subclass torch's classes all the time (their own models): that hides nothing of the grader's."""
    class Net(torch.nn.Module):
        def forward(self, x):
            return x

    class Teacher(Exercise):
        def teach(self, diagnoses):
            return diagnoses
    assert Net()(torch.ones(1)).item() == 1 and Teacher().teach([]) == []
    assert clean.changes() == []


def test_a_rebinding_from_learner_code_is_tampering_however_it_is_written(clean):
    original = torch.allclose
    for how in (lambda value: setattr(torch, "allclose", value),
                lambda value: object.__setattr__(torch, "allclose", value),
                lambda value: vars(torch).__setitem__("allclose", value)):
        how(torch.is_tensor)  # a torch object that is True for any tensor: still not torch's doing
        try:
            assert clean.changes() == ["`torch.allclose` was replaced"]
        finally:
            vars(torch)["allclose"] = original


def test_a_mode_of_the_notebooks_own_left_on_is_tampering(clean):
    from torch.overrides import TorchFunctionMode

    class Everything(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    mode = Everything()
    mode.__enter__()
    try:
        assert any("mode of the notebook's own (`" in line and "Everything" in line for line in clean.changes())
    finally:
        mode.__exit__(None, None, None)
    clean.torch_hooks.found.clear()  # the guard keeps what it found for the run; this test is over


def correct(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def no_zero_grad(model, loss_fn, optimizer, X, y, epochs):
    model.train()
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_a_report_cached_by_an_earlier_cell_edited_in_place_is_tampering():
    """A test cell caches the Report of a loop without zero_grad; a learner cell that empties
    its diagnoses would have the next test of the same fixtures pass."""
    state = GraderState()
    report = api.inspect("train_loop", no_zero_grad)  # a test cell caches it
    assert "missing-zero-grad" in report.codes
    state.capture()
    assert state.edited() == []
    added = api.inspect("train_loop", no_zero_grad, hidden=True)  # a learner cell's own self-check
    assert state.edited() == []  # added, not edited
    kept = list(report.diagnoses)
    report.diagnoses.clear()
    try:
        assert api.inspect("train_loop", no_zero_grad).passed  # what the next test would have seen
        assert state.edited() == ["a Report the grader had cached (in `autograder.api._CACHE`) was edited"]
    finally:
        report.diagnoses[:] = kept
    assert state.edited() == []
    state.restore()  # what the learner cell added is gone before the next test cell
    cached = [value[1] for value in api._CACHE.values()]
    assert any(item is report for item in cached) and not any(item is added for item in cached)


def test_torch_compiles_own_wrapping_of_torchs_methods_is_not_tampering(clean):
    """The first `torch.compile` wraps every optimizer's `_init_group` (on AdamW: a name it
    inherits from Adam) and `Module.__init__` in torch's own functions that call the very
    methods they replace. A learner who compiles a model did nothing to the grader."""
    model = torch.compile(torch.nn.Linear(3, 1), backend="eager")
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    for _ in range(2):
        optimizer.zero_grad()
        model(torch.ones(4, 3)).sum().backward()
        optimizer.step()
    assert clean.changes() == []
    assert clean.changes() == []  # and it stays so, cell after cell


def test_a_wrapper_around_anything_but_the_original_or_of_the_learners_own_is_tampering(clean):
    """Accepted is only torch's own code wrapping the very method it replaced on a torch class."""
    import functools
    original = torch.optim.Optimizer.zero_grad

    def learners_wrapper(self, set_to_none=True):  # holds the original, but is the learner's code
        return None if self.param_groups else original(self, set_to_none)
    cases = [
        # torch's wrapper, around a learner's function that skips clearing the gradients
        (lambda: setattr(torch.optim.SGD, "zero_grad", torch.compiler.disable(lambda self, set_to_none=True: None)),
         lambda: delattr(torch.optim.SGD, "zero_grad"),
         "`torch.optim.sgd.SGD.zero_grad` was added, hiding `torch.optim.optimizer.Optimizer.zero_grad`"),
        # the learner's wrapper dressed as the original (functools.wraps), or holding it in its closure
        (lambda: setattr(torch.optim.Optimizer, "zero_grad", functools.wraps(original)(lambda self, *a, **k: None)),
         lambda: setattr(torch.optim.Optimizer, "zero_grad", original),
         "`torch.optim.optimizer.Optimizer.zero_grad` was replaced"),
        (lambda: setattr(torch.optim.Optimizer, "zero_grad", learners_wrapper),
         lambda: setattr(torch.optim.Optimizer, "zero_grad", original),
         "`torch.optim.optimizer.Optimizer.zero_grad` was replaced"),
        # torch's own wrapper of the original, but on a grader class: the grader's code is never swapped
        (lambda: setattr(Exercise, "teach", torch.compiler.disable(vars(Exercise)["teach"])),
         lambda: setattr(Exercise, "teach", vars(Exercise)["teach"].__wrapped__),
         "`autograder.exercises.base.Exercise.teach` was replaced"),
    ]
    for change, undo, expected in cases:
        found = check(clean, change, undo)
        assert expected in found, (expected, found)
