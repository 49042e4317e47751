"""Show a widget so that front ends without widgets still get a picture.

A widget is only a reference to live state in the kernel: GitHub, nbviewer and
nbconvert have no kernel, so they would show nothing at all. Sending one output that
carries both the widget view and a PNG (or HTML) lets each front end pick what it can
render: JupyterLab, Notebook 7, VS Code and Colab rank the widget first, the others fall
back to the picture.
"""
import base64

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def in_notebook_kernel() -> bool:
    """True inside an IPython kernel (where `display` reaches a front end)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def widget_bundle(widget, png: bytes | None, text: str, html: str | None = None) -> dict:
    """The output data for `widget`, with a PNG, an HTML and a text fallback (ipywidgets 7 and 8).

    Each fallback is whole: ipywidgets' own `text/plain` is the widget's repr cut at 110
    characters, which in a static view reads as a broken widget.
    """
    bundle = {WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": widget.model_id},
              "text/plain": text}
    if png is not None:
        bundle["image/png"] = base64.b64encode(png).decode("ascii")
    if html is not None:
        bundle["text/html"] = html
    return bundle


def show_widget(widget, png: bytes, text: str, display_id: str | None = None):
    """Display `widget` with its static fallback; returns the display handle (None outside a kernel)."""
    if not in_notebook_kernel():
        return None
    from IPython.display import display

    return display(widget_bundle(widget, png, text), raw=True, display_id=display_id or True)


class ShownOncePerCell:
    """Mixin: an object that displays itself when made is not displayed again by the same cell.

    `lr_explorer()` as a cell's last line both displays the explorer and returns it;
    without this, IPython would display the returned object a second time.
    """

    _shown_in_cell = None

    def _mark_shown(self):
        self._shown_in_cell = _execution_count()

    def _ipython_display_(self):
        if self._shown_in_cell is not None and self._shown_in_cell == _execution_count():
            return
        self.show()

    def show(self):  # pragma: no cover - each class provides its own
        raise NotImplementedError


def _execution_count():
    from IPython import get_ipython

    shell = get_ipython()
    return getattr(shell, "execution_count", None)
