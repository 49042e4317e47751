"""End to end: a fake class graded by `python -m autograder grade`, every score and reason checked.

The class (tests/grading_fixtures/fake_class.py) holds correct work in two shapes,
each main bug class, an untouched stub and every bad case the grader must survive.
It is graded once per test session; the tests read the gradebook, the summary,
the feedback pages and the class report it left behind.
"""
import contextlib
import csv
import io
import json
import socket
from pathlib import Path

import nbformat
import pytest

from autograder.grade import cli
from grading_fixtures import fake_class as fake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def listener():
    """A port on the grader's loopback that a walled-in submission must not reach."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield server.getsockname()[1]
    server.close()


@pytest.fixture(scope="module")
def course(tmp_path_factory, listener):
    root = fake.make_course(tmp_path_factory.mktemp("course"))
    fake.submit_class(root, probe_port=listener)
    return root


@pytest.fixture(scope="module")
def graded(course):
    """(exit code, printed summary) of grading the whole class once."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = cli.main([fake.ASSIGNMENT, "--root", str(course), "--jobs", "2", "--memory-mb", "1024", "--quiet"])
    return code, printed.getvalue()


def outcome_of(course: Path, student: str) -> dict:
    path = course / "autograded" / student / fake.ASSIGNMENT / f"{fake.ASSIGNMENT}.grading.json"
    return json.loads(path.read_text())


def test_the_batch_completes(graded):
    code, printed = graded
    assert code == 0, printed


@pytest.mark.parametrize("student", sorted(fake.EXPECTED))
def test_scores_and_reasons(graded, course, student):
    total, cells, note = fake.EXPECTED[student]
    scores = fake.gradebook_scores(course, [student])[student]
    assert {name: scores[name] for name in cells} == {name: points for name, (points, _) in cells.items()}
    assert sum(scores.values()) == total
    outcome = outcome_of(course, student)
    reasons = {cell["grade_id"]: cell["reason"] for cell in outcome["cells"]}
    for name, (_, reason) in cells.items():
        assert reasons[name].startswith(reason), (name, reasons[name])
    if note:
        assert any(note in text for text in outcome["notes"]), outcome["notes"]
    if student != "judy":  # the only one who touched a test cell
        assert not any("test cell" in reason for reason in reasons.values()), reasons


def test_summary_lists_every_student_with_score(graded):
    _, printed = graded
    for student, (total, _, _) in fake.EXPECTED.items():
        line = next(line for line in printed.splitlines() if line.startswith(student + " "))
        assert f" {total}/4 " in line, line
    assert "tampering detected" in printed and "cell time limit exceeded" in printed


def test_submissions_cannot_reach_the_course_the_network_or_other_processes(graded, course):
    nb = nbformat.read(str(course / "autograded" / "walter" / fake.ASSIGNMENT / f"{fake.ASSIGNMENT}.ipynb"),
                       as_version=4)
    printed = "".join(output.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                      for output in cell.outputs)
    probes = json.loads(printed.split("PROBES", 1)[1].strip().splitlines()[0])
    for name in ("gradebook", "source", "other_student", "network"):
        assert probes[name].startswith("blocked"), (name, probes[name])
    assert probes["processes"] <= 3  # its own pid namespace: itself (and what it started)


def hidden_lines() -> list[str]:
    lines = []
    for test in (fake.HIDDEN_TEST, fake.QUIZ_TEST):
        block = test.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
        lines += [line.strip() for line in block.splitlines() if len(line.strip()) >= 8]
    return lines


@pytest.mark.parametrize("student", sorted(fake.EXPECTED))
def test_feedback_never_shows_hidden_test_source(graded, course, student):
    page = (course / "feedback" / student / fake.ASSIGNMENT / f"{fake.ASSIGNMENT}.html").read_text()
    assert f"{fake.EXPECTED[student][0]:g} / 4" in page
    for line in hidden_lines():
        assert line not in page and line.replace('"', "&quot;") not in page, line
    assert "_secret" not in page and "Traceback" not in page


def test_feedback_teaches_with_the_diagnosis(graded, course):
    page = (course / "feedback" / "carol" / fake.ASSIGNMENT / f"{fake.ASSIGNMENT}.html").read_text()
    assert "[missing-zero-grad]" in page and "optimizer.zero_grad()" in page
    assert "From step 2 on" in page
    dave = (course / "feedback" / "dave" / fake.ASSIGNMENT / f"{fake.ASSIGNMENT}.html").read_text()
    assert "a hidden check failed" in dave and "use `loss.item()`" in dave


