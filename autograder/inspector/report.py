"""The result of one check: which exercise, which fixtures, and the diagnoses found."""
from dataclasses import dataclass, field

from autograder.diagnoses import CONCERNS, Diagnosis


@dataclass(repr=False)
class Report:
    exercise: str
    hidden: bool
    diagnoses: list[Diagnosis]
    params: dict = field(default_factory=dict)
    seconds: float = 0.0  # time the learner's function ran
    output: str = ""  # what the learner's function printed (captured, never shown in a test cell)
    curve: list = field(default_factory=list)  # the learner's training losses, in the order computed
    reference_curve: list = field(default_factory=list)  # a correct loop's, on the same fixtures
    facts: dict = field(default_factory=dict)  # what the run did, in counts (Trace.facts)
    _shown: bool = field(default=False, compare=False)  # `check` already displayed it

    @property
    def passed(self) -> bool:
        return not self.diagnoses

    @property
    def codes(self) -> list[str]:
        return [d.code for d in self.diagnoses]

    def failing(self, concern: str | None = None) -> list[Diagnosis]:
        """The diagnoses that fail `concern` (all of them for None); "runs" fails every concern."""
        if concern is not None and concern not in CONCERNS:
            raise ValueError(f"unknown concern {concern!r}: use one of {', '.join(CONCERNS)}")
        return [d for d in self.diagnoses if concern is None or d.concern in ("runs", concern)]

    def passes(self, concern: str | None = None) -> bool:
        return not self.failing(concern)

    def __str__(self) -> str:
        from autograder.render import text
        return text(self)

    def _repr_html_(self) -> str:
        from autograder.render import html
        return html(self)

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else "failed: " + ", ".join(self.codes)
        return f"<Report {self.exercise} ({'hidden' if self.hidden else 'public'}): {verdict}>"

    def _ipython_display_(self):
        """Show as HTML, except right after `check` displayed it (the cell's Out[] would repeat it)."""
        if self._shown:
            self._shown = False
            return
        from IPython.display import display
        display({"text/html": self._repr_html_(), "text/plain": str(self)}, raw=True)
