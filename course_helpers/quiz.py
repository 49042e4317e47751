"""Multiple-choice questions that answer back at once, with the reason.

A quiz question is worth asking only if a wrong answer teaches something, so every
option carries its own explanation and picking it shows that explanation.
Core widgets only (ipywidgets 7 and 8); where no widget front end runs (GitHub,
nbviewer, exported HTML) the whole question and its options show as text and HTML.
"""
import html
from dataclasses import dataclass

import ipywidgets as widgets
from IPython.display import display

from course_helpers.widgets.display import widget_bundle


@dataclass
class Question:
    """One question: the options in order, each option's explanation, the right key."""

    text: str
    options: dict[str, str]  # option text -> explanation shown when it is picked
    correct: str

    def __post_init__(self):
        if self.correct not in self.options:
            raise ValueError(f"The correct option {self.correct!r} is not one of the options.")

    def feedback(self, choice: str) -> str:
        """The text shown after `choice` is picked: right or wrong, then why."""
        verdict = "Right." if choice == self.correct else "Not quite."
        return f"{verdict} {self.options[choice]}"


class QuizBox(widgets.VBox):
    """A VBox that static views show as the question itself, whole.

    Where no widget front end runs (GitHub, nbviewer, nbconvert), a widget output falls
    back to its `text/plain` or `text/html` form. ipywidgets (7 and 8) would send the
    repr cut at 110 characters, so this box sends its own: the question and every option,
    in plain text and in HTML, next to the widget view.
    """

    question: Question | None = None
    _shown_in_cell: object = None

    def _ipython_display_(self):
        """Show once per cell: `multiple_choice(...)` as a cell's last line displays the
        question and returns it, and IPython would otherwise show it a second time."""
        cell = _execution_count()
        if cell is not None and cell == self._shown_in_cell:
            return
        self._shown_in_cell = cell
        if self.question is None:
            display(widget_bundle(self, None, super().__repr__()), raw=True)
        else:
            display(widget_bundle(self, None, repr(self), self._static_html()), raw=True)
        if hasattr(self, "_handle_displayed"):  # ipywidgets 7 runs its on_displayed callbacks here
            self._handle_displayed()

    def __repr__(self) -> str:
        if self.question is None:
            return super().__repr__()
        lines = [self.question.text] + [f"  ( ) {option}" for option in self.question.options]
        return "\n".join(lines + [RUN_TO_ANSWER])

    def _static_html(self) -> str:
        options = "".join(f"<li>&#9675; {html.escape(option)}</li>" for option in self.question.options)
        return (f'<div class="course-quiz"><p><b>{html.escape(self.question.text)}</b></p>'
                f'<ul style="list-style: none; padding-left: 1em">{options}</ul>'
                f"<p><i>{html.escape(RUN_TO_ANSWER)}</i></p></div>")


RUN_TO_ANSWER = "(Run the notebook to pick an answer and see why.)"


def _execution_count():
    from IPython import get_ipython

    return getattr(get_ipython(), "execution_count", None)


def multiple_choice(text: str, options: dict[str, str], correct: str) -> widgets.VBox:
    """Show a question as radio buttons; picking an option shows its explanation."""
    question = Question(text, options, correct)
    buttons = widgets.RadioButtons(options=list(options), value=None,
                                   layout=widgets.Layout(width="max-content"))
    answer = widgets.HTML()

    def on_pick(change):
        if change["new"] is not None:
            colour = "green" if change["new"] == correct else "#b35900"
            answer.value = f'<span style="color:{colour}">{question.feedback(change["new"])}</span>'

    buttons.observe(on_pick, names="value")
    box = QuizBox([widgets.HTML(f"<b>{text}</b>"), buttons, answer])
    box.question = question
    box._ipython_display_()
    return box
