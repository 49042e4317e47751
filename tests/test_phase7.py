"""Phase 7: the mystery runs show their symptoms, the fixes pass, the bugs fail.

Every number asserted here is computed by the course's own generator
(`course_helpers.mysteries`) on the run itself: the evidence must show each symptom
(NaN, a climb, chance-level validation, memory that grows, gradients cut to max_norm /
scale, a schedule that never warms up), and the same run with the notebook's reference
fix must not. The numbers the notebook's words state are checked against the runs too.
The graded test cells of the source notebook (hidden parts included) run here: with the
reference solution, which must pass, and with buggy versions, written differently, which
must fail, and correct ones written differently, which must pass.
(`tests/test_graded_answers.py` holds the graded questions of every phase to their rules.)
"""
import contextlib
import inspect as inspect_module
import math
import re

import nbformat
import pytest
import torch
from matplotlib.figure import Figure

from autograder import inspect as inspect_run
from autograder.self_check.loader import load_function
from course_helpers.mysteries import Evidence, mystery, rerun
from course_helpers.mysteries.data import digits_mlp
from course_helpers.mysteries.moves import MoveRecorder
from course_helpers.mysteries.pictures import evidence_figure, grad_table, log_text, memory_line, show_evidence
from course_helpers.mysteries.tools import gradient_norms, smoke_test
from notebook_tools import ROOT, cell_by_grade_id

NOTEBOOK = ROOT / "source" / "07_debugging" / "07_debugging.ipynb"
CHANCE = 0.1


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest (and steadiest on a busy CPU) on one thread; restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(NOTEBOOK, as_version=4)


def solution(name):
    """The reference solution `name`, as the notebook defines it."""
    return load_function(NOTEBOOK, name)


# ---------------------------------------------------------------- the evidence shows each symptom

def test_mystery_1_gradients_pile_up_until_nan_and_the_fix_does_not():
    evidence = mystery(1).run()
    nan_step = evidence.first_nan_step()
    assert nan_step is not None, "the piled-up run must end in a non-finite loss"
    assert len(evidence.step_loss) == 80, "the text says the table shows ten steps out of the eighty"
    first = evidence.step_loss[: evidence.batches_per_epoch]
    assert all(math.isfinite(v) for v in first) and first[-1] < first[0], "the first epoch still learns"
    norms = evidence.grad_norms["hidden.weight"]
    finite = [v for v in norms[: nan_step - 1] if math.isfinite(v)]
    assert finite[-1] > 10 * finite[0], f"the summed gradient must grow: {finite[0]:.3g} -> {finite[-1]:.3g}"
    assert set(evidence.nodes_alive) == {0}, "option D's explanation: the memory line stays at 0"
    fixed = mystery(1).run(loop=solution("train_epoch_fixed_1"))
    assert fixed.first_nan_step() is None
    assert fixed.log[-1]["val_loss"] < 0.2 * fixed.log[0]["val_loss"]
    assert max(fixed.grad_norms["hidden.weight"]) < finite[-1]


def test_mystery_2_zig_zags_then_climbs_and_a_rate_ten_times_smaller_learns():
    evidence = mystery(2).run()
    losses = evidence.column("train_loss")
    best = min(range(len(losses)), key=losses.__getitem__)
    assert best < len(losses) - 1, "the best epoch must come before the end"
    assert losses[-1] > 1.3 * losses[best], f"the loss must climb after its best: {losses}"
    rises = sum(later > earlier for earlier, later in zip(losses, losses[1:]))
    falls = sum(later < earlier for earlier, later in zip(losses, losses[1:]))
    assert rises and falls, f"zig-zag: the loss both rises and falls between epochs: {losses}"
    accuracy = evidence.column("val_acc")
    assert accuracy[-1] < max(accuracy) - 0.1
    assert max(range(len(accuracy)), key=accuracy.__getitem__) == 1, "option B: best accuracy in epoch 2"
    ten_times_smaller = mystery(2).run(lr=mystery(2).LEARNING_RATE / 10)
    assert ten_times_smaller.log[-1]["train_loss"] < 0.5 * ten_times_smaller.log[0]["train_loss"]
    assert ten_times_smaller.log[-1]["val_acc"] > 0.8, "option C: a rate 10 times smaller trains this model well"
    rate = solution("learning_rate_2")()
    fixed = mystery(2).run(lr=rate)
    assert fixed.log[-1]["train_loss"] < 0.5 * fixed.log[0]["train_loss"]
    assert fixed.log[-1]["val_acc"] > 0.8


