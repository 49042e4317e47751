"""A progress bar that static views show finished, not stuck at 0 %.

`tqdm.auto` draws a widget in a notebook, and what a static view (GitHub, nbviewer,
exported HTML) keeps of a widget is its text at the moment it was displayed:
"epoch 1:   0%|          | 0/29". This bar is the same tqdm bar, shown under a display
id, and when it closes its output is updated to its final line. Use it as tqdm.auto:
`from course_helpers.progress import tqdm`.
"""
import html

from tqdm.auto import tqdm as auto_tqdm
from tqdm.notebook import tqdm as notebook_tqdm

from course_helpers.widgets.display import in_notebook_kernel, widget_bundle


class NotebookProgress(notebook_tqdm):
    """tqdm's notebook bar whose static fallback always says how far it got."""

    _output = None

    def __init__(self, *args, **kwargs):
        kwargs["display"] = False  # shown here, under a display id, instead
        super().__init__(*args, **kwargs)
        if not self.disable:
            from IPython.display import display

            self._output = display(self._bundle(), raw=True, display_id=True)

    def _bundle(self) -> dict:
        line = str(self)
        return widget_bundle(self.container, None, line, f"<pre>{html.escape(line)}</pre>")

    def close(self):
        super().close()
        if self._output is not None:
            self._output.update(self._bundle(), raw=True)
            self._output = None


tqdm = NotebookProgress if in_notebook_kernel() else auto_tqdm
