"""Interactive figures for the course: core ipywidgets only, so they run in JupyterLab,
Notebook 7, VS Code and Colab (ipywidgets 7.7 and 8), drawn without pyplot's global
state, and shown as a static PNG where no widget front end runs.

    from course_helpers.widgets import lr_explorer, loss_explorer, LiveCurves
    lr_explorer()                  # phase 3: the optimizer's path on a loss surface
    explorer = loss_explorer()     # phase 4: re-train on every slider move, read the curves
    curves = LiveCurves(["train_loss", "val_loss"], ["val_acc"])   # phase 6: live curves
"""
from course_helpers.widgets.live_curves import LiveCurves
from course_helpers.widgets.curves_explorer import LossExplorer, loss_explorer
from course_helpers.widgets.surface_explorer import LrExplorer, lr_explorer
from course_helpers.widgets.readout import Verdict, read_curves

__all__ = ["LiveCurves", "LossExplorer", "LrExplorer", "Verdict", "loss_explorer", "lr_explorer",
           "read_curves"]