def test_mystery_3_accuracy_depends_on_the_validation_batch_size_until_evaluating():
    evidence = mystery(3).run()
    by_size = evidence.facts["val_acc_by_batch_size"]
    assert by_size[16] < 0.35 < 0.8 < by_size[160], by_size
    assert all(row["val_acc"] < 0.4 for row in evidence.log), "validation in training mode stays low"
    losses = evidence.column("train_loss")
    assert losses[-1] < 0.2 * losses[0], "training itself is fine"
    fixed = mystery(3).run(evaluate_fn=mystery(3).evaluate_inside(solution("evaluating")))
    accuracies = list(fixed.facts["val_acc_by_batch_size"].values())
    assert min(accuracies) > 0.8 and max(accuracies) - min(accuracies) < 1e-9, accuracies


def test_mystery_4_every_step_uses_max_norm_over_the_scale_until_unscaled_first():
    module = mystery(4)
    evidence = module.run()
    scale = evidence.facts["final_scale"]
    assert scale == 65536.0, "the explanations say the scale starts at 65536 and option D compares the last line with it"
    assert all(norm == pytest.approx(module.MAX_NORM / scale, rel=1e-3) for norm in evidence.facts["step_norms"])
    assert 1e4 <= evidence.facts["first_backward_norm"] < 1e5, "option C: a norm in the tens of thousands"
    losses = evidence.column("train_loss")
    assert max(evidence.column("val_acc")) < CHANCE + 0.05 and losses[-1] > 0.999 * losses[0], "it barely moves"
    fixed = module.run(loop=solution("train_epoch_amp"))
    assert fixed.log[-1]["val_acc"] > 0.85
    assert max(fixed.facts["step_norms"]) == pytest.approx(module.MAX_NORM, rel=1e-3), "clipped where it must be"
    assert min(fixed.facts["step_norms"]) < 0.5 * module.MAX_NORM, "and only there"


def test_mystery_5_training_loss_falls_while_validation_stays_at_chance():
    evidence = mystery(5).run()
    losses = evidence.column("train_loss")
    assert losses[-1] < 0.8 * losses[0], f"the training loss must fall: {losses}"
    assert max(evidence.column("val_acc")) < CHANCE + 0.08, evidence.column("val_acc")
    assert evidence.facts["train_acc"] > 2 * CHANCE, "the model memorises its (wrong) pairs"
    fixed = mystery(5).run(dataset_class=solution("FixedShuffledDigits"))
    assert fixed.log[-1]["val_acc"] > 0.6


