"""Phase 4's loss explorer: move a slider, the model re-trains, the curves and the fit redraw.

Controls: learning rate (log scale), epochs, batch size, optimizer, three bug toggles
(skip `zero_grad`, `step` before `backward`, validate without `model.eval()`) and a
log/linear loss axis. Under the plot, one sentence says what the curves show.

Speed matters here: the picture should follow the slider within about a tenth of a
second on a 2-core laptop. Where the time went, and what this file does about it
(measured with benchmarks/widget_latency.py):

- training (about half): a real loop, on one thread (see `toy_training.one_thread`),
  re-run only when a slider is released (`continuous_update=False`);
- drawing (about a quarter, was half): one figure kept for good, lines updated with
  `set_data`, the fixed half of the picture pasted from a saved copy (`PartialRedraw`),
  no legend, title or math-typeset tick labels inside the panel that changes;
- PNG encoding (a few ms): our own, without alpha and at zlib level 1.
"""
import html
import math
import time

import ipywidgets as widgets

from course_helpers.plotting import PartialRedraw, fix_text_positions, plain_log_axis, quick_figure
from course_helpers.widgets.display import ShownOncePerCell, show_widget
from course_helpers.widgets.readout import Verdict, read_curves
from course_helpers.widgets.toy_training import OPTIMIZERS, Settings, make_data, train_toy

BATCH_SIZES = (2, 4, 8, 16)  # the data has 16 training points
LEARNING_RATES = (1e-4, 10.0)
EPOCHS = (5, 300)
BUGS = {  # toggle label -> Settings field
    "skip zero_grad()": "skip_zero_grad",
    "step() before backward()": "step_before_backward",
    "validate without model.eval()": "validate_in_train_mode",
}


def describe(run) -> Verdict:
    """The readout for one run: a crash or frozen weights first, then what the curves show."""
    if run.error is not None:
        epoch = len(run.train_losses) + 1
        message = run.error.split(": [")[0]  # the sentence, without tensor details and hints
        return Verdict("crashed", f"Crashed in epoch {epoch}: {message}. "
                       "optimizer.step() changed a weight in place that backward() still needed.")
    if not run.train_losses:
        return Verdict("crashed", "No epoch finished.")
    verdict = read_curves(run.train_losses, run.val_losses, run.start_loss)
    if not run.weights_moved:
        return Verdict("stalled", f"Stalled: the weights never changed in {len(run.train_losses)} "
                       "epochs (the loss only moves with dropout's randomness): optimizer.step() "
                       "ran before backward() had put any gradient in .grad.")
    return verdict


