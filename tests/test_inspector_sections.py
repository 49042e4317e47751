"""Where a diagnosis sends the learner: sections that exist, in a phase they have reached,
with a fix in the words of the exercise (epochs for full-batch `train`, batches later)."""
import json
from pathlib import Path

import pytest

from autograder import CODES, EXERCISES, inspect
from autograder.render import html
from zoo import accumulate as zoo_accumulate
from zoo import all_cases
from zoo import train_epoch as zoo_epoch
from zoo import train_loop as zoo_loop

NOTEBOOKS = Path(__file__).resolve().parents[1] / "source"


def headings(phase: str) -> set[str]:
    """The `##` headings of a phase notebook (read only)."""
    notebook = json.loads((NOTEBOOKS / phase / f"{phase}.ipynb").read_text(encoding="utf-8"))
    found = set()
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"])
            found |= {line[3:].strip() for line in source.splitlines() if line.startswith("## ")}
    return found


def every_linked_section():
    sections = {(f"code {c.code}", c.section) for c in CODES.values()}
    for exercise in EXERCISES.values():
        sections |= {(f"{exercise.name} {code}", lesson.section) for code, lesson in exercise.lessons.items()}
    return sorted(sections, key=lambda pair: pair[0])


@pytest.mark.parametrize("owner,section", every_linked_section(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_linked_section_is_a_heading_in_its_notebook(owner, section):
    assert section.heading in headings(section.phase), (
        f"{owner} links to “{section.heading}”, which {section.phase} has no `##` heading for")
    assert section.href.endswith("#" + section.heading.replace(" ", "-"))


def test_lessons_only_name_registered_codes():
    for exercise in EXERCISES.values():
        assert set(exercise.lessons) <= set(CODES), exercise.name


def _phase(folder: str) -> int:
    return int(folder.split("_", 1)[0])


@pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
def test_no_diagnosis_sends_a_learner_to_a_later_phase(hidden):
    ahead = []
    for case in all_cases():
        phase = _phase(EXERCISES[case.exercise].phase)
        for d in inspect(case.exercise, case.function, hidden=hidden, **dict(case.options)).diagnoses:
            if _phase(d.section.phase) > phase:
                ahead.append(f"{case.name}: [{d.code}] → {d.section.label}")
    assert not ahead, "\n".join(ahead)


def test_full_batch_train_loop_speaks_of_epochs_never_of_batches():
    spoken = []
    for case in all_cases():
        if case.exercise == "train_loop":
            for d in inspect(case.exercise, case.function, **dict(case.options)).diagnoses:
                if "batch" in d.fix.lower() or "batch" in d.message.lower():
                    spoken.append(f"{case.name}: [{d.code}] {d.message} Fix: {d.fix}")
    assert not spoken, "\n".join(spoken)


def test_train_loop_zero_grad_and_step_count_are_taught_in_phase_4_per_epoch():
    stale = inspect("train_loop", zoo_loop.no_zero_grad).diagnoses[0]
    assert stale.code == "missing-zero-grad"
    assert stale.section.label == "Phase 4, section “Forgetting zero_grad”"
    assert "once per epoch" in stale.fix
    count = next(d for d in inspect("train_loop", zoo_loop.step_twice).diagnoses if d.code == "wrong-step-count")
    assert count.section.label == "Phase 4, section “The five steps of the loop”"
    assert "once per epoch" in count.fix and "batch" not in count.fix
    # the same codes in phase 5 keep their batch-loop fix and section
    epoch_count = next(d for d in inspect("train_epoch", zoo_epoch.step_every_second_batch).diagnoses
                       if d.code == "wrong-step-count")
    assert epoch_count.section.label == "Phase 5, section “The per-batch loop”"
    assert "once per batch" in epoch_count.fix


@pytest.mark.parametrize("exercise,function", [
    ("train_epoch", zoo_epoch.never_calls_train),
    ("train_epoch_accumulate", zoo_accumulate.accumulates_in_eval_mode),
])
def test_missing_train_mode_in_phase_5_links_to_phase_5(exercise, function):
    report = inspect(exercise, function)
    (d,) = report.diagnoses
    assert d.code == "train-mode-missing"
    assert d.section.label == "Phase 5, section “The per-batch loop”"
    assert "model.train()" in d.fix
    assert 'href="../05_data_loading/05_data_loading.ipynb#The-per-batch-loop"' in html(report)


def test_fit_still_links_train_mode_to_phase_6():
    d = inspect("fit", __import__("zoo.fit", fromlist=["x"]).never_calls_train).diagnoses[0]
    assert d.code == "train-mode-missing"
    assert d.section.label == "Phase 6, section “Training mode and evaluation mode”"


def test_a_fix_written_for_this_run_is_kept_when_an_exercise_teaches_the_code():
    from autograder.diagnoses import Lesson, Section, diagnosis
    lesson = Lesson(Section("05_data_loading", "The per-batch loop"), "the exercise's fix")
    usual = diagnosis("train-mode-missing", "1 of 8 passes").taught_by(lesson)
    specific = diagnosis("train-mode-missing", "1 of 8 passes", fix="this run's fix").taught_by(lesson)
    assert usual.fix == "the exercise's fix" and specific.fix == "this run's fix"
    assert usual.section == specific.section == lesson.section
