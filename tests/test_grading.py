"""End to end: a fake class graded by `python -m autograder grade`, every score and reason checked.

The class (tests/grading_fixtures/fake_class.py) holds correct work in two shapes,
each main bug class, an untouched stub and every bad case the grader must survive.
It is graded once per test module, by the command an instructor runs, from the course
folder; the tests read the gradebook, the summary, the feedback pages and the class
report it left behind.
"""
import csv
import json
import os
from pathlib import Path

import nbformat
import pytest

from grading_fixtures import fake_class as fake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory, listener):
    root = fake.make_course(tmp_path_factory.mktemp("course"))
    fake.submit_class(root, probe_port=listener)
    return root


@pytest.fixture(scope="module")
def graded(course):
    """(exit code, printed summary) of grading the whole class once."""
    done = fake.grade(course, "--jobs", "2", "--GradingLimits.memory_mb=1024")
    return done.returncode, done.stdout + done.stderr


def outcome_of(course: Path, student: str) -> dict:
    path = course / "autograded" / student / fake.ASSIGNMENT / f"{fake.ASSIGNMENT}.grading.json"
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def expected(graded, course):
    """Every student's expected score and reasons, for the walls this machine gave the grader."""
    return fake.expected(outcome_of(course, "alice")["run"]["walls"])


def test_every_notebook_nbgrader_grades_is_graded_and_the_rest_named(graded, course, tmp_path):
    """nbgrader does not grade a damaged notebook file, nor a notebook under another name:
    the run then ends with nbgrader's exit status 1, every other notebook graded, the
    gradebook left as nbgrader leaves it, and the summary says why those two were not."""
    code, printed = graded
    assert code == 1, printed
    for student, why in fake.NOT_GRADED.items():
        line = next(line for line in printed.splitlines() if line.startswith(student + " "))
        assert why in line, line
        assert not (course / "autograded" / student / fake.ASSIGNMENT).exists()
    plain = fake.make_course(tmp_path / "plain")
    fake.submit_class(plain, sorted(fake.NOT_GRADED))
    nbgraders = fake.nbgrader(plain, "autograde", fake.ASSIGNMENT, check=False)
    assert nbgraders.returncode == 1
    assert gradebook_rows(course, fake.NOT_GRADED) == gradebook_rows(plain, fake.NOT_GRADED)


def gradebook_rows(root: Path, students) -> dict:
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {student: [(g.name, g.auto_score, g.manual_score, g.needs_manual_grade) for g in
                          gb.find_submission_notebook(fake.ASSIGNMENT, fake.ASSIGNMENT, student).grades]
                for student in students}


@pytest.mark.parametrize("student", sorted(fake.EXPECTED))
def test_scores_and_reasons(expected, course, student):
    check_scores_and_reasons(course, student, expected[student])


def check_scores_and_reasons(course, student, expected_outcome):
    total, cells, note = expected_outcome
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
        assert not any("had been edited" in r or "was deleted" in r for r in reasons.values()), reasons


def test_summary_lists_every_student_with_score(graded, expected):
    _, printed = graded
    for student, (total, _, _) in expected.items():
        line = next(line for line in printed.splitlines() if line.startswith(student + " "))
        assert f" {total}/4 " in line, line
    assert "tampering detected" in printed and "did not finish within its time limit" in printed
    kurt = next(line for line in printed.splitlines() if line.startswith("kurt "))
    assert "the cell defining `train` crashed the kernel with a segmentation fault (SIGSEGV)" in kurt
    assert "NameError" not in printed


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
def test_feedback_never_shows_hidden_test_source(expected, course, student):
    page = (course / "feedback" / student / fake.ASSIGNMENT / f"{fake.ASSIGNMENT}.html").read_text()
    assert f"{expected[student][0]:g} / 4" in page
    for line in hidden_lines():
        assert line not in page and line.replace('"', "&quot;") not in page, line
    assert "_secret" not in page and "Traceback" not in page


def feedback_page(course: Path, student: str) -> str:
    return (course / "feedback" / student / fake.ASSIGNMENT / f"{fake.ASSIGNMENT}.html").read_text()