class LossExplorer(ShownOncePerCell):
    """The controls, the image and the readout, wired together. `loss_explorer()` makes one."""

    def __init__(self, settings: Settings = Settings(), log_scale: bool = True):
        self.data = make_data(settings.seed)
        self._build_controls(settings, log_scale)
        self.image = widgets.Image(format="png")
        self.image.add_class("loss-explorer-image")
        self.readout = widgets.HTML()
        self.readout.add_class("loss-explorer-readout")
        self.figure, (self.loss_axes, self.fit_axes) = quick_figure(9, 3.2, columns=2)
        self.image.width = str(int(self.figure.bbox.width))  # shown at its own size: sharp, not scaled
        self._draw_static_parts()
        self.view = widgets.VBox([self.controls, self.image, self.readout])
        self.view.add_class("loss-explorer")
        self.timings: dict[str, float] = {}
        self.timing_log: list[dict] = []  # the last 100 refreshes, for benchmarks/widget_latency.py
        self.refresh()
        for control in self._all_controls():
            control.observe(self._on_change, names="value")

    # ---- controls -------------------------------------------------------------------
    def _build_controls(self, settings: Settings, log_scale: bool):
        style = {"description_width": "initial"}
        self.learning_rate = widgets.FloatLogSlider(
            value=settings.learning_rate, base=10, min=math.log10(LEARNING_RATES[0]),
            max=math.log10(LEARNING_RATES[1]), step=0.1,
            description="learning rate", continuous_update=False, readout_format=".4g", style=style)
        self.epochs = widgets.IntSlider(value=settings.epochs, min=EPOCHS[0], max=EPOCHS[1], step=5,
                                        description="epochs", continuous_update=False, style=style)
        self.batch_size = widgets.SelectionSlider(
            options=list(BATCH_SIZES), value=settings.batch_size,
            description="batch size", continuous_update=False, style=style)
        self.optimizer = widgets.ToggleButtons(options=list(OPTIMIZERS), value=settings.optimizer,
                                               description="optimizer", style=style)
        self.bugs = {label: widgets.Checkbox(value=getattr(settings, field), description=label,
                                             indent=False)
                     for label, field in BUGS.items()}
        self.log_scale = widgets.Checkbox(value=log_scale, description="log loss axis", indent=False)
        for name, control in [("lr", self.learning_rate), ("epochs", self.epochs),
                              ("batch-size", self.batch_size), ("optimizer", self.optimizer),
                              ("log-scale", self.log_scale)]:
            control.add_class(f"loss-explorer-{name}")
        for field, control in zip(BUGS.values(), self.bugs.values()):
            control.add_class("loss-explorer-" + field.replace("_", "-"))
        self.controls = widgets.VBox([
            widgets.HBox([self.learning_rate, self.epochs, self.batch_size]),
            self.optimizer,
            widgets.HBox([*self.bugs.values(), self.log_scale]),
        ])

    def _all_controls(self):
        return [self.learning_rate, self.epochs, self.batch_size, self.optimizer,
                *self.bugs.values(), self.log_scale]

    @property
    def settings(self) -> Settings:
        """The settings the controls show now."""
        bugs = {field: self.bugs[label].value for label, field in BUGS.items()}
        return Settings(learning_rate=self.learning_rate.value, epochs=self.epochs.value,
                        batch_size=self.batch_size.value, optimizer=self.optimizer.value, **bugs)

    # ---- drawing ----------------------------------------------------------------------
    def _draw_static_parts(self):
        x_train, y_train, x_val, y_val = self.data
        self.train_line, = self.loss_axes.plot([], [], color="tab:blue")
        self.val_line, = self.loss_axes.plot([], [], color="tab:orange")
        self.nan_marker = self.loss_axes.axvline(0, color="tab:red", linestyle=":", visible=False)
        # The loss panel's title, legend and label are figure texts outside the panel, so
        # they belong to the static background and are not drawn again on every refresh.
        box = self.loss_axes.get_position()
        self.figure.text(box.x0, box.y1 + 0.02, "loss per epoch:", fontsize=10)
        self.figure.text(box.x0 + 0.13, box.y1 + 0.02, "— training", color="tab:blue", fontsize=10)
        self.figure.text(box.x0 + 0.24, box.y1 + 0.02, "— validation", color="tab:orange", fontsize=10)
        self.figure.text((box.x0 + box.x1) / 2, 0.01, "epoch", ha="center", fontsize=10)
        self._loss_scale = None
        self.fit_axes.scatter(x_train.squeeze(1), y_train.squeeze(1), s=12, color="tab:blue", label="training points")
        self.fit_axes.scatter(x_val.squeeze(1), y_val.squeeze(1), s=8, color="tab:orange", alpha=0.4, label="validation points")
        self.fit_line, = self.fit_axes.plot([], [], color="black", label="model")
        self.fit_axes.set_xlim(-1.2, 1.2)
        self.fit_axes.set_ylim(-3.5, 3.5)
        self.fit_axes.set_xlabel("x")
        self.fit_axes.set_title("the data and the model's fit", fontsize=10)
        self.fit_axes.legend(loc="upper left", fontsize=8)
        fix_text_positions(self.fit_axes)
        # Only the loss panel and the fitted line change: the rest is painted from a saved picture.
        self.redraw = PartialRedraw(self.figure, [self.loss_axes, self.fit_line])
        self.redraw.capture()

    def render(self) -> bytes:
        """PNG bytes of the figure as it is now."""
        return self.redraw.png()

    def _update_artists(self, run):
        epochs = list(range(1, len(run.train_losses) + 1))
        train = [v if math.isfinite(v) else math.nan for v in run.train_losses]
        val = [v if math.isfinite(v) else math.nan for v in run.val_losses]
        self.train_line.set_data(epochs, train)
        self.val_line.set_data(epochs[:len(val)], val)
        bad = next((i + 1 for i, (t, v) in enumerate(zip(run.train_losses, run.val_losses))
                    if not (math.isfinite(t) and math.isfinite(v))), None)
        self.nan_marker.set_visible(bad is not None)
        if bad is not None:
            self.nan_marker.set_xdata([bad, bad])
        axes = self.loss_axes
        self._set_loss_scale("log" if self.log_scale.value else "linear")
        finite = [v for v in train + val + [run.start_loss] if math.isfinite(v) and v > 0]
        if finite:
            low, high = min(finite), min(max(finite), 1e12)
            if self.log_scale.value:
                axes.set_ylim(low / 1.5, high * 1.5)
            else:
                axes.set_ylim(0, high * 1.05)
        axes.set_xlim(0, max(self.settings.epochs, 1) + 1)
        fit = [v if math.isfinite(v) else math.nan for v in run.fit_y]
        self.fit_line.set_data(run.fit_x, fit)

    def _set_loss_scale(self, scale: str):
        """Linear or log loss axis (set only when it changes: setting it resets the ticks)."""
        if scale == self._loss_scale:
            return
        if scale == "log":
            plain_log_axis(self.loss_axes)
        else:
            self.loss_axes.set_yscale("linear")
        self._loss_scale = scale

    def refresh(self):
        """Re-train with the current settings, redraw, and update the readout."""
        clocks = [(time.perf_counter(), time.process_time())]
        self.run = train_toy(self.settings, self.data)
        clocks.append((time.perf_counter(), time.process_time()))
        self.verdict = describe(self.run)
        self._update_artists(self.run)
        png = self.render()
        clocks.append((time.perf_counter(), time.process_time()))
        self.image.value = png
        self.readout.value = f'<p class="verdict-{self.verdict.kind}">{html.escape(self.verdict.text)}</p>'
        clocks.append((time.perf_counter(), time.process_time()))
        self.timings = {}
        for part, (start, end) in zip(("train", "draw", "send"), zip(clocks, clocks[1:])):
            self.timings[f"{part}_ms"] = 1000 * (end[0] - start[0])
            self.timings[f"{part}_cpu_ms"] = 1000 * (end[1] - start[1])
        self.timing_log = self.timing_log[-99:] + [self.timings]

    def _on_change(self, change):
        self.refresh()

    def show(self):
        """Display the explorer (with a static picture for front ends without widgets)."""
        show_widget(self.view, self.image.value, f"Loss explorer: {self.verdict.text}")
        self._mark_shown()
        return self

    def __repr__(self):
        return f"<LossExplorer {self.settings}: {self.verdict.kind}>"


