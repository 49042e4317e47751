"""Graded answers are earned, in every phase: a test for every graded question.

A graded question is a graded test cell whose answer is a fixed thing to find (its solution
defines `answer_...` or `quiz_...`, it sits under "Autograded question", or its hidden part
grades through `autograder.answers`). For each one found in the source notebooks:

- the visible part, as the student notebook has it, says the same for the right answer as
  for wrong answers of the same form (so trying answers confirms nothing);
- the hidden part accepts the right answer and fails every wrong one;
- the hidden part grades through `grade_choice` / `grade_answer`: it prints why, and a
  wrong answer fails with a `wrong-answer` diagnosis whose words explain the answer given
  (for a choice) and the right one, handed over as data for the course's feedback page;
- neither the student notebooks nor any file of the package they import (course_helpers,
  autograder) holds an explanation, a hash of the right answer, or (in a code cell, a
  widget of its notebook) the options of a multiple-choice question; a right answer that is not a number
  does not appear in the student notebook at all;
- the section each question links back to is a `##` heading of its notebook;
- the checker, run on a mystery's own code (directly or through a function of one's own),
  names no cause: that code is uncheckable; the open case's loop passes it.
"""
import ast
import inspect as inspect_module
import contextlib
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
import torch

from autograder import answers
from notebook_tools import ROOT, headings, is_test_cell, nbgrader_meta, source_notebooks, student_notebook

HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)
OPTION = re.compile(r"^- \*\*([A-Z])\.\*\* (.+)$", re.M)
PACKAGE_FILES = [path for folder in ("course_helpers", "autograder") for path in sorted((ROOT / folder).rglob("*"))
                 if path.is_file() and path.suffix in (".py", ".j2", ".md", ".txt", ".json", ".html")]


@dataclass
class Question:
    phase: str
    test_id: str
    name: str  # the function the learner writes
    takes_arguments: bool
    solution: str
    test: str  # the source test cell, hidden part included
    visible: str  # the same cell as the student notebook has it
    cells: list = field(default_factory=list)  # the question's cells in the student notebook
    options: dict = field(default_factory=dict)  # letter -> option text, for a multiple choice
    notebook: Path = None

    @property
    def id(self) -> str:
        return f"{self.phase}:{self.name}"


def _student_cells(path: Path) -> dict:
    notebook = nbformat.read(student_notebook(path), as_version=4)
    return {nbgrader_meta(c).get("grade_id"): c for c in notebook.cells if nbgrader_meta(c).get("grade_id")}


def find_questions() -> list[Question]:
    found = []
    for path in source_notebooks():
        notebook = nbformat.read(path, as_version=4)
        student = _student_cells(path)
        since, solution = [], None  # markdown since the last graded cell; the last solution cell
        for cell in notebook.cells:
            meta = nbgrader_meta(cell)
            if cell.cell_type == "markdown":
                since.append(cell)
                continue
            if meta.get("solution"):
                solution, instructions, since = cell, since, []
                continue
            if not is_test_cell(cell) or solution is None:
                continue
            definition = re.search(r"^def (\w+)\(([^)]*)\)", solution.source, re.M)
            asked = (definition is not None and re.match(r"(answer|quiz)_", definition.group(1))) \
                or any("Autograded question" in m.source for m in instructions) \
                or re.search(r"\bgrade_(choice|answer)\(", cell.source)
            if asked and definition is not None:
                text = "\n".join(m.source for m in instructions)
                found.append(Question(
                    path.parent.name, meta["grade_id"], definition.group(1), bool(definition.group(2).strip()),
                    solution.source, cell.source, student[meta["grade_id"]].source,
                    [m.source for m in instructions] + [student[nbgrader_meta(solution)["grade_id"]].source,
                                                        student[meta["grade_id"]].source],
                    dict(OPTION.findall(text)), path))
            solution, since = None, []
    return found


