"""The isolated run inside plain nbgrader: `nbgrader autograde` and formgrader's Autograde button.

With the course's steps named in `nbgrader_config.py` (IsolatedExecute in place of
nbgrader's Execute, ExplainScores last), nbgrader's own command and its own Python API
(what formgrader's Autograde button calls: `NbGraderAPI.autograde`) grade hostile
submissions one at a time behind the same walls as `python -m autograder grade`: every
grade recorded, the true reason beside it as data, nothing of the course reachable.
And the course's real configuration grades the real phase-4 notebook end to end.
"""
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from grading_fixtures import fake_class as fake
from notebook_tools import ROOT

pytestmark = pytest.mark.slow

HOSTILE = ["alice", "carol", "frank", "kurt", "mallory", "hank", "walter", "trent"]
# Of the inspected course (test_grading.py): torch used honestly (ida: set_default_dtype; kim:
# torch.compile), a grader method hidden (lex), cached Reports emptied (max), torch's wrapper
# around a zero_grad that does nothing (ned).
PLAIN_INSPECTED = ["ida", "kim", "lex", "max", "ned"]


def outcome(root: Path, student: str, assignment: str = fake.ASSIGNMENT) -> dict:
    return json.loads((root / "autograded" / student / assignment / f"{assignment}.grading.json").read_text())