def test_feedback_teaches_with_the_diagnosis_and_the_learners_curve(graded, course):
    page = feedback_page(course, "carol")
    assert "missing-zero-grad" in page and "Gradients piled up across steps" in page
    assert "From step 2 on, the losses match a loop that never clears <code>.grad</code>" in page
    assert "<b>Fix:</b> Call <code>optimizer.zero_grad()</code> once per step." in page
    assert 'href="../04_training_loop/04_training_loop.ipynb#Forgetting-zero_grad"' in page
    assert "data:image/png;base64," in page and "a correct loop" in page  # the curve plot
    assert "`" not in page  # every code span is shown as code
    alice = feedback_page(course, "alice")
    assert "No loss curve was recorded" in alice and "data:image/png" not in alice
    dave = feedback_page(course, "dave")
    assert "a hidden check failed" in dave and "use <code>loss.item()</code>" in dave


ROOT_CAUSES = {
    "kurt": "the cell defining <code>train</code> crashed the kernel with a segmentation fault (SIGSEGV)",
    "trent": "this test, which calls <code>train</code>, crashed the kernel with a segmentation fault (SIGSEGV)",
    "nina": "the cell defining <code>train</code> did not stop within its time limit (3 s, ignoring the alarm",
    "sybil": "this test, which calls <code>train</code>, did not stop within its time limit",
    "heidi": "this test, which calls <code>train</code>, ended the grading process itself (exit code 1",
    "frank": "this test, which calls <code>train</code>, did not finish within its time limit (3 s)",
    "grace": "this test, which calls <code>train</code>, ran out of memory",
}


@pytest.mark.parametrize("student", sorted(ROOT_CAUSES))
def test_the_feedback_page_names_the_root_cause_and_its_cell(graded, course, student):
    page = feedback_page(course, student)
    assert "What stopped the tests:</b> " + ROOT_CAUSES[student] in page
    assert "NameError" not in page
    if student in ("liam", "mona"):  # a killed process is not called a memory problem
        assert "out of memory" not in page and "memory limit exceeded" not in page


@pytest.fixture(scope="module")
def weak_walls(tmp_path_factory):
    """The students who kill their own process group, graded without namespaces, where a kill kills."""
    root = fake.make_course(tmp_path_factory.mktemp("weak"))
    fake.submit_class(root, ["liam", "mona"])
    before = os.environ.get("AUTOGRADER_NO_NAMESPACES")
    os.environ["AUTOGRADER_NO_NAMESPACES"] = "1"
    try:
        done = fake.grade(root, "--jobs", "2")
    finally:
        if before is None:
            del os.environ["AUTOGRADER_NO_NAMESPACES"]
        else:
            os.environ["AUTOGRADER_NO_NAMESPACES"] = before
    assert done.returncode == 0, done.stderr
    return root


@pytest.mark.parametrize("student", ["liam", "mona"])
def test_a_killed_process_group_is_named_as_killed_not_as_memory(weak_walls, student):
    assert outcome_of(weak_walls, student)["run"]["walls"].startswith("weak")
    check_scores_and_reasons(weak_walls, student, fake.EXPECTED_WITHOUT_NAMESPACES[student])
    page = feedback_page(weak_walls, student)
    where = "this test, which calls <code>train</code>," if student == "liam" else "the cell defining <code>train</code>"
    signal_name = "SIGKILL" if student == "liam" else "SIGTERM"
    assert f"What stopped the tests:</b> {where} was killed by {signal_name}, a signal the grader did not send" in page
    assert "NameError" not in page and "out of memory" not in page and "memory limit exceeded" not in page


def test_tampering_with_torchs_hooks_reaches_the_student_and_the_gradebook(graded, course):
    page = feedback_page(course, "hank")
    assert ("tampering detected: torch&#39;s global forward pre-hooks (which the grader watches the loop with) "
            "were removed by <code>train</code>") in page
    assert "model-never-called" not in page


def test_the_outcome_record_carries_the_root_cause_as_data(graded, course):
    """The reason travels as a record (a Cause with its kind), beside nbgrader's own score and flag."""
    hidden = next(cell for cell in outcome_of(course, "kurt")["cells"] if cell["grade_id"] == "test_train_loop_hidden")
    assert hidden["cause"]["kind"] == "crash" and hidden["cause"]["signal"] == "SIGSEGV"
    assert hidden["cause"]["text"] == "the cell defining `train` crashed the kernel with a segmentation fault (SIGSEGV)"
    assert hidden["points"] == 0 and hidden["needs_manual_grade"] is False
    assert outcome_of(course, "kurt")["run"]["crashes"][0]["kind"] == "crash"


