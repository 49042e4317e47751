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
    curve: list[float] = field(default_factory=list)  # the learner's training losses, in the order computed
    reference_curve: list[float] = field(default_factory=list)  # a correct loop's, on the same fixtures
    facts: dict = field(default_factory=dict)  # what the run did: forwards, backwards, steps, ...
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

    def to_dict(self) -> dict:
        """Plain JSON data (what a test cell hands the grader); `from_dict` reads it back."""
        return {"exercise": self.exercise, "hidden": self.hidden,
                "diagnoses": [d.to_dict() for d in self.diagnoses], "params": _plain(self.params),
                "seconds": self.seconds, "output": self.output, "curve": [float(x) for x in self.curve],
                "reference_curve": [float(x) for x in self.reference_curve], "facts": _plain(self.facts)}

    @classmethod
    def from_dict(cls, data: dict) -> "Report":
        return cls(str(data["exercise"]), bool(data.get("hidden", False)),
                   [Diagnosis.from_dict(d) for d in data.get("diagnoses", [])], dict(data.get("params", {})),
                   float(data.get("seconds", 0.0)), str(data.get("output", "")),
                   [float(x) for x in data.get("curve", [])], [float(x) for x in data.get("reference_curve", [])],
                   dict(data.get("facts", {})))

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


def _plain(value):
    """JSON-safe: numbers, strings, lists and dicts as they are; anything else (a device,
    a dtype, an optimizer class) by its name."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return getattr(value, "__name__", None) or str(value)
