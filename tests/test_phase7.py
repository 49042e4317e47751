"""Phase 7: the mystery runs show their symptoms, the fixes pass, the bugs fail.

Every number asserted here is computed by the course's own generator
(`course_helpers.mysteries`) on the run itself: the evidence must show each symptom
(NaN, a climb, chance-level validation, memory that grows, gradients k× too large),
and the same run with the notebook's reference fix must not. The graded test cells of
the source notebook (hidden parts included) run here twice: with the reference
solution, which must pass, and with the buggy code the mystery ran, which must fail.
"""
import math

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
    first = evidence.step_loss[: evidence.batches_per_epoch]
    assert all(math.isfinite(v) for v in first) and first[-1] < first[0], "the first epoch still learns"
    norms = evidence.grad_norms["hidden.weight"]
    finite = [v for v in norms[: nan_step - 1] if math.isfinite(v)]
    assert finite[-1] > 10 * finite[0], f"the summed gradient must grow: {finite[0]:.3g} -> {finite[-1]:.3g}"
    fixed = mystery(1).run(loop=solution("train_epoch_1"))
    assert fixed.first_nan_step() is None
    assert fixed.log[-1]["val_loss"] < 0.2 * fixed.log[0]["val_loss"]
    assert max(fixed.grad_norms["hidden.weight"]) < finite[-1]


def test_mystery_2_zig_zags_then_climbs_and_a_lower_rate_learns():
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
    rate = solution("learning_rate_2")()
    fixed = mystery(2).run(lr=rate)
    assert fixed.log[-1]["train_loss"] < 0.5 * fixed.log[0]["train_loss"]
    assert fixed.log[-1]["val_acc"] > 0.8


def test_mystery_3_accuracy_depends_on_the_validation_batch_size_until_eval_mode():
    evidence = mystery(3).run()
    by_size = evidence.facts["val_acc_by_batch_size"]
    assert by_size[16] < 0.35 < 0.8 < by_size[160], by_size
    assert all(row["val_acc"] < 0.4 for row in evidence.log), "validation in training mode stays low"
    losses = evidence.column("train_loss")
    assert losses[-1] < 0.2 * losses[0], "training itself is fine"
    fixed = mystery(3).run(evaluate_fn=solution("evaluate_3"))
    accuracies = list(fixed.facts["val_acc_by_batch_size"].values())
    assert min(accuracies) > 0.8 and max(accuracies) - min(accuracies) < 1e-9, accuracies


def test_mystery_4_first_step_gradient_is_accum_steps_times_one_batch_until_scaled():
    module = mystery(4)
    evidence = module.run()
    k = module.ACCUM_STEPS
    for name, norm in evidence.facts["first_step_norms"].items():
        ratio = norm / evidence.facts["one_batch_norms"][name]
        assert ratio == pytest.approx(k, rel=1e-4), f"{name}: {ratio}"
    fixed = module.run(loop=solution("train_epoch_accumulate_4"))
    for name, norm in fixed.facts["first_step_norms"].items():
        assert norm / fixed.facts["one_batch_norms"][name] == pytest.approx(1.0, rel=1e-4)
    assert fixed.log[-1]["val_acc"] > evidence.log[-1]["val_acc"] + 0.3


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
    fixed = mystery(6).run(loop=solution("train_epoch_6"))
    assert set(fixed.nodes_alive) == {0} and fixed.facts["returned_types"] == ["float"]
    assert fixed.column("train_loss") == pytest.approx(evidence.column("train_loss"), rel=1e-6), \
        "the bug costs memory, never numbers"


def test_mystery_7_device_line_shows_labels_never_moved_and_the_fix_moves_them():
    evidence = mystery(7).run()
    batches = len(evidence.step_loss)
    assert evidence.facts["inputs"] == {"moved": batches, "not moved": 0}
    assert evidence.facts["targets"] == {"moved": 0, "not moved": batches}
    assert f"labels moved: 0 of {batches} batches" in evidence.device_line
    fixed = mystery(7).run(loop=solution("train_epoch_7"))
    assert fixed.facts["targets"] == {"moved": batches, "not moved": 0}
    assert fixed.column("train_loss") == pytest.approx(evidence.column("train_loss")), \
        "on a CPU the bug changes no number: only the record of .to() calls shows it"


def test_mystery_7_on_another_device_stops_with_the_device_error():
    evidence = mystery(7).run(device="meta")  # a device that is not the CPU, where the labels stay
    assert not evidence.log
    assert any("RuntimeError" in note and "device" in note for note in evidence.notes), evidence.notes
    show_evidence(evidence)  # an empty run still draws


def test_open_case_loss_never_moves_and_no_step_sees_a_gradient():
    module = mystery("open")
    evidence = module.run()
    losses = evidence.column("train_loss")
    assert max(losses) - min(losses) < 1e-6, losses
    assert all(math.isnan(v) for norms in evidence.grad_norms.values() for v in norms)
    with pytest.raises(AssertionError, match="the loss went from"):
        smoke_test(evidence.step_loss[:20])
    assert "zero-grad-after-backward" in inspect_run("train_epoch", module.train_epoch).codes
    fixed = module.run(loop=solution("train_epoch_open"))
    smoke_test(fixed.step_loss[:20])


def test_runs_repeat_exactly_and_leave_global_random_numbers_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first = mystery(2).run()
    after = torch.rand(1)
    assert torch.equal(before, after), "a mystery run must not draw from the global generator"
    assert mystery(2).run().step_loss == first.step_loss


# ---------------------------------------------------------------- fixes pass, bugs fail, on hidden fixtures