def test_a_forged_report_quoting_hidden_test_code_is_withheld(graded, course):
    outcome = outcome_of(course, "victor")
    hidden = next(cell for cell in outcome["cells"] if cell["grade_id"] == "test_train_loop_hidden")
    withheld = "(this message quoted hidden test code, so it is not shown)"
    assert [(d["code"], d["message"], d["fix"], d["code_line"], d["line"]) for d in hidden["diagnoses"]] == [
        ("leak", withheld, withheld, None, None)]  # a hidden test's line is never shown as the learner's


def test_class_report_counts_students_per_exercise_and_diagnosis(graded, course):
    folder = course / "reports" / fake.ASSIGNMENT
    with open(folder / "class_report.csv") as handle:
        rows = {(row["exercise"], row["diagnosis"]): row for row in csv.DictReader(handle)}
    size = len(fake.EXPECTED)
    missing = rows[("train_loop", "missing-zero-grad")]  # carol and judy
    assert int(missing["students"]) == 2 and float(missing["percent"]) == round(200 / size, 1)
    assert missing["who"] == "carol; judy"
    assert int(rows[("train_loop", "wrong-return-type")]["students"]) == 1
    assert not any(kind.startswith(("tampering", "the process", "cell time", "could not run"))
                   for _, kind in rows), sorted(rows)  # loop bugs only: what stopped tests is listed apart
    with open(folder / "problems.csv") as handle:
        problems = list(csv.DictReader(handle))
    kinds = {}
    for row in problems:
        kinds.setdefault(row["kind"], set()).add(row["student"])
    assert kinds["tampering"] == {"mallory", "olga", "oscar", "hank"}
    contained = outcome_of(course, "alice")["run"]["walls"].startswith("namespaces")  # then liam's and mona's kills do nothing
    assert kinds["crash"] == {"kurt", "trent"} and kinds.get("killed", set()) == (set() if contained else {"liam", "mona"})
    assert kinds["timeout"] == {"frank", "nina", "sybil"} and kinds["memory"] == {"grace"}
    assert kinds["exit"] == {"heidi"} and "no-notebook" not in kinds  # peggy and rupert: not graded at all
    kurt = next(row for row in problems if row["student"] == "kurt")
    assert kurt["tests"] == "test_train_loop_visible; test_train_loop_hidden" and kurt["points_lost"] == "3.0"
    with open(folder / "diagnoses_by_student.csv") as handle:
        mail = [row for row in csv.DictReader(handle) if row["student"] == "carol"]
    assert [(row["diagnosis"], row["section"]) for row in mail] == [
        ("missing-zero-grad", "Phase 4, section “Forgetting zero_grad”")]
    assert mail[0]["what_happened"].startswith("From step 2 on") and mail[0]["score"] == "2"
    with open(folder / "tests.csv") as handle:
        tests = {row["test"]: row for row in csv.DictReader(handle)}
    passed_quiz = sum(1 for student, (_, cells, _) in fake.EXPECTED.items() if cells["test_quiz_zero_grad"][0] == 1)
    # (liam and mona pass it with or without namespaces)
    assert int(tests["test_quiz_zero_grad"]["passed"]) == passed_quiz
    assert (folder / "class_report.png").read_bytes()[:4] == b"\x89PNG"
    page = (folder / "class_report.html").read_text()
    assert "missing-zero-grad" in page and "data:image/png;base64," in page
    assert "Crashes, kills and timeouts" in page and "Score distribution" in page
    course_page = (course / "reports" / "course_report.html").read_text()
    assert fake.ASSIGNMENT in course_page and "missing-zero-grad" in course_page


