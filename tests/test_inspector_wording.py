"""What a learner reads: a function that never ran the model, counts in good English,
return values described plainly, kept-graph counts that add up, no jargon, and mode
messages that name only the layers the model has."""
import re

import pytest

from autograder import EXERCISES, assert_passes, inspect
from autograder import check
from autograder.inspector.values import describe
from autograder.inspector.words import count, listed
from zoo import evaluate as zoo_evaluate
from zoo import fit as zoo_fit
from zoo import train_epoch as zoo_epoch
from zoo import train_loop as zoo_loop

NEVER_CALLED = {
    "train_loop": lambda model, loss_fn, optimizer, X, y, epochs: [0.0] * epochs,
    "train_epoch": lambda model, loader, loss_fn, optimizer: 0.0,
    "train_epoch_accumulate": lambda model, loader, loss_fn, optimizer, accum_steps: 0.0,
    "evaluate": lambda model, loader, loss_fn: (0.0, 0.0),
    "fit": lambda model, train_loader, val_loader, loss_fn, optimizer, epochs: {
        "train_loss": [0.0] * epochs, "val_loss": [0.0] * epochs, "val_acc": [0.0] * epochs},
}


@pytest.mark.parametrize("exercise", sorted(NEVER_CALLED))
def test_a_function_that_never_calls_the_model_is_told_so_plainly_and_fails_every_concern(exercise):
    function = NEVER_CALLED[exercise]
    report = inspect(exercise, function, hidden=True)
    assert report.codes == ["model-never-called"]
    message = report.diagnoses[0].message
    purpose = "measured" if exercise == "evaluate" else "trained"
    assert message.startswith(f"Your function never called the model, so nothing was {purpose}")
    assert "0 forward passes" in message and "backward" not in message
    for concern in EXERCISES[exercise].concerns:
        with pytest.raises(AssertionError, match=r"^\[model-never-called\] Your function never called"):
            assert_passes(exercise, function, concern=concern)


def test_never_called_names_the_work_and_what_came_back():
    message = inspect("train_loop", NEVER_CALLED["train_loop"], epochs=1).diagnoses[0].message
    assert "with 1 epoch to go through" in message and "returned a list of 1 float " in message
    message = inspect("fit", NEVER_CALLED["fit"]).diagnoses[0].message
    assert "with 3 epochs of 6 batches to go through" in message and "a dict of 3 lists" in message


def test_counts_agree_with_their_numbers():
    assert count(1, "epoch") == "1 epoch" and count(2, "epoch") == "2 epochs"
    assert count(1, "backward pass") == "1 backward pass" and count(3, "backward pass") == "3 backward passes"
    assert count(2, "batch loss") == "2 batch losses" and count(0, "entry") == "0 entries"
    assert listed([2], "epoch") == "epoch 2" and listed([2, 3, 5], "epoch") == "epochs 2, 3 and 5"


def test_one_epoch_in_the_wrong_mode_is_not_called_epochs():
    # hidden fit has 2 epochs; calling model.train() only before the first leaves epoch 2 wrong
    message = inspect("fit", zoo_fit.train_only_before_first_epoch, hidden=True).diagnoses[0].message
    assert "epoch 2" in message and "epochs" not in message
    message = inspect("fit", zoo_fit.train_only_before_first_epoch, epochs=3).diagnoses[0].message
    assert "in epochs 2 and 3" in message
    message = inspect("train_loop", zoo_loop.step_twice, epochs=1).diagnoses[0].message
    assert "for 1 epoch;" in message and "(1 step)" in message


@pytest.mark.parametrize("value,words", [
    ((0.0, 0.0), "a tuple of 2 floats"),
    (([0.1], [0.2], [0.3]), "a tuple of 3 lists"),
    ((0.5, 0.25, [1.0]), "a tuple of 3 values (2 floats and 1 list)"),
    ([], "an empty list"),
    ([None], "a list of 1 None value"),
    (3, "an int"),
    ("0.5", "a string"),
    ({"loss": [1.0]}, "a dict of 1 list"),
])
def test_returned_values_are_described_plainly(value, words):
    assert describe(value) == words


def test_wrong_return_type_message_counts_the_items():
    def evaluate(model, loader, loss_fn):
        model.eval()
        return 0.5, 0.25, [model(x).sum().item() for x, _ in loader]

    report = inspect("evaluate", evaluate)
    message = next(d.message for d in report.diagnoses if d.code == "wrong-return-type")
    assert "returned a tuple of 3 values (2 floats and 1 list)" in message


@pytest.mark.parametrize("exercise,function,hidden", [
    ("train_loop", zoo_loop.keeps_graphs_returns_floats, False),
    ("train_loop", zoo_loop.keeps_graphs_returns_floats, True),
    ("train_epoch", zoo_epoch.running_sum_of_tensors, False),
    ("train_epoch", zoo_epoch.list_of_tensors_then_item, True),
])
def test_kept_graph_count_is_every_loss_before_the_one_being_computed(exercise, function, hidden):
    message = inspect(exercise, function, hidden=hidden).diagnoses[0].message
    found = re.search(r"loss number (\d+) was computed, the graphs of all (\d+) losses before it", message)
    assert found, message
    number, before = map(int, found.groups())
    assert before == number - 1 >= 2


def test_correct_code_keeping_only_the_last_loss_is_not_told_about_kept_graphs():
    assert inspect("train_epoch", zoo_epoch.canonical).passed


def test_public_evaluate_model_has_layers_whose_mode_matters():
    """The self-check after phase 6's dropout demo must never say "changed nothing here"."""
    message = inspect("evaluate", zoo_evaluate.forgets_eval).diagnoses[0].message
    assert "dropout" in message and "batch-norm" in message and "changed nothing" not in message


def test_headings_speak_of_practice_and_grading_data_not_fixtures(capsys):
    check("train_epoch", zoo_epoch.canonical)
    check("train_epoch", zoo_epoch.forgets_zero_grad, hidden=True)
    out = capsys.readouterr().out
    assert "train_epoch: passed every check on the practice data." in out
    assert "train_epoch: 1 problem found on the grading data." in out
    assert "fixture" not in out


@pytest.mark.parametrize("exercise,function", [
    ("train_epoch", zoo_epoch.never_calls_train),
    ("evaluate", zoo_evaluate.forgets_eval),
])
def test_mode_messages_name_only_the_layers_the_model_has(exercise, function):
    plain = inspect(exercise, function, dropout=0.0, batchnorm=False).diagnoses[0].message
    assert "has no dropout or batch-norm layer, so it changed nothing here" in plain
    both = inspect(exercise, function, hidden=True).diagnoses[0].message
    assert "dropout" in both and "batch-norm" in both and "has no" not in both
    dropout_only = inspect(exercise, function, dropout=0.5, batchnorm=False).diagnoses[0].message
    assert "dropout" in dropout_only and "batch-norm" not in dropout_only
    norm_only = inspect(exercise, function, dropout=0.0, batchnorm=True).diagnoses[0].message
    assert "batch-norm" in norm_only and "dropout" not in norm_only