QUESTIONS = find_questions()


def test_every_phase_s_graded_questions_are_found():
    phases = {q.phase for q in QUESTIONS}
    assert {"01_tensors", "02_autograd", "03_losses_optimizers", "04_training_loop", "06_classifier",
            "07_debugging"} <= phases, phases
    assert sum(q.phase == "07_debugging" for q in QUESTIONS) == 8
    assert all(len(q.options) == 4 for q in QUESTIONS if q.name.startswith("answer_mystery_"))


# ---------------------------------------------------------------- running a question's test cell

def _namespace(path: Path) -> dict:
    """The notebook's imports (only its import statements run), and the set-up cell's `device`."""
    namespace = {"device": torch.device("cpu")}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                with contextlib.suppress(ImportError):
                    exec(compile(ast.Module([node], []), "imports", "exec"), namespace)
    return namespace


def right_answer(question: Question):
    namespace = _namespace(question.notebook)
    exec(compile(question.solution, question.name, "exec"), namespace)
    function = namespace[question.name]
    return function if question.takes_arguments else function()


def wrong_answers(question: Question, right) -> list:
    """Answers of the same form as `right` that are wrong."""
    if question.options:
        return [letter for letter in question.options if letter != right]
    if callable(right):
        return [lambda *args: right(*args) * 1.5 + 0.25]
    if isinstance(right, str):
        return ["missing-zero-grad", right + "s"]
    if isinstance(right, tuple):
        return [tuple(x + 1 for x in right), tuple(reversed(right)) if tuple(reversed(right)) != right else (1,)]
    if isinstance(right, float):
        return [right * 1.5 + 0.1, right / 2]
    if isinstance(right, int):
        return [right + 1, 2 * right + 3]
    raise AssertionError(f"no wrong answers known for {right!r}")


@dataclass
class Run:
    error: BaseException | None
    output: str
    recorded: list  # (function, keyword arguments) of every grade_choice / grade_answer call


def run_test_cell(question: Question, source: str, answer) -> Run:
    namespace = _namespace(question.notebook)
    recorded = []

    def recording(function):
        def call(*args, **kwargs):
            recorded.append((function.__name__, dict(zip(("name", "value", "correct"), args)) | kwargs))
            return function(*args, **kwargs)
        return call

    namespace["grade_choice"] = recording(answers.grade_choice)
    namespace["grade_answer"] = recording(answers.grade_answer)
    namespace["__builtins__"] = __builtins__
    namespace[question.name] = answer if question.takes_arguments else (lambda: answer)
    source = source.replace("from autograder.answers import grade_answer\n", "") \
                   .replace("from autograder.answers import grade_choice\n", "")  # keep the recorders
    output, error = io.StringIO(), None
    with contextlib.redirect_stdout(output):
        try:
            exec(compile(source, question.test_id, "exec"), namespace)
        except Exception as caught:  # noqa: BLE001 - any failure is a verdict here
            error = caught
    return Run(error, output.getvalue(), recorded)


def _verdict(run: Run, answer) -> tuple:
    text = run.output
    for shown in {repr(answer), repr(answers.letter_of(answer))} if not callable(answer) else set():
        text = text.replace(shown, "<answer>")
    return (type(run.error).__name__ if run.error else None, text)


# ---------------------------------------------------------------- the rules, question by question

@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_the_visible_check_says_the_same_for_right_and_wrong_answers(question):
    right = right_answer(question)
    said = _verdict(run_test_cell(question, question.visible, right), right)
    assert said[0] is None, f"the visible check rejects the right answer: {said}"
    for wrong in wrong_answers(question, right):
        assert _verdict(run_test_cell(question, question.visible, wrong), wrong) == said, \
            f"the visible check tells {wrong!r} from the right answer"


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_the_hidden_check_accepts_the_right_answer_and_fails_every_wrong_one(question):
    right = right_answer(question)
    assert run_test_cell(question, question.test, right).error is None
    for wrong in wrong_answers(question, right):
        assert isinstance(run_test_cell(question, question.test, wrong).error, AssertionError), wrong