def test_mystery_6_memory_grows_with_every_step_and_the_fix_keeps_none():
    evidence = mystery(6).run()
    alive = evidence.nodes_alive
    assert alive[0] < alive[len(alive) // 2] < alive[-1], "graph nodes kept alive must grow with the steps"
    assert all(later >= earlier for earlier, later in zip(alive, alive[1:]))
    assert evidence.graphs_alive[-1] == len(evidence.step_loss) - 1, "every earlier step's graph is alive"
    assert evidence.facts["returned_types"] == ["Tensor"]
    fixed = mystery(6).run(loop=solution("train_epoch_fixed_6"))
    assert set(fixed.nodes_alive) == {0} and fixed.facts["returned_types"] == ["float"]
    assert fixed.column("train_loss") == pytest.approx(evidence.column("train_loss"), rel=1e-6), \
        "the bug costs memory, never numbers"


def test_mystery_7_device_line_shows_labels_never_moved_and_the_fix_moves_them():
    evidence = mystery(7).run()
    batches = len(evidence.step_loss)
    assert evidence.facts["inputs"] == {"moved": batches, "not moved": 0}
    assert evidence.facts["targets"] == {"moved": 0, "not moved": batches}
    assert f"labels moved: 0 of {batches} batches" in evidence.device_line
    fixed = mystery(7).run(loop=mystery(7).train_epoch_moving(solution("move_batch")))
    assert fixed.facts["targets"] == {"moved": batches, "not moved": 0}
    assert fixed.column("train_loss") == pytest.approx(evidence.column("train_loss")), \
        "on a CPU the bug changes no number: only the record of .to() calls shows it"


def test_mystery_7_on_another_device_stops_with_the_device_error():
    evidence = mystery(7).run(device="meta")  # a device that is not the CPU, where the labels stay
    assert not evidence.log
    assert any("RuntimeError" in note and "device" in note for note in evidence.notes), evidence.notes
    show_evidence(evidence)  # an empty run still draws


def test_open_case_never_leaves_the_warm_up_though_its_loop_passes_the_checker():
    module = mystery("open")
    evidence = module.run()
    rates = evidence.column("lr")
    assert [round(rate, 2) for rate in (rates[0], rates[-1])] == [0.04, 0.22], "the explanation quotes 0.04 to 0.22"
    assert max(rates) < 0.25 * module.MAX_LR, "the rate never comes near its peak"
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=module.MAX_LR)
    plan = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=module.MAX_LR, epochs=5, steps_per_epoch=10)
    assert plan.total_steps == 50 and plan._schedule_phases[0]["end_step"] + 1 == 15, "50 rates, 15 of warm-up"
    with pytest.raises(AssertionError, match="the loss went from"):
        smoke_test(evidence.step_loss[:20])
    assert max(evidence.column("val_acc")) < 0.3
    assert inspect_run("train_epoch", module.train_epoch).passed, "the loop itself is correct"
    fixed = module.run(loop=solution("train_epoch_onecycle"))
    smoke_test(fixed.step_loss[:20])
    assert max(fixed.column("lr")) > 0.8 and fixed.log[-1]["val_acc"] > 0.9


def test_runs_repeat_exactly_and_leave_global_random_numbers_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first = mystery(2).run()
    after = torch.rand(1)
    assert torch.equal(before, after), "a mystery run must not draw from the global generator"
    assert mystery(2).run().step_loss == first.step_loss


# ---------------------------------------------------------------- fixes pass the inspector, the bugs are named

def copied(function):
    """`function` typed again from its printed source, without the mark that keeps it from the checker:
    what a learner who copies a mystery's loop into a cell of their own has."""
    source = inspect_module.getsource(function).replace("@uncheckable\n", "")
    namespace = dict(inspect_module.unwrap(function).__globals__)
    exec(compile(source, "<copied>", "exec"), namespace)
    return namespace[function.__name__]


def stepped_per_epoch(model, loader, loss_fn, optimizer, scheduler):
    """What the open case's run did, written as the exercise's signature: the loop, then one scheduler step."""
    mean_loss = mystery("open").train_epoch(model, loader, loss_fn, optimizer)
    scheduler.step()
    return mean_loss


@pytest.mark.parametrize("exercise,fix,bug,code", [
    ("train_epoch_amp", "train_epoch_amp", lambda: copied(mystery(4).train_epoch), "clip-before-unscale"),
    ("train_epoch_onecycle", "train_epoch_onecycle", lambda: stepped_per_epoch, "scheduler-cadence"),
], ids=["amp", "onecycle"])
def test_reference_fix_passes_the_inspector_and_the_bug_is_named(exercise, fix, bug, code):
    for hidden in (False, True):
        assert inspect_run(exercise, solution(fix), hidden=hidden).passed, (fix, hidden)
        assert inspect_run(exercise, bug(), hidden=hidden).codes == [code]


def test_the_exercises_own_references_match_the_notebook_s():
    from autograder.exercises import get_exercise
    for name in ("train_epoch_amp", "train_epoch_onecycle"):
        assert inspect_run(name, get_exercise(name).reference, hidden=True).passed