@pytest.mark.parametrize("exercise,fix,bug_number,bug_name,code", [
    ("train_epoch", "train_epoch_1", 1, "train_epoch", "missing-zero-grad"),
    ("evaluate", "evaluate_3", 3, "evaluate", "eval-mode-missing"),
    ("train_epoch_accumulate", "train_epoch_accumulate_4", 4, "train_epoch_accumulate", "unscaled-accumulation"),
    ("train_epoch", "train_epoch_6", 6, "train_epoch", "loss-tensor-logged"),
    ("train_epoch", "train_epoch_7", 7, "train_epoch", None),
    ("train_epoch", "train_epoch_open", "open", "train_epoch", "zero-grad-after-backward"),
])
def test_reference_fix_passes_the_inspector_and_the_bug_is_named(exercise, fix, bug_number, bug_name, code):
    for hidden in (False, True):
        assert inspect_run(exercise, solution(fix), hidden=hidden).passed, (fix, hidden)
        if code is not None:
            assert code in inspect_run(exercise, getattr(mystery(bug_number), bug_name), hidden=hidden).codes


def run_cell(notebook, grade_id, **names):
    """Run a graded test cell of the source notebook (hidden tests included) with `names` defined."""
    namespace = {"device": torch.device("cpu")}
    imports = next(cell for cell in notebook.cells if cell.cell_type == "code" and "import inspect" in cell.source)
    exec(compile(imports.source, "imports", "exec"), namespace)
    namespace.update(names)
    exec(compile(cell_by_grade_id(notebook, grade_id).source, grade_id, "exec"), namespace)


@pytest.mark.parametrize("grade_id,name,fix,bug", [
    ("test_train_epoch_1", "train_epoch_1", "train_epoch_1", lambda: mystery(1).train_epoch),
    ("test_learning_rate_2", "learning_rate_2", "learning_rate_2",
     lambda: lambda: mystery(2).LEARNING_RATE),
    ("test_evaluate_3", "evaluate_3", "evaluate_3", lambda: mystery(3).evaluate),
    ("test_train_epoch_accumulate_4", "train_epoch_accumulate_4", "train_epoch_accumulate_4",
     lambda: mystery(4).train_epoch_accumulate),
    ("test_fixed_shuffled_digits", "FixedShuffledDigits", "FixedShuffledDigits", lambda: mystery(5).ShuffledDigits),
    ("test_train_epoch_6", "train_epoch_6", "train_epoch_6", lambda: mystery(6).train_epoch),
    ("test_train_epoch_7", "train_epoch_7", "train_epoch_7", lambda: mystery(7).train_epoch),
    ("test_train_epoch_open", "train_epoch_open", "train_epoch_open", lambda: mystery("open").train_epoch),
], ids=lambda value: value if isinstance(value, str) else "")
def test_graded_cell_passes_the_fix_and_fails_the_bug(notebook, grade_id, name, fix, bug):
    run_cell(notebook, grade_id, **{name: solution(fix)})
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


def test_labels_moved_only_sometimes_still_fail(notebook):
    def moves_some(model, loader, loss_fn, optimizer):
        model.train()
        device = next(model.parameters()).device
        for index, (images, labels) in enumerate(loader):
            images = images.to(device)
            if index % 2:
                labels = labels.to(device)
            optimizer.zero_grad()
            loss_fn(model(images), labels).backward()
            optimizer.step()
        return 0.0

    with pytest.raises(AssertionError, match="batches of labels"):
        run_cell(notebook, "test_train_epoch_7", train_epoch_7=moves_some)


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5, 6, 7])
def test_each_answer_is_the_quiz_s_correct_option_and_a_wrong_letter_fails(notebook, number):
    grade_id = f"test_answer_mystery_{number}"
    right = solution(f"answer_mystery_{number}")
    run_cell(notebook, grade_id, **{f"answer_mystery_{number}": right})
    letter = right()
    run_cell(notebook, grade_id, **{f"answer_mystery_{number}": lambda: f" {letter.lower()}"})
    for wrong in [other for other in "ABCD" if other != letter] + ["", "the gradients"]:
        with pytest.raises(AssertionError):
            run_cell(notebook, grade_id, **{f"answer_mystery_{number}": lambda: wrong})
    quizzes = [cell for cell in notebook.cells
               if cell.cell_type == "code" and (f"What went wrong in mystery run {number}?" in cell.source
                                                or f"What is wrong with mystery run {number}?" in cell.source)]
    asked = {}
    exec(compile(quizzes[0].source, "quiz", "exec"),
         {"multiple_choice": lambda text, options, correct: asked.update(options=options, correct=correct)})
    assert asked["correct"].startswith(f"{letter}. "), (asked["correct"], letter)
    assert [option[0] for option in asked["options"]] == list("ABCD")
    assert all(explanation.strip() for explanation in asked["options"].values())


def test_open_case_answer_is_what_the_checker_names(notebook):
    answer = solution("answer_open_case")
    run_cell(notebook, "test_answer_open_case", answer_open_case=answer)
    assert answer() in inspect_run("train_epoch", mystery("open").train_epoch).codes
    with pytest.raises(AssertionError):
        run_cell(notebook, "test_answer_open_case", answer_open_case=lambda: "missing-zero-grad")


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


def test_exercises_record_lists_every_grade_id_of_the_notebook(notebook):
    record = (ROOT / "docs" / "phase7_exercises.md").read_text(encoding="utf-8")
    ids = [cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells
           if cell.metadata.get("nbgrader", {}).get("grade") or cell.metadata.get("nbgrader", {}).get("solution")]
    missing = [grade_id for grade_id in ids if f"`{grade_id}`" not in record]
    assert not missing, f"docs/phase7_exercises.md does not list {missing}"
