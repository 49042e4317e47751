"""Phase 6's live training curves: a plot that redraws itself after every epoch.

    curves = LiveCurves(["train_loss", "val_loss"], ["val_acc"])
    for epoch in range(1, epochs + 1):
        ...
        curves.update(epoch, train_loss=train_loss, val_loss=val_loss, val_acc=val_acc)

It is one `ipywidgets.Image` whose bytes are replaced: the picture swaps in place with
no blank frame, and a tqdm bar in the same cell keeps its own line. Redraws are spaced
at least `min_interval` seconds apart so that plotting never slows a fast loop down;
whatever is still undrawn is drawn when the cell finishes, and the finished picture is
also left behind as a plain PNG for viewers without widgets (nbconvert, GitHub).
"""
import math
import time

import ipywidgets as widgets
from matplotlib.ticker import MaxNLocator

from course_helpers.plotting import png_bytes, fix_text_positions, plain_log_axis, quick_figure
from course_helpers.widgets.display import ShownOncePerCell, show_widget, widget_bundle

COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


class LiveCurves(ShownOncePerCell):
    """Curves named in `left` (e.g. losses) and `right` (e.g. accuracy), one panel each."""

    def __init__(self, left=("train_loss", "val_loss"), right=(), *, log_left: bool = False,
                 min_interval: float = 0.2, display: bool = True):
        left, right = _names(left, "left"), _names(right, "right")
        if not left and not right:
            raise ValueError("LiveCurves needs at least one curve name, e.g. LiveCurves(['train_loss']).")
        if set(left) & set(right):
            raise ValueError(f"A curve cannot be in both panels: {sorted(set(left) & set(right))}.")
        # (names, legend corner, log scale) per panel. Fixed corners ("best" would re-measure
        # every draw): losses fall away from the upper right, accuracies rise away from the lower right.
        panels = [(names, corner, log) for names, corner, log in
                  ((left, "upper right", log_left), (right, "lower right", False)) if names]
        self.panels = [names for names, _, _ in panels]
        self.min_interval = min_interval
        self.epochs: list = []
        self.history = {name: [] for names in self.panels for name in names}
        self.figure, axes = quick_figure(9 if len(panels) == 2 else 5, 3, len(panels))
        self.lines = {}
        colours = iter(COLOURS * 3)
        for panel, (names, corner, log) in zip(axes, panels):
            for name in names:
                self.lines[name], = panel.plot([], [], marker="o", markersize=3, color=next(colours),
                                               label=name.replace("_", " "))
            panel.set_xlabel("epoch")
            panel.xaxis.set_major_locator(MaxNLocator(integer=True))
            panel.legend(loc=corner, fontsize=8)
            fix_text_positions(panel)
            if log:
                plain_log_axis(panel)
        self.axes = axes
        self.image = widgets.Image(format="png", value=png_bytes(self.figure))
        self.image.add_class("live-curves-image")
        self.image.width = str(int(self.figure.bbox.width))  # shown at its own size: sharp, not scaled
        self._last_draw = -math.inf
        self._undrawn = False
        self._handle = None
        self._hooked = False
        if display:
            self.show()

    def update(self, epoch, **values):
        """Record this epoch's values (numbers or 0-d tensors) and redraw if it is time."""
        unknown = sorted(set(values) - set(self.history))
        if unknown:
            raise ValueError(f"LiveCurves was made for {sorted(self.history)}; it has no curve "
                             f"named {', '.join(map(repr, unknown))}.")
        numbers = {}
        for name, value in values.items():
            try:
                numbers[name] = float(value)
            except (TypeError, ValueError):
                raise TypeError(f"{name} must be a number (or a one-element tensor), "
                                f"not {type(value).__name__}.") from None
        self.epochs.append(epoch)
        for name, series in self.history.items():
            series.append(numbers.get(name, math.nan))
        self._undrawn = True
        self._watch_cell_end()
        if time.perf_counter() - self._last_draw >= self.min_interval:
            self.draw()

    def draw(self):
        """Redraw the picture now with everything recorded so far."""
        for name, line in self.lines.items():
            line.set_data(self.epochs, [v if math.isfinite(v) else math.nan for v in self.history[name]])
        for panel in self.axes:
            panel.relim()
            panel.autoscale_view()
        self.image.value = png_bytes(self.figure)
        self._last_draw = time.perf_counter()
        self._undrawn = False

    def show(self):
        """Display the live plot; when the cell finishes, the last picture is drawn and kept."""
        self._handle = show_widget(self.image, self.image.value, self._text())
        self._mark_shown()
        return self

    def _watch_cell_end(self):
        """Once per cell that updates the curves: bring the static picture up to date at its end."""
        if self._handle is None or self._hooked:
            return
        from IPython import get_ipython

        get_ipython().events.register("post_run_cell", self._finish_cell)
        self._hooked = True

    def _finish_cell(self, result=None):
        """After the cell: draw what is left, and leave the final PNG as the static fallback."""
        from IPython import get_ipython

        get_ipython().events.unregister("post_run_cell", self._finish_cell)
        self._hooked = False
        if self._undrawn:
            self.draw()
        self._handle.update(widget_bundle(self.image, self.image.value, self._text()), raw=True)

    def _text(self) -> str:
        if not self.epochs:
            return f"LiveCurves({', '.join(self.history)}): no epochs yet"
        last = ", ".join(f"{name} {series[-1]:.4g}" for name, series in self.history.items())
        return f"LiveCurves after epoch {self.epochs[-1]}: {last}"

    def __repr__(self):
        return f"<{self._text()}>"


def _names(names, side: str) -> list[str]:
    if isinstance(names, str):
        names = [names]
    names = list(names)
    for name in names:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"Curve names ({side}) must be identifiers such as 'val_loss', not {name!r}.")
    return names
