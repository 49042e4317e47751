"""The course's widgets, driven from Python: set a control, check the picture and the words.

No browser here (tests/test_browser.py does that); these run in a second or two.
"""
import base64
import math

import numpy as np
import pytest
import torch

from course_helpers.widgets import LiveCurves, loss_explorer, lr_explorer, read_curves
from course_helpers.widgets.display import WIDGET_VIEW, widget_bundle
from course_helpers.widgets.curves_explorer import describe
from course_helpers.widgets.toy_training import Settings, train_toy

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---- read_curves: what the words say about a curve ----------------------------------------

def decay(epochs=60, start=2.0, floor=0.1, rate=0.15):
    return [floor + (start - floor) * math.exp(-rate * e) for e in range(1, epochs + 1)]


def test_nan_reads_as_diverged_at_that_epoch():
    train = [1.0, 3.0, 40.0, 900.0, math.nan, math.nan]
    verdict = read_curves(train, train)
    assert verdict.kind == "diverged"
    assert "NaN at epoch 5" in verdict.text and "900 at epoch 4" in verdict.text


def test_inf_in_validation_only_still_counts():
    verdict = read_curves(decay(10), decay(9) + [math.inf])
    assert verdict.kind == "diverged" and "inf at epoch 10" in verdict.text


def test_growing_loss_without_nan_is_diverging():
    verdict = read_curves([1.0 * 1.5 ** e for e in range(20)])
    assert verdict.kind == "diverged" and verdict.text.startswith("Diverging")


def test_a_smooth_decay_converged_and_noise_at_the_floor_is_not_oscillation():
    assert read_curves(decay(), decay()).kind == "converged"
    noisy = [v * (1.25 if e % 2 else 0.8) for e, v in enumerate(decay())]
    assert read_curves(noisy, decay()).kind == "converged"


