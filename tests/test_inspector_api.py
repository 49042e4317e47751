"""The public API: check, assert_passes, inspect; concerns, caching, rendering, isolation."""
import signal
import threading
import time

import pytest
import torch

import autograder
from autograder import CODES, CONCERNS, EXERCISES, assert_passes, check, inspect
from autograder.render import html
from zoo import evaluate as zoo_evaluate
from zoo import fit as zoo_fit
from zoo import runs as zoo_runs
from zoo import train_epoch as zoo_epoch
from zoo import train_loop as zoo_loop

CORRECT = {
    "train_loop": zoo_loop.zero_grad_first,
    "train_epoch": zoo_epoch.canonical,
    "train_epoch_accumulate": __import__("zoo.accumulate", fromlist=["x"]).step_in_loop_with_last_batch,
    "evaluate": zoo_evaluate.no_grad_block,
    "fit": zoo_fit.with_helpers,
}


@pytest.mark.parametrize("exercise", sorted(CORRECT))
def test_correct_code_passes_every_concern_public_and_hidden(exercise):
    for concern in [None, *EXERCISES[exercise].concerns]:
        assert_passes(exercise, CORRECT[exercise], concern=concern)
        assert_passes(exercise, CORRECT[exercise], concern=concern, hidden=True)


def test_assertion_message_is_the_plain_text_diagnosis_with_fix_and_section():
    with pytest.raises(AssertionError) as caught:
        assert_passes("train_loop", zoo_loop.no_zero_grad, concern="order")
    message = str(caught.value)
    assert message.startswith("[missing-zero-grad] At ")
    assert "× that step's own gradient" in message
    assert "Fix: Call `optimizer.zero_grad()` once per epoch" in message  # train_loop has no batches
    assert message.endswith("(Phase 4, section “Forgetting zero_grad”.)")


def test_concerns_filter_and_runs_problems_fail_every_concern():
    assert_passes("train_epoch", zoo_epoch.never_calls_train, concern="order")
    assert_passes("train_epoch", zoo_epoch.never_calls_train, concern="logging")
    with pytest.raises(AssertionError, match=r"^\[train-mode-missing\]"):
        assert_passes("train_epoch", zoo_epoch.never_calls_train, concern="modes")
    for concern in EXERCISES["train_loop"].concerns:
        with pytest.raises(AssertionError, match=r"^\[raises\] Your function still raises NotImplementedError"):
            assert_passes("train_loop", zoo_runs.untouched_stub, concern=concern)


def test_bad_arguments_are_refused_loudly():
    with pytest.raises(ValueError, match="unknown exercise"):
        inspect("train", zoo_loop.zero_grad_first)
    with pytest.raises(ValueError, match="checks the concerns"):
        assert_passes("train_loop", zoo_loop.zero_grad_first, concern="accumulation")
    with pytest.raises(TypeError, match="no fixture parameter 'sede'"):
        inspect("train_loop", zoo_loop.zero_grad_first, sede=3)
    with pytest.raises(TypeError, match="expected the function"):
        inspect("train_loop", None)


def test_overrides_change_the_fixtures():
    report = inspect("train_epoch", zoo_epoch.canonical, hidden=True, seed=123, samples=30, batch_size=5)
    assert report.passed and report.params["seed"] == 123 and report.params["batch_size"] == 5
    hidden = EXERCISES["train_epoch_accumulate"].parameters(True, {})
    batches = -(-hidden["samples"] // hidden["batch_size"])
    assert hidden["optimizer"] == "sgd" and batches % hidden["accum_steps"] != 0
    assert hidden["dropout"] and hidden["batchnorm"] and hidden["training"] is False


def test_one_run_serves_every_concern_and_edits_run_afresh():
    calls = []

    def train(model, loss_fn, optimizer, X, y, epochs):
        calls.append(1)
        return zoo_loop.zero_grad_first(model, loss_fn, optimizer, X, y, epochs)

    for concern in EXERCISES["train_loop"].concerns:
        assert_passes("train_loop", train, concern=concern, hidden=True)
    assert len(calls) == 1
    first = inspect("train_loop", train, hidden=True)
    assert len(calls) == 1 and inspect("train_loop", train, hidden=True) is first
    check("train_loop", train)  # the learner's self-check always runs afresh
    assert len(calls) == 2


def test_check_prints_text_outside_a_notebook_and_returns_the_report(capsys):
    report = check("train_epoch", zoo_epoch.forgets_zero_grad)
    out = capsys.readouterr().out
    assert out.startswith("train_epoch: 1 problem found on the practice data.")
    assert "[missing-zero-grad]" in out and not report.passed and report.codes == ["missing-zero-grad"]


def test_html_names_the_code_the_fix_and_links_the_section():
    report = inspect("fit", zoo_fit.validates_with_autograd_on)
    page = html(report)
    assert "grad-enabled-in-eval" in page and "<script" not in page
    assert 'href="../06_classifier/06_classifier.ipynb#Validation-without-gradients"' in page
    assert "<code>with torch.no_grad():</code>" in page
    assert "✔" in html(inspect("fit", zoo_fit.with_helpers))


def test_learner_output_is_captured_not_written(capsys):
    report = inspect("train_loop", zoo_loop.prints_progress, hidden=True, seed=5)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert "epoch 0: loss" in report.output


def test_global_state_and_random_numbers_are_restored():
    rng = torch.random.get_rng_state()
    report = inspect("evaluate", zoo_runs.turns_autograd_off_for_good, seed=9)
    assert report.codes == ["global-state-changed"]
    assert torch.is_grad_enabled()
    report = inspect("train_loop", zoo_runs.changes_the_default_dtype, seed=9)
    assert torch.get_default_dtype() == torch.float32
    assert torch.equal(torch.random.get_rng_state(), rng)
    hooks = dict(torch.nn.modules.module._global_forward_hooks)
    inspect("train_epoch", zoo_runs.leaves_a_global_hook, seed=9)
    assert dict(torch.nn.modules.module._global_forward_hooks) == hooks


def test_a_hang_is_stopped_and_an_earlier_alarm_is_put_back():
    fired = []
    old = signal.signal(signal.SIGALRM, lambda *_: fired.append(1))
    signal.setitimer(signal.ITIMER_REAL, 30.0)
    try:
        started = time.monotonic()
        report = inspect("train_loop", zoo_runs.while_without_increment, time_limit=0.3, seed=4)
        assert report.codes == ["timeout"] and time.monotonic() - started < 5
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 20 < remaining <= 30
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert not fired


def test_a_hang_outside_the_main_thread_is_stopped_too():
    reports = []
    thread = threading.Thread(target=lambda: reports.append(
        inspect("evaluate", zoo_runs.swallows_every_error_and_spins, time_limit=0.3, seed=8)))
    thread.start()
    thread.join(10)
    assert not thread.is_alive() and reports[0].codes == ["timeout"]


def test_every_code_is_documented_in_the_readme():
    readme = (autograder.__file__.rsplit("/", 1)[0] + "/README.md")
    text = open(readme, encoding="utf-8").read()
    missing = [code for code in CODES if f"`{code}`" not in text]
    assert not missing
    assert set(c.concern for c in CODES.values()) == set(CONCERNS)
