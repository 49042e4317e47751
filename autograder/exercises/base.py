"""What every exercise spec has: a name, a contract, fixture parameters, a build and a judge.

Public and hidden checks use the same spec with different parameters; a hidden test
cell may override any of them (`seed=123`), and an unknown name is refused loudly so a
typo in a test cell never silently checks the wrong thing.

`lessons` maps a diagnosis code to the `Lesson` this exercise teaches it with, when
the registry's usual section or fix does not fit the exercise (a section the learner
has not reached yet, or "batch" where the exercise has none).
"""
import torch

from autograder.diagnoses import Diagnosis, Lesson


class Exercise:
    name = ""
    phase = ""  # the phase folder that holds the exercise
    function_name = ""  # what the notebook calls the function
    signature = ""
    concerns: tuple = ()
    public: dict = {}
    hidden: dict = {}
    lessons: dict[str, Lesson] = {}
    purpose = "trained"  # what a function that never calls the model failed to do
    trains = True  # a loss curve is worth drawing
    reference = None  # a correct implementation of the contract (a plain function)
    calls = 1  # a per-epoch function is called twice in a row on the same objects, as `fit` calls it

    def workload(self, fixture) -> str:
        """What a correct function works through, in words: "5 epochs", "8 batches"."""
        raise NotImplementedError

    def teach(self, diagnoses: list[Diagnosis]) -> list[Diagnosis]:
        """The diagnoses with this exercise's own sections and fixes, where it has them."""
        return [d.taught_by(self.lessons[d.code]) if d.code in self.lessons else d for d in diagnoses]

    def parameters(self, hidden: bool, overrides: dict) -> dict:
        params = dict(self.hidden if hidden else self.public)
        params.setdefault("device", "cpu")
        unknown = sorted(set(overrides) - set(params))
        if unknown:
            raise TypeError(f"{self.name} has no fixture parameter {', '.join(map(repr, unknown))}; "
                            f"its parameters are: {', '.join(sorted(params))}")
        params.update(overrides)
        return params

    def build(self, params: dict):
        """The Fixture for one run (fresh objects every time: learner code changes them)."""
        raise NotImplementedError

    def judge(self, trace, result, fixture) -> list:
        """The diagnoses for a run that returned normally."""
        raise NotImplementedError

    def follow_up(self, function, fixture, result, time_limit: float) -> list:
        """Diagnoses that need the learner's function called again (resuming a run, say), through
        `autograder.inspector.guard.run_guarded`. Most exercises need none."""
        return []


def weights(model: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().cpu().clone() for p in model.parameters()]


def weights_changed(before: list[torch.Tensor], model: torch.nn.Module) -> bool:
    return any(not torch.equal(b, p.detach().cpu()) for b, p in zip(before, model.parameters()))