def test_grades_export_through_nbgraders_exporter_plugins(expected, course, tmp_path):
    canvas, plain = tmp_path / "canvas.csv", tmp_path / "plain.csv"
    fake.nbgrader(course, "export", "--exporter=autograder.export.canvas.CanvasExport", f"--to={canvas}")
    fake.nbgrader(course, "export", "--exporter=autograder.export.plain.PlainExport", f"--to={plain}")
    with open(canvas) as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", fake.ASSIGNMENT]
    assert rows[1][0].strip() == "Points Possible" and rows[1][5] == "4"
    by_login = {row[3]: row[5] for row in rows[2:]}
    assert by_login == {student: f"{total:g}" for student, (total, _, _) in expected.items()} | {
        student: "0" for student in fake.NOT_GRADED}  # in the gradebook, as nbgrader left them: no points
    with open(plain) as handle:
        grades = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert grades["carol"]["score"] == "2" and grades["carol"]["max_score"] == "4" and grades["carol"]["percent"] == "50"
    assert grades["alice"]["submitted"] == "yes"


def test_graded_notebooks_are_skipped_unless_forced_as_nbgrader_does(graded, course):
    """nbgrader's --student and --force: without --force an autograded submission is left as it
    is; with it, it is graded again, to the same scores."""
    carol = course / "autograded" / "carol" / fake.ASSIGNMENT / f"{fake.ASSIGNMENT}.ipynb"
    before, stamp = fake.gradebook_scores(course, ["carol", "heidi"]), carol.stat().st_mtime_ns
    assert fake.grade(course, "--student", "carol").returncode == 0
    assert carol.stat().st_mtime_ns == stamp  # skipped
    done = fake.grade(course, "--student", "carol", "--force")
    assert done.returncode == 0, done.stderr
    assert carol.stat().st_mtime_ns != stamp
    assert fake.gradebook_scores(course, ["carol", "heidi"]) == before


def test_unknown_assignment_is_nbgraders_error(course):
    done = fake.grade(course, assignment="no_such_assignment")
    assert done.returncode == 1
    assert "No notebooks were matched" in done.stderr and "no_such_assignment" in done.stderr


def test_scores_equal_plain_nbgrader_autograde(graded, course, tmp_path):
    """Plain `nbgrader autograde` on a copy holding the ordinary submissions gives the same scores."""
    ordinary = ["alice", "bob", "carol", "dave", "erin"]
    plain = tmp_path / "plain"
    fake.make_course(plain, cell_seconds=120)
    fake.submit_class(plain, ordinary)
    fake.nbgrader(plain, "autograde", fake.ASSIGNMENT, timeout=600)
    assert fake.gradebook_scores(plain, ordinary) == fake.gradebook_scores(course, ordinary)
    # ... and the course's feedback command explains plain nbgrader's run from its data, as the grader does
    from autograder.__main__ import main
    assert main(["feedback", fake.ASSIGNMENT, "--root", str(plain)]) == 0
    for student in ordinary:
        mine, theirs = outcome_of(course, student), outcome_of(plain, student)
        assert [(c["grade_id"], c["reason"], c["diagnoses"]) for c in theirs["cells"]] == \
               [(c["grade_id"], c["reason"], c["diagnoses"]) for c in mine["cells"]], student
    page = (plain / "feedback" / "carol" / fake.ASSIGNMENT / f"{fake.ASSIGNMENT}.html").read_text()
    assert "From step 2 on" in page and "data:image/png;base64," in page


@pytest.fixture(scope="module")
def inspected(tmp_path_factory):
    """A course whose tests call the real inspector, graded once."""
    root = fake.make_inspected_course(tmp_path_factory.mktemp("inspected"))
    done = fake.grade(root, "--jobs", "2", assignment=fake.INSPECTED)
    assert done.returncode == 0, done.stderr
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
    assert "[missing-zero-grad]" in page and "<code>optimizer.zero_grad()</code>" in page
    assert "hidden=True" not in page and "assert_passes" not in page
    assert ben["test_all_hidden"]["diagnoses"][0]["section"]["heading"] == "Forgetting zero_grad"
    with open(inspected / "reports" / fake.INSPECTED / "class_report.csv") as handle:
        rows = {(row["exercise"], row["diagnosis"]): row for row in csv.DictReader(handle)}
    # ben, and max and uma, whose visible test failed on their own loop before they tampered
    # (tom and lex tampered first)
    assert rows[("train_loop", "missing-zero-grad")]["who"] == "ben; max; uma"