def test_a_message_quoting_hidden_test_code_is_withheld(graded, course):
    outcome = outcome_of(course, "victor")
    hidden = next(cell for cell in outcome["cells"] if cell["grade_id"] == "test_train_loop_hidden")
    assert hidden["diagnoses"] == [{"code": "leak", "text": "(this message quoted hidden test code, so it is not shown)"}]


def test_class_report_counts_students_per_exercise_and_diagnosis(graded, course):
    folder = course / "reports" / fake.ASSIGNMENT
    with open(folder / "class_report.csv") as handle:
        rows = {(row["exercise"], row["diagnosis"]): row for row in csv.DictReader(handle)}
    size = len(fake.EXPECTED)
    missing = rows[("train_loop", "missing-zero-grad")]  # carol and judy
    assert int(missing["students"]) == 2 and float(missing["percent"]) == round(200 / size, 1)
    assert int(rows[("train_loop", "wrong-return-type")]["students"]) == 1
    assert int(rows[("train_loop", "tampering detected")]["students"]) == 3
    assert (folder / "class_report.png").read_bytes()[:4] == b"\x89PNG"
    page = (folder / "class_report.html").read_text()
    assert "missing-zero-grad" in page and "data:image/png;base64," in page


def test_grading_again_is_safe(graded, course):
    before = fake.gradebook_scores(course, ["alice", "carol", "heidi"])
    code = cli.main([fake.ASSIGNMENT, "--root", str(course), "--jobs", "2", "--quiet",
                     "--student", "alice", "--student", "carol", "--student", "heidi"])
    assert code == 0
    assert fake.gradebook_scores(course, ["alice", "carol", "heidi"]) == before


def test_unknown_assignment_is_a_clear_error(course, capsys):
    assert cli.main(["no_such_assignment", "--root", str(course), "--quiet"]) == 2
    assert "nbgrader generate_assignment no_such_assignment" in capsys.readouterr().err


def test_scores_equal_plain_nbgrader_autograde(graded, course, tmp_path):
    """Plain `nbgrader autograde` on a copy holding the ordinary submissions gives the same scores."""
    ordinary = ["alice", "bob", "carol", "dave", "erin"]
    plain = tmp_path / "plain"
    fake.make_course(plain, cell_seconds=120)
    fake.submit_class(plain, ordinary)
    fake.nbgrader(plain, "autograde", fake.ASSIGNMENT, timeout=600)
    assert fake.gradebook_scores(plain, ordinary) == fake.gradebook_scores(course, ordinary)


@pytest.fixture(scope="module")
def inspected(tmp_path_factory):
    """A course whose tests call the real inspector, graded once."""
    root = fake.make_inspected_course(tmp_path_factory.mktemp("inspected"))
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main([fake.INSPECTED, "--root", str(root), "--jobs", "2", "--quiet"]) == 0
    return root


def inspected_outcome(root: Path, student: str) -> dict:
    return json.loads((root / "autograded" / student / fake.INSPECTED / f"{fake.INSPECTED}.grading.json").read_text())


def test_inspector_diagnoses_reach_scores_feedback_and_report(inspected):
    scores = fake.gradebook_scores(inspected, ["ann", "ben"], fake.INSPECTED)
    assert scores == {"ann": {"test_order": 1, "test_all_hidden": 2}, "ben": {"test_order": 0, "test_all_hidden": 0}}
    ben = {cell["grade_id"]: cell for cell in inspected_outcome(inspected, "ben")["cells"]}
    assert "missing-zero-grad" in [d["code"] for d in ben["test_all_hidden"]["diagnoses"]]
    assert ben["test_all_hidden"]["reason"].startswith("failed: [")
    page = (inspected / "feedback" / "ben" / fake.INSPECTED / f"{fake.INSPECTED}.html").read_text()
    assert "[missing-zero-grad]" in page and "zero_grad()" in page
    assert "hidden=True" not in page and "assert_passes" not in page
    with open(inspected / "reports" / fake.INSPECTED / "class_report.csv") as handle:
        rows = {(row["exercise"], row["diagnosis"]): row for row in csv.DictReader(handle)}
    assert int(rows[("train_loop", "missing-zero-grad")]["students"]) == 1


def test_a_forged_inspector_cache_entry_never_reaches_a_test(inspected):
    nb = nbformat.read(str(inspected / "autograded" / "fay" / fake.INSPECTED / f"{fake.INSPECTED}.ipynb"),
                       as_version=4)
    printed = "".join(output.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                      for output in cell.outputs)
    assert "FORGED True" in printed  # the forgery worked inside the learner's own cell...
    assert fake.gradebook_scores(inspected, ["fay"], fake.INSPECTED)["fay"] == {"test_order": 0, "test_all_hidden": 0}