# ---------------------------------------------------------------- graded cells: fixes pass, bugs fail

def run_cell(notebook, grade_id, **names):
    """Run a graded test cell of the source notebook (hidden tests included) with `names` defined."""
    namespace = {"device": torch.device("cpu")}
    imports = next(cell for cell in notebook.cells if cell.cell_type == "code" and "import inspect" in cell.source)
    exec(compile(imports.source, "imports", "exec"), namespace)
    namespace.update(names)
    exec(compile(cell_by_grade_id(notebook, grade_id).source, grade_id, "exec"), namespace)


@pytest.mark.parametrize("grade_id,name,bug", [
    ("test_learning_rate_2", "learning_rate_2", lambda: lambda: mystery(2).LEARNING_RATE),
    ("test_evaluating", "evaluating", lambda: contextlib.nullcontext),
    ("test_train_epoch_amp", "train_epoch_amp", lambda: copied(mystery(4).train_epoch)),
    ("test_fixed_shuffled_digits", "FixedShuffledDigits", lambda: mystery(5).ShuffledDigits),
    ("test_move_batch", "move_batch", lambda: lambda batch, device: batch),
    ("test_train_epoch_onecycle", "train_epoch_onecycle", lambda: stepped_per_epoch),
], ids=lambda value: value if isinstance(value, str) else "")
def test_graded_cell_passes_the_fix_and_fails_the_bug(notebook, grade_id, name, bug):
    run_cell(notebook, grade_id, **{name: solution(name)})
    with pytest.raises(AssertionError):
        run_cell(notebook, grade_id, **{name: bug()})


@pytest.mark.parametrize("rate", [1e-4, 3.0, "0.1", True])
def test_a_learning_rate_that_cannot_train_or_is_no_number_fails(notebook, rate):
    with pytest.raises(AssertionError):
        run_cell(notebook, "test_learning_rate_2", learning_rate_2=lambda: rate)


def test_a_fix_that_keeps_images_and_labels_apart_differently_still_fails(notebook):
    """A Dataset that shuffles its labels (not its images) is as wrong as the mystery's."""
    base = mystery(5).ShuffledDigits

    class LabelsShuffled(base):
        def __init__(self, images, labels, seed=0):
            order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
            self.images, self.labels = images, labels[order]

    with pytest.raises(AssertionError):
        run_cell(notebook, "test_fixed_shuffled_digits", FixedShuffledDigits=LabelsShuffled)


# -- evaluating(model): wrong in each way the contract rules out, and right in other shapes

@contextlib.contextmanager
def eval_and_forget(model):
    model.eval()
    with torch.no_grad():
        yield model


@contextlib.contextmanager
def back_to_train_whatever(model):
    model.eval()
    with torch.no_grad():
        yield model
    model.train()


@contextlib.contextmanager
def only_the_top_mode(model):
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