def test_removing_the_inspectors_hooks_is_tampering_not_a_loop_bug(inspected):
    assert fake.gradebook_scores(inspected, ["hal"], fake.INSPECTED)["hal"] == {"test_order": 0, "test_all_hidden": 0}
    cells = {cell["grade_id"]: cell for cell in inspected_outcome(inspected, "hal")["cells"]}
    for cell in cells.values():
        assert cell["reason"].startswith("tampering detected: torch's global forward pre-hooks (which the grader "
                                         "watches the loop with) were removed by `train`"), cell["reason"]
        assert cell["diagnoses"] == []
    page = (inspected / "feedback" / "hal" / fake.INSPECTED / f"{fake.INSPECTED}.html").read_text()
    assert "model-never-called" not in page and "never called the model" not in page


def test_a_forged_inspector_cache_entry_never_reaches_a_test(inspected):
    nb = nbformat.read(str(inspected / "autograded" / "fay" / fake.INSPECTED / f"{fake.INSPECTED}.ipynb"),
                       as_version=4)
    printed = "".join(output.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                      for output in cell.outputs)
    assert "FORGED True" in printed  # the forgery worked inside the learner's own cell...
    assert fake.gradebook_scores(inspected, ["fay"], fake.INSPECTED)["fay"] == {"test_order": 0, "test_all_hidden": 0}


HONEST_TORCH = ["ida", "kim"]
# student -> what the tampering reason names (uma and max edit after the visible test ran)
TAMPERED = {
    "tom": "`autograder.exercises.train_loop.TrainLoop.teach` was added, hiding `autograder.exercises.base.Exercise.teach`",
    "lex": "`autograder.exercises.train_loop.TrainLoop.teach` was added, hiding `autograder.exercises.base.Exercise.teach`",
    "uma": "a Report the grader had cached (in `autograder.api._CACHE`) was edited",
    "max": "a Report the grader had cached (in `autograder.api._CACHE`) was edited",
    "ned": "`torch.optim.sgd.SGD.zero_grad` was added, hiding `torch.optim.optimizer.Optimizer.zero_grad`",
}


def check_honest_torch(root: Path, outcome, student: str) -> None:
    assert fake.gradebook_scores(root, [student], fake.INSPECTED)[student] == {"test_order": 1, "test_all_hidden": 2}
    assert all(cell["reason"] == "passed" for cell in outcome(root, student)["cells"]), outcome(root, student)


def check_tampered(root: Path, outcome, student: str) -> None:
    """Each loop lacks zero_grad (ned's calls one that does nothing); each learner tried to
    make it pass without replacing a grader function."""
    cells = {cell["grade_id"]: cell for cell in outcome(root, student)["cells"]}
    assert fake.gradebook_scores(root, [student], fake.INSPECTED)[student] == {"test_order": 0, "test_all_hidden": 0}
    tampered = [cell for cell in cells.values() if cell["cause"] and cell["cause"]["kind"] == "tampering"]
    assert tampered and all(TAMPERED[student] in cell["reason"] for cell in tampered), cells
    if student in fake.INSPECTED_EXTRA_CELLS:  # the visible test ran before the edit: it failed on the loop's own bug
        assert cells["test_order"]["reason"].startswith("failed: [missing-zero-grad]")
    else:
        assert len(tampered) == len(cells)


@pytest.mark.parametrize("student", HONEST_TORCH)
def test_torchs_own_settings_are_not_tampering_and_grade_as_the_code_deserves(inspected, student):
    """A correct loop in a notebook that set the default dtype to float64, seeded, set
    threads, print options, deterministic algorithms, matmul precision, anomaly detection
    and the default device (ida: it got 0, "torch.Storage was replaced", before); or cudnn's
    flags, Python's and numpy's seeds, a warnings filter and a model compiled with
    torch.compile, which wraps torch's optimizers' methods (kim): full marks."""
    check_honest_torch(inspected, inspected_outcome, student)


@pytest.mark.parametrize("student", sorted(TAMPERED))
def test_hiding_a_grader_method_or_editing_a_cached_report_is_tampering(inspected, student):
    check_tampered(inspected, inspected_outcome, student)
