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


def show_static(figure: Figure) -> None:
    """Display a figure as a plain PNG output (what nbconvert and GitHub can show)."""
    from IPython.display import Image, display

    display(Image(data=png_bytes(figure), format="png"))


def quick_figure(width: float, height: float, columns: int = 1, dpi: int = 72) -> tuple[Figure, list]:
    """A pyplot-free figure for redrawing many times: fixed margins, an Agg canvas attached.

    `new_figure`'s constrained layout re-solves the layout on every draw; an explorer
    that redraws on each slider move keeps its margins fixed instead.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = [figure.add_subplot(1, columns, i + 1) for i in range(columns)]
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.16, top=0.9, wspace=0.25)
    return figure, axes


def png_bytes(figure: Figure) -> bytes:
    """Draw a figure with the Agg canvas (no display needed) and encode it as PNG quickly."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = figure.canvas if isinstance(figure.canvas, FigureCanvasAgg) else FigureCanvasAgg(figure)
    canvas.draw()
    return canvas_png_bytes(canvas)


def canvas_png_bytes(canvas) -> bytes:
    """Encode what an Agg canvas holds now as PNG: no alpha channel, light compression.

    `savefig` would draw the whole figure again and compress at zlib's default level; a
    plot of lines on white compresses nearly as well at level 1, in about half the time.
    """
    from PIL import Image

    rgba = canvas.buffer_rgba()
    image = Image.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba, "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def fix_text_positions(axes) -> None:
    """Pin an axes' title and x label in place, so a redraw skips measuring tick labels for them.

    Matplotlib re-measures every tick label on each draw to keep the title and labels
    clear of them; with fixed margins their places never change, and a redraw gets
    cheaper by about a fifth.
    """
    axes.set_title(axes.get_title(), fontsize=axes.title.get_fontsize(), y=1.0)  # y: no auto-placing
    axes.xaxis.set_label_coords(0.5, -0.13)


def short_number(value: float, position=None) -> str:
    """A tick label: 0.01, 1, 1000, then 1e4, 1e12 (never 1e+12)."""
    if 1e-3 <= abs(value) < 1e4 or value == 0:
        return f"{value:g}"
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def plain_log_axis(axes) -> None:
    """Log-scale y axis with decade ticks labelled as plain numbers and no minor ticks.

    Matplotlib's default log labels (10⁻¹ typeset as math) and its minor ticks took about
    a quarter of an explorer's drawing time.
    """
    from matplotlib.ticker import FuncFormatter, NullLocator

    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(FuncFormatter(short_number))
    axes.yaxis.set_minor_locator(NullLocator())


class PartialRedraw:
    """Redraw only the parts of a figure that change; paint the rest from a saved picture.

    An explorer's figure is mostly fixed (a contour plot, the data points, titles, a
    legend) with a few artists that change on every slider move. `capture()` draws the
    figure once without the changing artists and keeps the pixels; `png()` pastes them
    back and draws only the changing artists on top. The result is the same picture as a
    full redraw (give or take anti-aliasing at a few edges) for a fraction of the work.
    """

    def __init__(self, figure: Figure, changing: list):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.figure = figure
        self.canvas = figure.canvas if isinstance(figure.canvas, FigureCanvasAgg) else FigureCanvasAgg(figure)
        self.changing = changing
        self.background = None

    def capture(self) -> None:
        """Draw and keep everything but the changing artists (call again after changing those)."""
        shown = [artist.get_visible() for artist in self.changing]
        for artist in self.changing:
            artist.set_visible(False)
        self.canvas.draw()
        for artist, visible in zip(self.changing, shown):
            artist.set_visible(visible)
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)

    def png(self) -> bytes:
        if self.background is None:
            self.capture()
        self.canvas.restore_region(self.background)
        for artist in self.changing:
            self.figure.draw_artist(artist)
        return canvas_png_bytes(self.canvas)
