"""The learner-facing helper package: seeding, device choice, start-up line, data, plots, quiz."""
import random

import numpy as np
import pytest
import torch

from course_helpers import pick_device, seed_everything, start
from course_helpers.datasets import data_file, load_digits
from course_helpers.plotting import new_figure, png_bytes
from course_helpers.quiz import Question, multiple_choice


def draw():
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


def test_same_seed_same_numbers_other_seed_other_numbers():
    seed_everything(7)
    first = draw()
    seed_everything(7)
    assert draw() == first
    seed_everything(8)
    assert draw() != first


@pytest.mark.parametrize("bad", [-1, 1.5, "3", None, True])
def test_seed_must_be_a_non_negative_int(bad):
    with pytest.raises(ValueError, match="non-negative int"):
        seed_everything(bad)


def test_device_defaults_to_cpu_and_says_why(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("course_helpers.devices._mps_available", lambda: False)
    device, reason = pick_device()
    assert device == torch.device("cpu")
    assert "no CUDA" in reason


def test_device_prefers_cuda_when_present(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Test GPU")
    device, reason = pick_device()
    assert device.type == "cuda" and "Test GPU" in reason


def test_device_from_environment(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    device, reason = pick_device()
    assert device == torch.device("cpu") and "COURSE_DEVICE" in reason


def test_asking_for_a_missing_gpu_says_what_to_do(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        pick_device("cuda")


def test_start_prints_device_reason_and_seed(capsys, monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    device = start(seed=3)
    line = capsys.readouterr().out
    assert f"Using device '{device}' because" in line
    assert "seed 3" in line and torch.__version__ in line
    assert start(seed=3, quiet=True) == device and capsys.readouterr().out == ""


def test_digits_are_the_real_data_set():
    images, labels = load_digits()
    assert images.shape == (1797, 64) and images.dtype == torch.float32
    assert labels.shape == (1797,) and labels.dtype == torch.int64
    assert 0.0 == images.min().item() and images.max().item() == 1.0
    assert set(labels.tolist()) == set(range(10))
    assert labels.bincount().min().item() >= 170  # about 180 of each digit


def test_missing_data_file_names_what_to_do():
    with pytest.raises(FileNotFoundError, match="Reinstall the course package"):
        data_file("no-such-file.csv")


def test_figures_render_to_png_without_pyplot():
    figure, (axes,) = new_figure(4, 2)
    axes.plot([0, 1], [1, 0])
    data = png_bytes(figure)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 500


def test_question_explains_right_and_wrong_answers():
    question = Question("2 + 2?", {"4": "Addition.", "5": "Off by one."}, "4")
    assert question.feedback("4") == "Right. Addition."
    assert question.feedback("5") == "Not quite. Off by one."
    with pytest.raises(ValueError):
        Question("?", {"a": "x"}, "b")


def test_picking_an_option_shows_its_explanation():
    box = multiple_choice("Shape of x + y?", {"(3, 1)": "No: broadcasting stretches.",
                                              "(3, 4)": "Yes: both stretch."}, "(3, 4)")
    buttons, answer = box.children[1], box.children[2]
    assert answer.value == ""
    buttons.value = "(3, 1)"
    assert "Not quite" in answer.value and "stretches" in answer.value
    buttons.value = "(3, 4)"
    assert "Right" in answer.value


def test_a_quiz_reads_as_plain_text_where_widgets_cannot_run():
    box = multiple_choice("Which dtype?", {"float32": "Yes.", "int64": "No."}, "float32")
    text = repr(box)
    assert text.startswith("Which dtype?") and "( ) float32" in text and "( ) int64" in text


def test_start_uses_one_cpu_thread_unless_told_otherwise(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("COURSE_DEVICE", raising=False)
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
        monkeypatch.setattr("course_helpers.devices._mps_available", lambda: False)
        monkeypatch.delenv("COURSE_CPU_THREADS", raising=False)
        start(quiet=True)
        assert torch.get_num_threads() == 1
        monkeypatch.setenv("COURSE_CPU_THREADS", "2")
        start(quiet=True)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_a_quiz_shown_by_its_cell_is_not_shown_again_as_the_cells_value(monkeypatch):
    shown = []
    monkeypatch.setattr("course_helpers.quiz._execution_count", lambda: 7)
    monkeypatch.setattr("course_helpers.quiz.display", lambda *args, **kwargs: shown.append(args))
    box = multiple_choice("Q?", {"a": "yes", "b": "no"}, "a")
    box._ipython_display_()          # IPython showing the cell's last value
    assert len(shown) == 1
    monkeypatch.setattr("course_helpers.quiz._execution_count", lambda: 8)
    box._ipython_display_()          # shown again from a later cell: allowed
    assert len(shown) == 2


def test_start_freezes_the_loaded_libraries_once_and_never_the_learners_objects(monkeypatch):
    import course_helpers.session as session
    monkeypatch.setattr(session, "_frozen", False)
    frozen = []
    monkeypatch.setattr(session.gc, "freeze", lambda: frozen.append(True))
    start(quiet=True)
    start(quiet=True)
    assert frozen == [True]
