"""Phase 3's learning-rate explorer: the path gradient descent takes across a loss surface.

The surface is the mean squared error of a line y = w·x + b on a few points, seen from
above as contours over (w, b). Each step is a real `torch.optim.SGD` step. Small
learning rates crawl, larger ones zig-zag across the narrow valley, and past
2 / (largest curvature) every step overshoots further than the last: the loss diverges.
"""
import html
import math

import ipywidgets as widgets
import numpy as np
import torch

from course_helpers.plotting import PartialRedraw, fix_text_positions, plain_log_axis, quick_figure
from course_helpers.widgets.display import ShownOncePerCell, show_widget
from course_helpers.widgets.readout import Verdict

START = (4.5, -2.0)   # where every path begins (w, b): across the valley, so zig-zags show
W_RANGE, B_RANGE = (-2.0, 5.0), (-3.0, 6.0)


def make_points(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """20 points near y = 2x + 1 with x in [0, 2]: x is not centred, so the valley is narrow."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(20, generator=generator) * 2
    return x, 2 * x + 1 + 0.3 * torch.randn(20, generator=generator)


class Surface:
    """The MSE of y = w·x + b over the points, its minimum and its curvature."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor):
        self.x, self.y = x, y
        xs, ys = x.double().numpy(), y.double().numpy()
        design = np.stack([xs, np.ones_like(xs)], axis=1)
        self.minimum = np.linalg.lstsq(design, ys, rcond=None)[0]
        self.best_loss = float(np.mean((design @ self.minimum - ys) ** 2))
        hessian = 2 * design.T @ design / len(xs)
        curvatures, directions = np.linalg.eigh(hessian)
        self.steepest = float(curvatures[-1])
        self.across_valley = directions[:, -1]  # the direction of the steepest walls

    @property
    def critical_learning_rate(self) -> float:
        """Above this, plain gradient descent overshoots more at every step (2 / λ_max)."""
        return 2 / self.steepest

    def grid(self, n: int = 80):
        w, b = np.meshgrid(np.linspace(*W_RANGE, n), np.linspace(*B_RANGE, n))
        xs, ys = self.x.double().numpy(), self.y.double().numpy()
        residual = w[..., None] * xs + b[..., None] - ys
        return w, b, np.mean(residual ** 2, axis=-1)

    def descend(self, learning_rate: float, steps: int, momentum: float = 0.0):
        """Run `steps` optimizer steps from START: the (w, b) path and the loss at each point."""
        w = torch.tensor(START[0], requires_grad=True)
        b = torch.tensor(START[1], requires_grad=True)
        optimizer = torch.optim.SGD([w, b], lr=learning_rate, momentum=momentum)
        path, losses = [START], []
        for _ in range(steps):
            optimizer.zero_grad()
            loss = torch.mean((w * self.x + b - self.y) ** 2)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            path.append((w.item(), b.item()))
            if not math.isfinite(losses[-1]) or abs(w.item()) > 1e6:
                break
        with torch.no_grad():
            losses.append(torch.mean((w * self.x + b - self.y) ** 2).item())
        return path, losses


def read_path(surface: Surface, path, losses) -> Verdict:
    """One sentence about a descent path: diverged, reached the minimum, zig-zag, or crawling."""
    steps = len(path) - 1
    first, last = losses[0], losses[-1]
    limit = f"For this surface plain gradient descent diverges above lr ≈ {surface.critical_learning_rate:.2f}."
    if not math.isfinite(last) or last > first:
        shown = "inf" if not math.isfinite(last) else f"{last:.3g}"
        return Verdict("diverged", f"Diverged: every step overshoots the valley by more than the "
                       f"last, and the loss grew from {first:.3g} to {shown} in {steps} steps. {limit}")
    rising = len(losses) > 4 and all(b > a for a, b in zip(losses[-4:], losses[-3:]))
    if rising and last > 2 * min(losses):
        return Verdict("diverged", f"Diverging: the loss fell to {min(losses):.3g}, then every step "
                       f"overshot further and it grew back to {last:.3g}. {limit}")
    across = [float(np.dot(np.subtract(b, a), surface.across_valley)) for a, b in zip(path, path[1:])]
    reversals = sum(1 for a, b in zip(across, across[1:]) if a * b < 0)
    gap = last - surface.best_loss
    done = gap < 0.01 * (first - surface.best_loss)
    zigzag = reversals >= max(2, len(across) // 3)
    w_end, b_end = path[-1]
    if done:
        how = ", zig-zagging across the valley on the way" if zigzag else ""
        return Verdict("converged", f"Reached the minimum (w = {w_end:.2f}, b = {b_end:.2f}, loss "
                       f"{last:.3g}) within {steps} steps{how}.")
    if zigzag:
        return Verdict("oscillating", f"Zig-zag: the steps bounce from one wall of the valley to the "
                       f"other ({reversals} reversals in {steps} steps); the loss is {last:.3g}, the "
                       f"minimum {surface.best_loss:.3g}. A smaller learning rate goes straighter. {limit}")
    return Verdict("stalled", f"Crawling: after {steps} steps the loss is {last:.3g}, still far above "
                   f"the minimum {surface.best_loss:.3g}. The steps are too small: raise the learning rate.")


class LrExplorer(ShownOncePerCell):
    """Learning-rate and step-count sliders over a contour plot of the loss surface."""

    def __init__(self, learning_rate: float = 0.1, steps: int = 30, momentum: bool = False):
        self.surface = Surface(*make_points())
        style = {"description_width": "initial"}
        self.learning_rate = widgets.FloatLogSlider(value=learning_rate, base=10, min=-3, max=0.3,
                                                    step=0.05, description="learning rate",
                                                    continuous_update=False, readout_format=".3g",
                                                    style=style)
        self.steps = widgets.IntSlider(value=steps, min=1, max=100, description="steps",
                                       continuous_update=False, style=style)
        self.momentum = widgets.Checkbox(value=momentum, description="momentum 0.9", indent=False)
        self.image = widgets.Image(format="png")
        self.readout = widgets.HTML()
        for name, control in [("lr", self.learning_rate), ("steps", self.steps),
                              ("momentum", self.momentum), ("image", self.image), ("readout", self.readout)]:
            control.add_class(f"lr-explorer-{name}")
        self.view = widgets.VBox([widgets.HBox([self.learning_rate, self.steps, self.momentum]),
                                  self.image, self.readout])
        self.view.add_class("lr-explorer")
        self._draw_static_parts()
        self.image.width = str(int(self.figure.bbox.width))  # shown at its own size: sharp, not scaled
        self.refresh()
        for control in (self.learning_rate, self.steps, self.momentum):
            control.observe(lambda change: self.refresh(), names="value")

    def _draw_static_parts(self):
        self.figure, (surface_axes, loss_axes) = quick_figure(9, 3.4, columns=2)
        w, b, loss = self.surface.grid()
        surface_axes.contour(w, b, loss, levels=np.geomspace(loss.min() + 0.05, loss.max(), 14),
                             colors="grey", linewidths=0.7)
        surface_axes.plot(*self.surface.minimum, marker="*", color="tab:green", markersize=12,
                          linestyle="none", label="minimum")
        self.path_line, = surface_axes.plot([], [], marker="o", markersize=3, color="tab:red",
                                            linewidth=1, label="steps")
        surface_axes.set_xlim(*W_RANGE)
        surface_axes.set_ylim(*B_RANGE)
        surface_axes.set_xlabel("w (slope)")
        surface_axes.set_ylabel("b (intercept)")
        surface_axes.set_title("loss surface seen from above", fontsize=10)
        surface_axes.legend(loc="upper right", fontsize=8)
        self.loss_line, = loss_axes.plot([], [], color="tab:red")
        loss_axes.axhline(self.surface.best_loss, color="tab:green", linestyle=":", label="minimum")
        plain_log_axis(loss_axes)
        loss_axes.set_xlabel("step")
        loss_axes.set_title("loss after each step (log scale)", fontsize=10)
        loss_axes.legend(loc="upper right", fontsize=8)
        self.loss_axes = loss_axes
        for axes in (surface_axes, loss_axes):
            fix_text_positions(axes)
        # The contours never change: only the path and the loss panel are drawn on each move.
        self.redraw = PartialRedraw(self.figure, [self.path_line, loss_axes])
        self.redraw.capture()

    def refresh(self):
        """Re-run the descent for the current sliders and redraw."""
        momentum = 0.9 if self.momentum.value else 0.0
        path, losses = self.surface.descend(self.learning_rate.value, self.steps.value, momentum)
        self.path, self.losses = path, losses
        self.verdict = read_path(self.surface, path, losses)
        ws, bs = zip(*path)
        self.path_line.set_data(ws, bs)
        shown = [v if math.isfinite(v) else math.nan for v in losses]
        self.loss_line.set_data(range(len(shown)), shown)
        finite = [v for v in shown if math.isfinite(v)] + [self.surface.best_loss]
        self.loss_axes.set_xlim(0, max(self.steps.value, 1))
        self.loss_axes.set_ylim(min(finite) / 2, min(max(finite), 1e12) * 2)
        self.image.value = self.redraw.png()
        self.readout.value = f'<p class="verdict-{self.verdict.kind}">{html.escape(self.verdict.text)}</p>'

    def show(self):
        show_widget(self.view, self.image.value, f"Learning-rate explorer: {self.verdict.text}")
        self._mark_shown()
        return self

    def __repr__(self):
        return f"<LrExplorer lr={self.learning_rate.value:.3g} steps={self.steps.value}: {self.verdict.kind}>"


def lr_explorer(learning_rate: float = 0.1, steps: int = 30, momentum: bool = False,
                display: bool = True) -> LrExplorer:
    """Show the phase-3 learning-rate explorer and return it."""
    explorer = LrExplorer(learning_rate, steps, momentum)
    if display:
        explorer.show()
    return explorer