def _explanations(run: Run) -> list[str]:
    texts = []
    for function, arguments in run.recorded:
        texts += list(arguments["explanations"].values()) if function == "grade_choice" else [arguments["why"]]
    return texts


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_the_explanations_reach_the_feedback_and_only_the_feedback(question):
    right = right_answer(question)
    graded = run_test_cell(question, question.test, right)
    assert graded.recorded, "the hidden check must grade through autograder.answers (grade_choice / grade_answer)"
    for explanation in _explanations(graded):
        assert explanation in graded.output, "every explanation is printed, for nbgrader's feedback"
    for wrong in wrong_answers(question, right):
        failed = run_test_cell(question, question.test, wrong)
        (function, arguments), = failed.recorded
        (diagnosis,) = failed.error.report.diagnoses
        assert diagnosis.code == answers.WRONG and diagnosis.section.phase == question.phase
        if function == "grade_choice":
            assert arguments["explanations"][wrong] in diagnosis.message
            assert arguments["explanations"][arguments["correct"]] in diagnosis.message
        else:
            assert arguments["why"] in diagnosis.message


def _flat(text: str) -> str:
    return " ".join(text.split())


SHINGLE = 7  # words: a passage this long, word for word, is copied, not a phrase the course happens to reuse


def _shingles(text: str) -> set[str]:
    words = re.findall(r"[\w'`.()]+", text.lower())
    return {" ".join(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


@pytest.fixture(scope="module")
def readable():
    """Everything a learner's notebooks and installed package let them read, whitespace flattened."""
    texts = {}
    for path in source_notebooks():
        for index, cell in enumerate(nbformat.read(student_notebook(path), as_version=4).cells):
            texts[f"{path.parent.name} cell {index}"] = (cell.cell_type, _flat(cell.source), _shingles(cell.source))
    for path in PACKAGE_FILES:
        text = path.read_text(encoding="utf-8", errors="replace")
        texts[str(path.relative_to(ROOT))] = ("file", _flat(text), _shingles(text))
    return texts


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_nothing_a_learner_can_read_holds_an_explanation_a_hash_or_a_widget_of_the_answer(question, readable):
    right = right_answer(question)
    explained = _shingles(" ".join(_explanations(run_test_cell(question, question.test, right))))
    forms = [] if callable(right) else [str(right), repr(right), str(right).lower(), f"{question.name}:{right}",
                                        f"{question.name}={right}", f"{question.name}() = {right}"]
    digests = {getattr(hashlib, kind)(form.encode()).hexdigest() for form in forms
               for kind in ("md5", "sha1", "sha256", "sha512", "blake2b")}
    for where, (kind, text, shingles) in readable.items():
        copied = explained & shingles
        assert not copied, f"{where} holds words of an explanation of {question.id}: {sorted(copied)[:3]}"
        assert not [d for d in digests if d in text], f"{where} holds a hash of the answer to {question.id}"
        if kind == "code" and where.startswith(question.phase):
            assert not [o for o in question.options.values() if _flat(o).rstrip(".") in text], \
                f"{where} repeats an option of {question.id} in code (a widget would confirm it)"
    if isinstance(right, (tuple, str)) and len(str(right)) > 3:
        student = [text for where, (_, text, _) in readable.items() if where.startswith(question.phase)]
        assert not [t for t in student if _flat(str(right)) in t or _flat(repr(right)) in t], \
            f"the student notebook of {question.phase} shows the answer to {question.id}"


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_the_feedback_links_back_to_a_section_that_exists(question):
    run = run_test_cell(question, question.test, right_answer(question))
    for _, arguments in run.recorded:
        section = arguments["section"]
        assert section.phase == question.phase
        assert section.heading in headings(nbformat.read(question.notebook, as_version=4))


# ---------------------------------------------------------------- the module itself

def test_expect_choice_prints_the_same_for_every_letter(capsys):
    said = set()
    for letter in "ABCD":
        assert answers.expect_choice("answer_x", f" {letter.lower()}. anything") == letter
        said.add(capsys.readouterr().out.replace(repr(letter), "?"))
    assert len(said) == 1
    for bad in ("", "E", 3, None):
        with pytest.raises(AssertionError, match="one letter"):
            answers.expect_choice("answer_x", bad)


def test_grade_choice_refuses_a_right_answer_that_is_no_option():
    from autograder.diagnoses import Section
    with pytest.raises(ValueError, match="not one of the options"):
        answers.grade_choice("answer_x", "A", "E", {"A": "a", "B": "b"}, Section("07_debugging", "Quiz"))


def test_a_wrong_answer_goes_out_as_data_under_the_grader(monkeypatch):
    """Under the grader the diagnosis is published as display data the grader reads back (handoff)."""
    from autograder.diagnoses import Section
    from autograder.record.cell_report import reports_in
    published = []
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setattr("IPython.display.display", lambda data, raw=False: published.append(data))
    with pytest.raises(AssertionError) as caught, contextlib.redirect_stdout(io.StringIO()):
        answers.grade_answer("answer_x", 3, 4, "2 + 2 is 4.", Section("01_tensors", "Quiz"))
    (data,) = reports_in([{"output_type": "display_data", "data": published[0]}])
    assert data["failing"] == [answers.WRONG] and "2 + 2 is 4." in data["diagnoses"][0]["message"]
    assert "You answered 3" in str(caught.value)


# ---------------------------------------------------------------- the checker names no mystery's cause

def _fits(function, exercise) -> bool:
    """The function's parameters are the exercise's, by name: the checker could be run on it."""
    wanted = re.match(r"\w+\(([^)]*)\)", exercise.signature).group(1).replace(" ", "").split(",")
    try:
        return list(inspect_module.signature(function).parameters) == wanted
    except (TypeError, ValueError):
        return False


def _mystery_functions():
    from autograder.exercises import EXERCISES
    from course_helpers.mysteries import mystery
    found = []
    for number in range(1, 8):
        module = mystery(number)
        for name, function in vars(module).items():
            if inspect_module.isfunction(function) and function.__module__ == module.__name__:
                found += [(number, name, function, e) for e in EXERCISES.values() if _fits(function, e)]
    return found


MYSTERY_FUNCTIONS = _mystery_functions()


def test_the_mysteries_loops_are_found():
    assert {(n, name) for n, name, _, _ in MYSTERY_FUNCTIONS} >= {(1, "train_epoch"), (3, "evaluate"),
                                                                  (4, "train_epoch"), (6, "train_epoch"),
                                                                  (7, "train_epoch")}


@pytest.mark.parametrize("number,name,function,exercise", MYSTERY_FUNCTIONS,
                         ids=[f"run_{n}.{name}:{e.name}" for n, name, _, e in MYSTERY_FUNCTIONS])
def test_the_checker_names_no_mystery_s_cause_called_directly_or_wrapped(number, name, function, exercise):
    from autograder import inspect
    for candidate in (function, lambda *args: function(*args)):
        report = inspect(exercise.name, candidate)
        assert report.codes == ["raises"], f"the checker judged mystery run {number}'s {name}: {report.codes}"
        assert "does not diagnose it" in report.diagnoses[0].message
    from course_helpers.mysteries import mystery
    assert mystery(number).run(epochs=1).step_loss, "outside the checker the run still trains with its own code"


def test_the_open_case_s_loop_passes_the_checker_so_check_cannot_name_its_cause():
    from autograder import inspect
    from course_helpers.mysteries import mystery
    assert inspect("train_epoch", mystery("open").train_epoch).passed
