"""The evidence of a run as a practitioner reads it: one figure, the log, the device line.

Pyplot-free figures shown as PNG (`course_helpers.plotting`), so a static view of the
notebook (GitHub, nbviewer) shows the same pictures as a live kernel.
"""
import math

import numpy as np

from course_helpers.mysteries.evidence import Evidence
from course_helpers.plotting import fix_text_positions, plain_log_axis, quick_figure, show_static

CHANCE = 0.1  # ten digits


def _finite(values) -> np.ndarray:
    """NaN and inf leave a gap in a line instead of breaking the axis."""
    array = np.array(values, dtype=float)
    array[~np.isfinite(array)] = np.nan
    return array


def evidence_figure(evidence: Evidence, memory: bool = False):
    """Losses (training per step, validation per epoch), validation accuracy, gradient norms,
    and, with `memory`, the graph nodes earlier steps left alive."""
    columns = 2 + evidence.classifies + memory
    figure, axes = quick_figure(max(3.2 * columns, 9.0), 2.6, columns=columns)  # fixed margins: quick to draw
    figure.subplots_adjust(left=0.06, right=0.99, bottom=0.17, top=0.8, wspace=0.3)
    loss_axes, axes = axes[0], axes[1:]
    if evidence.classifies:
        acc_axes, axes = axes[0], axes[1:]
        acc_axes.plot([row["epoch"] for row in evidence.log], _finite(evidence.column("val_acc")), "o-",
                      color="tab:green")
        acc_axes.axhline(CHANCE, color="grey", ls=":", lw=1)
        acc_axes.text(1, CHANCE + 0.02, "chance", color="grey", fontsize=7)
        acc_axes.set(title="validation accuracy", xlabel="epoch", ylim=(0, 1))
    grad_axes = axes[0]
    per_epoch = evidence.batches_per_epoch
    steps = np.arange(1, len(evidence.step_loss) + 1)
    loss_axes.plot(steps, _finite(evidence.step_loss), lw=1, label="training (each batch)")
    epoch_ends = [row["epoch"] * per_epoch for row in evidence.log]
    loss_axes.plot(epoch_ends, _finite(evidence.column("val_loss")), "o-", label="validation (each epoch)")
    loss_axes.set(title="loss", xlabel="training batch")
    if np.nanmax(_finite(evidence.step_loss + evidence.column("val_loss")), initial=1.0) > 20:
        plain_log_axis(loss_axes)
    if evidence.step_loss:
        loss_axes.legend(fontsize=7)
    for name, norms in evidence.grad_norms.items():
        grad_axes.plot(np.arange(1, len(norms) + 1), _finite(norms), lw=1, label=name)
    grad_axes.set(title="gradient norm at each step", xlabel="optimizer step")
    if np.isfinite(_finite(sum(evidence.grad_norms.values(), []))).any():
        plain_log_axis(grad_axes)
        grad_axes.legend(fontsize=6)
    else:
        grad_axes.text(0.5, 0.5, "no gradient at any step", ha="center", transform=grad_axes.transAxes)
    if memory:
        mem_axes = axes[1]
        mem_axes.plot(np.arange(1, len(evidence.nodes_alive) + 1), evidence.nodes_alive, color="tab:red")
        mem_axes.set(title="graph nodes kept alive", xlabel="optimizer step")
    for each in figure.axes:
        each.title.set_fontsize(10)
        fix_text_positions(each)  # titles and labels need not be placed around tick labels: faster
    figure.suptitle(evidence.title, fontsize=10)
    return figure


def log_text(evidence: Evidence) -> str:
    """The metrics log as the run printed it, one line per epoch."""
    logs_lr = bool(evidence.log) and "lr" in evidence.log[0]
    lines = ["epoch  train_loss  val_loss" + ("  val_acc" if evidence.classifies else "") + ("        lr" if logs_lr else "")]
    for row in evidence.log:
        accuracy = f"  {row['val_acc']:7.1%}" if "val_acc" in row else ""
        lr = f"  {row['lr']:8.4g}" if "lr" in row else ""
        lines.append(f"{row['epoch']:5d}  {_number(row['train_loss']):>10}  {_number(row['val_loss']):>8}{accuracy}{lr}")
    return "\n".join(lines)


def grad_table(evidence: Evidence, steps: list[int]) -> str:
    """Gradient norms per parameter at the chosen optimizer steps (counting from 1)."""
    names = list(evidence.grad_norms)
    lines = ["step  " + "  ".join(f"{name:>12}" for name in names)]
    available = len(next(iter(evidence.grad_norms.values()), []))
    for step in steps:
        if 1 <= step <= available:
            lines.append(f"{step:4d}  " + "  ".join(f"{_number(evidence.grad_norms[name][step - 1]):>12}"
                                                    for name in names))
    return "\n".join(lines)


def _number(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def memory_line(evidence: Evidence) -> str:
    """The memory evidence in one line: graph nodes kept alive by earlier steps, at each epoch's end."""
    per_epoch = max(1, len(evidence.nodes_alive) // max(1, len(evidence.log)))  # optimizer steps
    at_ends = evidence.nodes_alive[per_epoch - 1::per_epoch]
    return "graph nodes kept alive by earlier steps, at the end of each epoch: " + " ".join(map(str, at_ends))


def show_evidence(evidence: Evidence | None, memory: bool = False, grad_steps: list[int] | None = None,
                  figure: bool = True) -> None:
    """Print the device line, the metrics log, the memory line and (optionally) a gradient-norm
    table; show the figure (with a memory panel when `memory`)."""
    if evidence is None:  # a rerun whose fix is not written yet
        return
    if evidence.device_line:
        print(evidence.device_line)
    print(log_text(evidence))
    if evidence.nodes_alive:
        print(memory_line(evidence))
    if grad_steps:
        print()
        print(grad_table(evidence, grad_steps))
    for note in evidence.notes:
        print(note)
    if figure:
        show_static(evidence_figure(evidence, memory=memory))
