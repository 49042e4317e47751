"""Static views read well: GitHub, nbviewer and exported HTML show whole quizzes and pictures.

Where no widget front end runs, an output shows its best fallback. ipywidgets (7 and 8)
send a widget's repr cut at 110 characters; the course's quizzes send the whole question
and options as text and HTML, and its widgets a PNG. Checked on the display path a real
kernel takes, then on an executed course notebook exported by nbconvert to HTML, which
headless Chromium renders (screenshots under test-artifacts/static/).
"""
import base64
import copy
import html
import re

import nbformat
import pytest
from nbclient import NotebookClient

from notebook_tools import ROOT, WIDGET_VIEW, executed_student_notebook, source_notebooks

ARTIFACTS = ROOT / "test-artifacts" / "static"
LONG_QUESTION = ("A question far longer than the hundred and ten characters that ipywidgets keeps "
                 "of a widget's text: does the end of it, <and> its options, still show?")
OPTIONS = {"Yes, every word of it.": "Right.", "Only the first 110 characters.": "That is the bug this avoids."}


def kernel_outputs(code: str) -> list:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(notebook, timeout=120, store_widget_state=False, resources={"metadata": {"path": str(ROOT)}}).execute()
    return notebook.cells[0].outputs


@pytest.mark.slow
def test_a_quiz_in_a_kernel_sends_its_whole_text_and_html():
    (output,) = kernel_outputs(f"from course_helpers.quiz import multiple_choice\n"
                               f"multiple_choice({LONG_QUESTION!r}, {OPTIONS!r}, {next(iter(OPTIONS))!r})")
    data = output["data"]
    assert WIDGET_VIEW in data, "the live widget must still come first"
    assert data["text/plain"].startswith(LONG_QUESTION)
    assert html.escape(LONG_QUESTION) in data["text/html"]
    for option in OPTIONS:
        assert f"( ) {option}" in data["text/plain"] and html.escape(option) in data["text/html"]
    assert "explanation" not in data["text/html"] and "Right." not in data["text/html"], \
        "a static view must not give the answer away"


def student_with_quiz_and_widget():
    """The first phase whose notebook has both a quiz and a picture-carrying widget."""
    for source in source_notebooks():
        text = source.read_text()
        if "multiple_choice(" in text and "_explorer(" in text:
            return source
    pytest.skip("no notebook has both a quiz and an explorer widget")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """An executed student notebook as nbconvert's HTML export (lab template), and its outputs."""
    from nbconvert import HTMLExporter

    source = student_with_quiz_and_widget()
    notebook = copy.deepcopy(executed_student_notebook(source))
    notebook.metadata.pop("widgets", None)  # as JupyterLab saves a notebook by default: no widget state
    page, _ = HTMLExporter().from_notebook_node(notebook)
    path = tmp_path_factory.mktemp("html") / f"{source.stem}.html"
    path.write_text(page)
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    return path, page, outputs


@pytest.mark.slow
def test_exported_html_shows_every_quiz_whole_and_every_widget_as_a_picture(exported):
    _, page, outputs = exported
    text = html.unescape(page)
    quizzes = [o for o in outputs if 'class="course-quiz"' in o.get("data", {}).get("text/html", "")]
    widgets = [o for o in outputs if WIDGET_VIEW in o.get("data", {}) and o not in quizzes]
    assert quizzes and widgets, "the notebook must show at least one quiz and one widget"
    for quiz in quizzes:
        question, *options = quiz["data"]["text/plain"].splitlines()[:-1]
        assert question in text, f"the export cuts the question {question[:60]!r}"
        for option in options:
            assert option.removeprefix("  ( ) ") in text, f"the export lacks the option {option!r}"
    for widget in widgets:
        if "image/png" in widget["data"]:
            assert widget["data"]["image/png"].strip()[:200] in page.replace("\n", ""), "a widget picture is missing"
        else:
            assert html.unescape(widget["data"]["text/html"]) in text
    assert "(children=" not in page and "\u2026</pre>" not in page, "a widget shows as its raw or cut repr"
    assert f'type="{WIDGET_VIEW}"' not in page, "a widget view without saved state renders as nothing"


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(180)
def test_screenshots_of_a_quiz_and_a_widget_in_the_exported_html(exported):
    from test_browser import CHROMIUM_ARGS, browser_or_skip

    chromium, sync_playwright = browser_or_skip()
    path, _, outputs = exported
    question = next(o["data"]["text/plain"].splitlines()[0] for o in outputs
                    if 'class="course-quiz"' in o.get("data", {}).get("text/html", ""))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(path.as_uri())
            quiz = page.locator(".course-quiz").first
            quiz.scroll_into_view_if_needed()
            shown = quiz.inner_text()
            quiz_shot = quiz.screenshot()
            picture = page.locator(".jp-OutputArea-output img").first
            picture.scroll_into_view_if_needed()
            size = picture.evaluate("img => [img.naturalWidth, img.naturalHeight, img.complete]")
            widget_shot = picture.screenshot()
        finally:
            browser.close()
    (ARTIFACTS / "quiz.png").write_bytes(quiz_shot)
    (ARTIFACTS / "widget.png").write_bytes(widget_shot)
    assert re.sub(r"\s+", " ", question) in re.sub(r"\s+", " ", shown), f"the rendered quiz reads {shown!r}"
    assert size[2] and size[0] > 200 and size[1] > 100, f"the widget's picture did not render: {size}"
    for shot in (quiz_shot, widget_shot):
        assert shot.startswith(base64.b64decode("iVBORw0KGgo=")) and len(shot) > 2000


@pytest.mark.slow
def test_a_progress_bar_is_left_showing_where_it_finished():
    (output,) = kernel_outputs("from course_helpers.progress import tqdm\n"
                               "for step in tqdm(range(29), desc='epoch 1'):\n    pass")
    data = output["data"]
    assert WIDGET_VIEW in data
    assert data["text/plain"].startswith("epoch 1: 100%") and "29/29" in data["text/plain"], data["text/plain"]
    assert "29/29" in data["text/html"]


@pytest.mark.slow
def test_a_progress_bar_stopped_early_says_how_far_it_got():
    outputs = kernel_outputs("from course_helpers.progress import tqdm\n"
                             "with tqdm(total=40, desc='training') as bar:\n    bar.update(25)")
    assert [o["data"]["text/plain"].split("|")[0] for o in outputs] == ["training:  62%"]
    assert "25/40" in outputs[0]["data"]["text/plain"]