def _check_fits_sliders(settings: dict) -> None:
    """Refuse starting values the sliders cannot show (a slider would silently clamp them)."""
    rate, epochs, batch = (settings.get(k) for k in ("learning_rate", "epochs", "batch_size"))
    if rate is not None and not LEARNING_RATES[0] <= rate <= LEARNING_RATES[1]:
        raise ValueError(f"learning_rate must be between {LEARNING_RATES[0]:g} and "
                         f"{LEARNING_RATES[1]:g}, not {rate!r}.")
    if epochs is not None and not EPOCHS[0] <= epochs <= EPOCHS[1]:
        raise ValueError(f"epochs must be between {EPOCHS[0]} and {EPOCHS[1]}, not {epochs!r}.")
    if batch is not None and batch not in BATCH_SIZES:
        raise ValueError(f"batch_size must be one of {BATCH_SIZES} (the data has 16 training "
                         f"points), not {batch!r}.")


def loss_explorer(display: bool = True, **settings) -> LossExplorer:
    """Show the phase-4 loss explorer and return it.

    Keyword arguments set the starting values, e.g. `loss_explorer(learning_rate=1.0)`
    (names as in `toy_training.Settings`, plus `log_scale`).
    """
    log_scale = settings.pop("log_scale", True)
    unknown = sorted(set(settings) - set(Settings.__dataclass_fields__))
    if unknown:
        raise TypeError(f"loss_explorer() has no setting {', '.join(unknown)}; it knows "
                        f"{', '.join(Settings.__dataclass_fields__)} and log_scale.")
    _check_fits_sliders(settings)
    explorer = LossExplorer(Settings(**settings), log_scale=log_scale)
    if display:
        explorer.show()
    return explorer
