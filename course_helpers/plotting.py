"""Figures without pyplot's global state, shown as a live widget image or a static PNG.

Live plots redraw by replacing the bytes of an `ipywidgets.Image`: that never
flickers, works with ipywidgets 7 (Colab) and 8, and needs no custom widget manager.
Where no widget front end runs (nbconvert, GitHub, nbviewer) the same figure is shown
as a plain PNG instead, so a rendered notebook still shows a picture.
"""
import io

from matplotlib.figure import Figure


def new_figure(width: float = 8.0, height: float = 3.0, columns: int = 1) -> tuple[Figure, list]:
    """A pyplot-free figure with `columns` axes side by side."""
    figure = Figure(figsize=(width, height), dpi=72, layout="constrained")
    axes = [figure.add_subplot(1, columns, i + 1) for i in range(columns)]
    return figure, axes


def png_bytes(figure: Figure, dpi: int = 72) -> bytes:
    """Render a figure to PNG bytes with the Agg canvas (no display needed)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def show_static(figure: Figure) -> None:
    """Display a figure as a plain PNG output (what nbconvert and GitHub can show)."""
    from IPython.display import Image, display

    display(Image(data=png_bytes(figure), format="png"))