@pytest.fixture(scope="module")
def plain(tmp_path_factory, listener):
    """The hostile part of the fake class, graded by plain `nbgrader autograde` with the course's steps."""
    root = fake.make_course(tmp_path_factory.mktemp("plain"), extra_config=fake.ISOLATED_STEPS)
    fake.submit_class(root, HOSTILE, probe_port=listener)
    done = fake.nbgrader(root, "autograde", fake.ASSIGNMENT, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    return root


@pytest.mark.parametrize("student", HOSTILE)
def test_plain_nbgrader_autograde_records_every_grade_with_its_true_reason(plain, student):
    expected = fake.expected(outcome(plain, "alice")["run"]["walls"])[student]
    total, cells, _ = expected
    scores = fake.gradebook_scores(plain, [student])[student]
    assert scores == {name: points for name, (points, _) in cells.items()} and sum(scores.values()) == total
    reasons = {cell["grade_id"]: cell["reason"] for cell in outcome(plain, student)["cells"]}
    for name, (_, reason) in cells.items():
        assert reasons[name].startswith(reason), (name, reasons[name])


def test_plain_nbgrader_runs_the_notebook_walled_in(plain):
    nb = nbformat.read(str(plain / "autograded" / "walter" / fake.ASSIGNMENT / f"{fake.ASSIGNMENT}.ipynb"),
                       as_version=4)
    printed = "".join(output.get("text", "") for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs)
    probes = json.loads(printed.split("PROBES", 1)[1].strip().splitlines()[0])
    for name in ("gradebook", "source", "other_student", "network"):
        assert probes[name].startswith("blocked"), (name, probes[name])
    assert outcome(plain, "walter")["run"]["walls"].startswith(("namespaces", "weak"))


def hidden_code() -> list[str]:
    """The hidden tests' lines of code (not the lines that are only a string: the diagnosis
    a test hands over as data, such as its code "missing-zero-grad", is meant to be shown)."""
    lines = []
    for test in (fake.HIDDEN_TEST, fake.QUIZ_TEST):
        block = test.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
        lines += [line.strip() for line in block.splitlines()
                  if len(line.strip()) >= 12 and not line.strip().startswith(('"', "f\"", "'"))]
    return lines


def test_no_hidden_test_reaches_the_learner_through_the_record(plain):
    hidden = hidden_code()
    assert any("_secret_reference_run(True)" in line for line in hidden)  # what is looked for is code
    for student in HOSTILE:
        text = json.dumps(outcome(plain, student))
        assert not [line for line in hidden if line in text or json.dumps(line)[1:-1] in text], student
        assert "_secret" not in text, student


@pytest.fixture(scope="module")
def plain_inspected(tmp_path_factory):
    """The course whose tests call the real inspector, graded by plain `nbgrader autograde`
    with the course's steps: torch used honestly, and grader tampering that replaces nothing."""
    root = fake.make_inspected_course(tmp_path_factory.mktemp("plain-inspected"), PLAIN_INSPECTED,
                                      extra_config=fake.ISOLATED_STEPS)
    done = fake.nbgrader(root, "autograde", fake.INSPECTED, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    return root


def test_plain_nbgrader_grades_honest_torch_use_and_names_tampering(plain_inspected):
    from test_grading import HONEST_TORCH, check_honest_torch, check_tampered, inspected_outcome
    for student in PLAIN_INSPECTED:
        check = check_honest_torch if student in HONEST_TORCH else check_tampered
        check(plain_inspected, inspected_outcome, student)


def test_formgraders_autograde_button_grades_walled_in_with_the_reasons(tmp_path):
    """formgrader's button calls NbGraderAPI.autograde(assignment, student) in the server's
    own process: the course's steps run there too, one submission at a time."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    root = fake.make_course(tmp_path / "course", extra_config=fake.ISOLATED_STEPS)
    fake.submit_class(root, ["carol", "kurt"])
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    api = NbGraderAPI(config=config)
    for student in ("carol", "kurt"):
        result = api.autograde(fake.ASSIGNMENT, student)
        assert result["success"], result.get("error", "") + result.get("log", "")
        total, cells, _ = fake.EXPECTED[student]
        assert fake.gradebook_scores(root, [student])[student] == {name: points for name, (points, _) in cells.items()}
        reasons = {cell["grade_id"]: cell for cell in outcome(root, student)["cells"]}
        for name, (_, reason) in cells.items():
            assert reasons[name]["reason"].startswith(reason), (name, reasons[name]["reason"])
    assert reasons["test_train_loop_hidden"]["cause"]["kind"] == "crash"  # kurt's, as data
    carol = {cell["grade_id"]: cell for cell in outcome(root, "carol")["cells"]}
    assert [d["code"] for d in carol["test_train_loop_hidden"]["diagnoses"]] == ["missing-zero-grad"]


def test_the_course_configuration_grades_the_real_phase_4_notebook_end_to_end(tmp_path):
    """The repository's own nbgrader_config.py, unchanged, and its phase-4 source: plain
    `nbgrader autograde` gives a correct loop full marks and names the bug of one without zero_grad."""
    import re
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source" / "04_training_loop", course / "source" / "04_training_loop",
                    ignore=shutil.ignore_patterns("runs", "checkpoints", "*.pt", ".ipynb_checkpoints"))
    fake.generate(course, "04_training_loop")
    source = nbformat.read(str(course / "source" / "04_training_loop" / "04_training_loop.ipynb"), as_version=4)
    released = nbformat.read(str(course / "notebooks" / "04_training_loop" / "04_training_loop.ipynb"), as_version=4)
    solutions = {cell.metadata["nbgrader"]["grade_id"]: re.sub(r"[ \t]*### (BEGIN|END) SOLUTION\n?", "", cell.source)
                 for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")}
    for student, edit in {"right": lambda text: text,
                          "no_zero_grad": lambda text: "\n".join(line for line in text.splitlines()
                                                                 if "zero_grad" not in line)}.items():
        nb = nbformat.from_dict(json.loads(json.dumps(released)))
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in solutions:
                cell.source = edit(solutions[grade_id]) if grade_id == "train_loop" else solutions[grade_id]
        folder = course / "submitted" / student / "04_training_loop"
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / "04_training_loop.ipynb"))
    done = fake.nbgrader(course, "autograde", "04_training_loop", timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    right, wrong = (outcome(course, student, "04_training_loop") for student in ("right", "no_zero_grad"))
    lost = [(c["grade_id"], c["reason"]) for c in right["cells"] if c["points"] < c["max_points"]
            and not c["needs_manual_grade"]]
    assert right["score"] > 0 and not lost, lost
    assert right["run"]["walls"] and wrong["score"] < right["score"]
    assert "missing-zero-grad" in {d["code"] for cell in wrong["cells"] for d in cell["diagnoses"]}