def test_big_swings_that_never_settle_are_oscillation():
    swinging = decay(20) + [0.3 if (e // 3) % 2 else 2.0 for e in range(40)]
    verdict = read_curves(swinging)
    assert verdict.kind == "oscillating"
    assert "between 0.3 and 2" in verdict.text


def test_flat_and_nearly_flat_curves_are_stalled():
    assert read_curves([0.7] * 30, start=0.7).text.startswith("Stalled: the training loss stayed at exactly 0.7")
    verdict = read_curves([1.0 - 0.005 * e for e in range(40)], start=1.0)
    assert verdict.kind == "stalled" and "20% lower" in verdict.text


def test_rising_validation_while_training_falls_is_overfitting():
    train = decay(100, rate=0.05, floor=0.01)
    val = [0.3 + 0.0002 * (e - 30) ** 2 for e in range(100)]  # lowest at epoch 31
    verdict = read_curves(train, val)
    assert verdict.kind == "overfitting"
    assert "epoch 31" in verdict.text


def test_noisy_but_level_validation_is_not_overfitting():
    val = [0.3 * (1.15 if e % 3 == 0 else 0.95) for e in range(100)]
    assert read_curves(decay(100), val).kind == "converged"


def test_still_falling_at_the_end_is_slow_not_converged():
    verdict = read_curves(decay(60, rate=0.02), start=2.0)
    assert verdict.kind == "slow" and "Still falling" in verdict.text


def test_start_loss_is_the_baseline_when_given():
    # Epoch 1 already averaged many good steps: measured from the start, this run learned a lot.
    curve = [0.4, 0.35] + [0.3] * 18
    assert read_curves(curve).kind == "stalled"
    assert read_curves(curve, start=2.0).kind == "converged"


def test_no_epochs_is_a_clear_error():
    with pytest.raises(ValueError, match="at least one epoch"):
        read_curves([])


# ---- the toy training run behind the loss explorer -------------------------------------

def test_training_is_repeatable_and_leaves_global_state_alone():
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = train_toy(Settings(epochs=10, batch_size=8))
    assert torch.equal(torch.rand(3), expected_next), "train_toy used the global random stream"
    assert torch.get_num_threads() == threads
    again = train_toy(Settings(epochs=10, batch_size=8))
    assert first.train_losses == again.train_losses and first.val_losses == again.val_losses
    assert len(first.train_losses) == 10 and len(first.fit_y) == len(first.fit_x)


def test_each_bug_really_changes_the_loop():
    normal = train_toy(Settings(epochs=30))
    no_zero_grad = train_toy(Settings(epochs=30, skip_zero_grad=True))
    early_step = train_toy(Settings(epochs=30, step_before_backward=True))
    train_mode_val = train_toy(Settings(epochs=30, validate_in_train_mode=True))
    assert normal.weights_moved and not early_step.weights_moved
    assert no_zero_grad.train_losses != normal.train_losses
    # Dropout left on while validating makes the validation loss worse on average.
    assert sum(train_mode_val.val_losses) > sum(normal.val_losses)


def test_step_before_backward_with_stale_gradients_crashes_and_says_so():
    run = train_toy(Settings(skip_zero_grad=True, step_before_backward=True))
    assert run.error and "inplace operation" in run.error
    verdict = describe(run)
    # Epoch 1's step finds no gradient yet; epoch 2's step changes a weight backward() still needs.
    assert verdict.kind == "crashed" and "Crashed in epoch 2" in verdict.text
    assert "inplace operation" in verdict.text and "anomaly" not in verdict.text


def test_bad_settings_are_refused_clearly():
    with pytest.raises(ValueError, match="optimizer must be one of"):
        Settings(optimizer="RMSprop")
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        Settings(learning_rate=0)


# ---- the loss explorer, driven through its widgets -----------------------------------------

@pytest.fixture
def explorer():
    return loss_explorer(display=False)


def test_default_explorer_converges_and_shows_a_png(explorer):
    assert bytes(explorer.image.value).startswith(PNG_SIGNATURE)
    assert explorer.verdict.kind == "converged"
    assert 'class="verdict-converged"' in explorer.readout.value
    xs, ys = explorer.train_line.get_data()
    assert list(ys) == pytest.approx(explorer.run.train_losses)


def test_a_high_learning_rate_diverges_and_the_picture_changes(explorer):
    before = bytes(explorer.image.value)
    explorer.learning_rate.value = 10.0
    assert explorer.run.settings.learning_rate == 10.0
    assert explorer.verdict.kind == "diverged"
    assert "Diverged to" in explorer.readout.value
    assert bytes(explorer.image.value) != before
    assert explorer.nan_marker.get_visible()


def test_skipping_zero_grad_makes_it_oscillate(explorer):
    explorer.bugs["skip zero_grad()"].value = True
    assert explorer.run.settings.skip_zero_grad
    assert explorer.verdict.kind == "oscillating"
    assert "Oscillating" in explorer.readout.value


def test_step_before_backward_stalls_with_frozen_weights(explorer):
    explorer.bugs["step() before backward()"].value = True
    assert explorer.verdict.kind == "stalled"
    assert "weights never changed" in explorer.readout.value


def test_tiny_learning_rate_stalls(explorer):
    explorer.learning_rate.value = 1e-4
    assert explorer.verdict.kind == "stalled"


def test_adam_overfits_the_sixteen_points_when_trained_longer(explorer):
    explorer.optimizer.value = "Adam"
    explorer.learning_rate.value = 0.03
    explorer.epochs.value = 60
    assert explorer.verdict.kind == "overfitting", explorer.verdict.text
    val = explorer.run.val_losses
    assert val[-1] > min(val) and explorer.run.train_losses[-1] < explorer.run.train_losses[0]


def test_validating_in_train_mode_changes_only_the_validation_curve(explorer):
    clean = explorer.run
    explorer.bugs["validate without model.eval()"].value = True
    assert explorer.run.train_losses == clean.train_losses
    assert sum(explorer.run.val_losses) > sum(clean.val_losses)


def test_log_axis_toggle_changes_scale_and_picture(explorer):
    assert explorer.loss_axes.get_yscale() == "log"
    before = bytes(explorer.image.value)
    explorer.log_scale.value = False
    assert explorer.loss_axes.get_yscale() == "linear"
    assert bytes(explorer.image.value) != before


def test_epochs_slider_sets_the_curve_length(explorer):
    explorer.epochs.value = 25
    assert len(explorer.run.train_losses) == 25
    assert len(explorer.train_line.get_xdata()) == 25


def test_partial_redraw_matches_a_full_redraw(explorer):
    from PIL import Image, ImageChops
    import io
    from course_helpers.plotting import png_bytes

    explorer.learning_rate.value = 0.01
    quick = Image.open(io.BytesIO(explorer.image.value)).convert("RGB")
    full = Image.open(io.BytesIO(png_bytes(explorer.figure))).convert("RGB")
    # Anti-aliased edges may round differently where the line crosses a marker: a few pixels.
    differing = (np.asarray(ImageChops.difference(quick, full)).max(axis=2) > 8).sum()
    assert differing < 20


@pytest.mark.parametrize("optimizer", ["SGD", "momentum", "Adam"])
def test_extreme_settings_warn_nothing(explorer, optimizer):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning would land on stderr in a notebook cell
        explorer.epochs.value = 5
        explorer.batch_size.value = 2
        explorer.optimizer.value = optimizer
        for rate in (10.0, 1e-4):
            explorer.learning_rate.value = rate
            explorer.log_scale.value = not explorer.log_scale.value
        assert explorer.verdict.kind in ("diverged", "stalled", "slow", "oscillating", "converged")


def test_explorer_refuses_settings_its_sliders_cannot_show():
    with pytest.raises(ValueError, match="batch_size must be one of"):
        loss_explorer(display=False, batch_size=32)
    with pytest.raises(ValueError, match="learning_rate must be between"):
        loss_explorer(display=False, learning_rate=50.0)
    with pytest.raises(TypeError, match="no setting lr"):
        loss_explorer(display=False, lr=0.1)


# ---- the learning-rate explorer -----------------------------------------------------------

def test_lr_explorer_crawls_converges_and_diverges_around_the_critical_rate():
    explorer = lr_explorer(display=False, learning_rate=0.001)
    assert explorer.verdict.kind == "stalled"
    critical = explorer.surface.critical_learning_rate
    pictures = {bytes(explorer.image.value)}
    explorer.learning_rate.value = 0.9 * critical
    assert explorer.verdict.kind in ("converged", "oscillating")
    pictures.add(bytes(explorer.image.value))
    explorer.learning_rate.value = 1.1 * critical
    assert explorer.verdict.kind == "diverged"
    assert f"{critical:.2f}" in explorer.readout.value
    pictures.add(bytes(explorer.image.value))
    assert len(pictures) == 3
    assert len(explorer.path) == explorer.steps.value + 1 or explorer.verdict.kind == "diverged"


def test_lr_explorer_extremes_warn_nothing():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explorer = lr_explorer(display=False, learning_rate=2.0, steps=100, momentum=True)
        assert explorer.verdict.kind == "diverged"
        explorer.learning_rate.value = 0.001
        explorer.steps.value = 1
        assert explorer.verdict.kind == "stalled"


def test_lr_explorer_path_follows_real_sgd_steps():
    explorer = lr_explorer(display=False, learning_rate=0.05, steps=3)
    surface = explorer.surface
    from course_helpers.widgets.surface_explorer import START
    w, b = torch.tensor(START[0]), torch.tensor(START[1])
    for _ in range(3):
        residual = w * surface.x + b - surface.y
        w, b = w - 0.05 * 2 * (residual * surface.x).mean(), b - 0.05 * 2 * residual.mean()
    assert explorer.path[-1] == pytest.approx((w.item(), b.item()), rel=1e-5)


# ---- live curves ------------------------------------------------------------------------------

def test_live_curves_record_and_redraw_each_epoch():
    curves = LiveCurves(["train_loss", "val_loss"], ["val_acc"], display=False, min_interval=0)
    first = bytes(curves.image.value)
    curves.update(1, train_loss=1.0, val_loss=1.2, val_acc=torch.tensor(0.5))
    second = bytes(curves.image.value)
    curves.update(2, train_loss=0.5, val_loss=0.7)  # a missing value is a gap, not an error
    assert len({first, second, bytes(curves.image.value)}) == 3
    assert curves.history == {"train_loss": [1.0, 0.5], "val_loss": [1.2, 0.7],
                              "val_acc": [0.5, pytest.approx(math.nan, nan_ok=True)]}
    assert list(curves.lines["val_loss"].get_ydata()) == [1.2, 0.7]


def test_live_curves_space_out_redraws_but_draw_the_rest():
    curves = LiveCurves(["loss"], display=False, min_interval=60)
    curves.update(1, loss=1.0)      # first update draws at once
    drawn = bytes(curves.image.value)
    curves.update(2, loss=0.5)      # too soon: recorded, not drawn
    assert bytes(curves.image.value) == drawn and curves._undrawn
    curves.draw()
    assert bytes(curves.image.value) != drawn and not curves._undrawn


def test_live_curves_log_panel_and_a_lone_right_panel_warn_nothing():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        curves = LiveCurves(["loss"], ["acc"], log_left=True, display=False, min_interval=0)
        assert [a.get_yscale() for a in curves.axes] == ["log", "linear"]
        curves.update(1, loss=2.0, acc=0.1)
        curves.update(2, loss=0.0, acc=math.nan)  # not drawable on a log axis: a gap
        lone = LiveCurves([], ["val_acc"], log_left=True, display=False, min_interval=0)
        assert len(lone.axes) == 1 and lone.axes[0].get_yscale() == "linear"
        lone.update(1, val_acc=0.5)


def test_live_curves_refuse_unknown_names_and_non_numbers():
    curves = LiveCurves(["train_loss"], ["val_acc"], display=False)
    with pytest.raises(ValueError, match="no curve named 'val_los'"):
        curves.update(1, val_los=0.3)
    with pytest.raises(TypeError, match="train_loss must be a number"):
        curves.update(1, train_loss=[0.3])
    assert curves.epochs == []
    with pytest.raises(ValueError, match="identifiers"):
        LiveCurves(["train loss"], display=False)
    with pytest.raises(ValueError, match="both panels"):
        LiveCurves(["loss"], ["loss"], display=False)


# ---- the static fallback ----------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.timeout(120)
def test_in_a_kernel_each_widget_is_shown_once_with_a_png_and_no_stderr():
    import nbformat
    from nbclient import NotebookClient

    cells = [
        "from course_helpers.widgets import lr_explorer, loss_explorer, LiveCurves",
        "lr_explorer()",
        "explorer = loss_explorer()\nexplorer.learning_rate.value = 10.0",
        "curves = LiveCurves(['train_loss', 'val_loss'], ['val_acc'])",
        "for epoch in range(1, 4):\n"
        "    curves.update(epoch, train_loss=1 / epoch, val_loss=1.2 / epoch, val_acc=1 - 1 / epoch)",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(notebook, timeout=60, store_widget_state=False).execute()
    outputs = [cell.outputs for cell in notebook.cells]
    assert outputs[0] == []
    assert outputs[4] == [], "updating the curves in a later cell added an output"
    for cell_outputs, words in zip(outputs[1:4], ["Learning-rate explorer", "Loss explorer", "LiveCurves"]):
        assert [o.output_type for o in cell_outputs] == ["display_data"], cell_outputs
        data = cell_outputs[0].data
        assert {WIDGET_VIEW, "image/png", "text/plain"} <= set(data)
        assert base64.b64decode(data["image/png"]).startswith(PNG_SIGNATURE)
        assert data["text/plain"].startswith(words)
    # The live curves' static picture is brought up to date when the updating cell finishes.
    assert "after epoch 3" in outputs[3][0].data["text/plain"]

def test_display_bundle_carries_widget_and_png():
    explorer = loss_explorer(display=False)
    bundle = widget_bundle(explorer.view, explorer.image.value, "text")
    assert bundle[WIDGET_VIEW]["model_id"] == explorer.view.model_id
    assert bundle[WIDGET_VIEW]["version_major"] == 2
    assert base64.b64decode(bundle["image/png"]) == bytes(explorer.image.value)
    assert bundle["text/plain"] == "text"