@contextlib.contextmanager
def forgets_no_grad(model):
    modes = [(layer, layer.training) for layer in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for layer, training in modes:
            layer.train(training)


@contextlib.contextmanager
def restores_only_without_errors(model):
    modes = {layer: layer.training for layer in model.modules()}
    model.eval()
    with torch.no_grad():
        yield model
    for layer, training in modes.items():
        layer.train(training)


@pytest.mark.parametrize("wrong", [eval_and_forget, back_to_train_whatever, only_the_top_mode, forgets_no_grad,
                                   restores_only_without_errors], ids=lambda f: f.__name__)
def test_evaluating_that_breaks_a_clause_fails(notebook, wrong):
    with pytest.raises(AssertionError):
        run_cell(notebook, "test_evaluating", evaluating=wrong)


class EvaluatingClass:
    """A class with __enter__ and __exit__, inference mode instead of no_grad."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.modes = {name: layer.training for name, layer in self.model.named_modules()}
        self.inference = torch.inference_mode()
        self.model.eval()
        self.inference.__enter__()
        return self.model

    def __exit__(self, *error):
        self.inference.__exit__(*error)
        for name, layer in self.model.named_modules():
            layer.train(self.modes[name])
        return False


@contextlib.contextmanager
def evaluating_with_an_exit_stack(model):
    with contextlib.ExitStack() as stack:
        for layer in reversed(list(model.modules())):  # callbacks run last first: the whole model, then each layer
            stack.callback(layer.train, layer.training)
        stack.enter_context(torch.no_grad())
        model.eval()
        yield model


@pytest.mark.parametrize("right", [EvaluatingClass, evaluating_with_an_exit_stack], ids=lambda f: f.__name__)
def test_evaluating_written_differently_passes(notebook, right):
    run_cell(notebook, "test_evaluating", evaluating=right)


# -- move_batch(batch, device)

def moves_only_the_first(batch, device):
    if torch.is_tensor(batch):
        return batch.to(device)
    return (batch[0].to(device), *batch[1:]) if isinstance(batch, tuple) else batch


def turns_tuples_into_lists(batch, device):
    if torch.is_tensor(batch):
        return batch.to(device)
    if isinstance(batch, dict):
        return {k: turns_tuples_into_lists(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return [turns_tuples_into_lists(v, device) for v in batch]
    return batch


def one_level_only(batch, device):
    if isinstance(batch, dict):
        return {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(v.to(device) if torch.is_tensor(v) else v for v in batch)
    return batch.to(device) if torch.is_tensor(batch) else batch


def no_dicts(batch, device):
    if torch.is_tensor(batch):
        return batch.to(device)
    if isinstance(batch, (list, tuple)):
        return type(batch)(no_dicts(v, device) for v in batch)
    return batch


def moves_everything(batch, device):
    if isinstance(batch, dict):
        return {k: moves_everything(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(moves_everything(v, device) for v in batch)
    return batch.to(device)  # a string has no .to


@pytest.mark.parametrize("wrong", [moves_only_the_first, turns_tuples_into_lists, one_level_only, no_dicts,
                                   moves_everything], ids=lambda f: f.__name__)
def test_move_batch_that_breaks_a_clause_fails(notebook, wrong):
    with pytest.raises((AssertionError, AttributeError)):
        run_cell(notebook, "test_move_batch", move_batch=wrong)


def move_batch_with_match(batch, device):
    match batch:
        case torch.Tensor():
            return batch.to(device)
        case dict():
            return {key: move_batch_with_match(value, device) for key, value in batch.items()}
        case tuple() | list():
            return type(batch)([move_batch_with_match(value, device) for value in batch])
        case _:
            return batch


def move_batch_with_pytree(batch, device):
    from torch.utils._pytree import tree_map
    return tree_map(lambda leaf: leaf.to(device) if isinstance(leaf, torch.Tensor) else leaf, batch)


@pytest.mark.parametrize("right", [move_batch_with_match, move_batch_with_pytree], ids=lambda f: f.__name__)
def test_move_batch_written_differently_passes(notebook, right):
    run_cell(notebook, "test_move_batch", move_batch=right)


# ---------------------------------------------------------------- the package's own parts

def test_mystery_by_number_refuses_an_unknown_one():
    with pytest.raises(ValueError, match="There is no mystery run 9"):
        mystery(9)


def test_rerun_with_an_unwritten_fix_says_so_and_loses_nothing(capsys):
    def stub(*args):
        raise NotImplementedError()

    assert rerun(mystery(6).run, loop=stub) is None
    assert "not written yet" in capsys.readouterr().out
    show_evidence(None)  # nothing to show, no error


def test_move_recorder_tells_moved_tensors_from_equal_ones():
    x = torch.zeros(3)
    twin = torch.zeros(3)
    with MoveRecorder() as recorder:
        moved = x.to("cpu")
    assert recorder.was_moved(moved) and moved is x
    assert not recorder.was_moved(twin), "an equal tensor that was never moved is not moved"


def test_pictures_and_tables_come_from_the_evidence():
    evidence = mystery(6).run()
    figure = evidence_figure(evidence, memory=True)
    assert isinstance(figure, Figure) and len(figure.axes) == 4
    assert len(evidence_figure(mystery(1).run()).axes) == 2, "a regression has no accuracy panel"
    assert log_text(evidence).count("\n") == len(evidence.log)
    table = grad_table(evidence, [1, 10, 10_000])
    assert table.count("\n") == 2, "steps beyond the run are left out"
    assert memory_line(evidence).endswith(" ".join(str(v) for v in evidence.nodes_alive[9::10]))
    scheduled = mystery("open").run()
    assert log_text(scheduled).splitlines()[0].split()[-1] == "lr" and "0.04" in log_text(scheduled)


def test_gradient_norms_name_every_parameter_and_none_where_empty():
    model = digits_mlp(0)
    assert set(gradient_norms(model)) == {name for name, _ in model.named_parameters()}
    assert all(value is None for value in gradient_norms(model).values())


def test_smoke_test_refuses_nan_and_empty_runs():
    with pytest.raises(AssertionError, match="became nan at step 2"):
        smoke_test([1.0, float("nan")])
    with pytest.raises(AssertionError, match="no losses"):
        smoke_test([])


def test_evidence_of_an_empty_run_is_usable():
    empty = Evidence("nothing")
    assert empty.first_nan_step() is None and not empty.classifies and empty.batches_per_epoch == 1


def test_the_pairs_test_says_what_its_images_hold(notebook):
    """The helper's docstring states the rule the assertion checks (image i starts at 40 i)."""
    source = cell_by_grade_id(notebook, "test_fixed_shuffled_digits").source
    assert "40 i" in source and "40 * int(label)" in source and "* 10" in source


def test_no_fix_asks_for_an_earlier_phase_s_function_again(notebook):
    earlier = {"train", "train_epoch", "train_epoch_accumulate", "evaluate", "fit", "fit_tracked"}
    defined = {name for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("solution")
               for name in re.findall(r"^(?:def|class) (\w+)", cell.source, re.M)}
    assert defined and not defined & earlier, defined & earlier
    graded = {exercise for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade")
              for exercise in re.findall(r'assert_passes\("(\w+)"', cell.source)}
    assert graded == {"train_epoch_amp", "train_epoch_onecycle"}, f"graded cells grade {graded}"


def test_points_add_up_to_the_readme_and_the_record(notebook):
    points = sum(cell.metadata["nbgrader"].get("points", 0) for cell in notebook.cells
                 if cell.metadata.get("nbgrader", {}).get("grade"))
    record = (ROOT / "docs" / "phase7_exercises.md").read_text(encoding="utf-8")
    assert f"= {points} points" in record
    row = next(line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
               if line.startswith("| 7 |"))
    assert f"{points} points" in row


def test_exercises_record_lists_every_grade_id_of_the_notebook(notebook):
    record = (ROOT / "docs" / "phase7_exercises.md").read_text(encoding="utf-8")
    ids = [cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells
           if cell.metadata.get("nbgrader", {}).get("grade") or cell.metadata.get("nbgrader", {}).get("solution")]
    missing = [grade_id for grade_id in ids if f"`{grade_id}`" not in record]
    assert not missing, f"docs/phase7_exercises.md does not list {missing}"


def test_the_set_up_cell_comes_right_after_the_title(notebook):
    from course_helpers.first_cell import FIRST_CELL
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# Phase 7")
    assert notebook.cells[1].cell_type == "code" and notebook.cells[1].source == FIRST_CELL


def test_every_ungraded_quiz_has_its_answer_in_details_and_no_graded_question_is_a_widget(notebook):
    quizzes = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code" and "multiple_choice(" in cell.source]
    assert len(quizzes) >= 3
    for index in quizzes:
        after = notebook.cells[index + 1]
        assert after.cell_type == "markdown" and after.source.startswith("<details><summary>Answer</summary>"), index
        assert not notebook.cells[index].metadata.get("nbgrader", {}).get("grade")
    graded = [cell for cell in notebook.cells if "grade_choice(" in cell.source]
    assert len(graded) == 7 and not any("multiple_choice(" in cell.source for cell in graded)
