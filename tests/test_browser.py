"""The phase-4 loss explorer in a real browser: JupyterLab + Debian's Chromium via Playwright.

The test copies the phase-4 notebook into a temporary folder, starts JupyterLab there,
runs every cell, drags the learning-rate slider and ticks "skip zero_grad()", and checks
that the picture changed and that the readout says what the curves really show (the
expected verdict is computed here, in the test process, from the settings the page shows).
A screenshot is kept under test-artifacts/browser/ and under pytest's tmp_path.

Without chromium or playwright the test is skipped, unless COURSE_REQUIRE_BROWSER=1
(course CI sets it), in which case it fails. The helpers at the top are shared with
benchmarks/widget_latency.py.
"""
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
PHASE_4 = ROOT / "source" / "04_training_loop" / "04_training_loop.ipynb"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
PYTHON = os.path.abspath(sys.executable)  # may be relative; not resolved: that would leave the venv
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def browser_or_skip():
    """(chromium path, playwright's sync_playwright) or skip/fail with the reason."""
    reason = None
    path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright, reason = None, "playwright is not installed"
    if path is None:
        reason = "Debian's chromium is not installed (apt-get install chromium)"
    if reason:
        if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"COURSE_REQUIRE_BROWSER=1 but {reason}.")
        pytest.skip(reason)
    return path, sync_playwright


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_lab(root_dir: Path, log_path: Path, timeout: float = 60):
    """Start JupyterLab on 127.0.0.1 in `root_dir`; yield its base URL and token; always stop it."""
    port, token = free_port(), secrets.token_hex(16)
    state = root_dir.parent / f"jupyter-state-{port}"
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(state / "config"), JUPYTER_RUNTIME_DIR=str(state / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(state / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"),
               PATH=str(Path(PYTHON).parent) + os.pathsep + os.environ.get("PATH", ""))
    command = [PYTHON, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root_dir}",
               "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None", "--allow-root",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    # No "receive Jupyter news?" toast over the widgets (and no fetching from the network).
    notification = state / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                  cwd=root_dir, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {server.returncode}; see {log_path}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"JupyterLab did not answer within {timeout} s; see {log_path}")
            time.sleep(0.3)
        yield base, token
    finally:
        shut_down_kernels(base, token)  # kernels run in their own sessions: ask the server first
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def shut_down_kernels(base: str, token: str) -> None:
    """Ask a running Jupyter server to stop every kernel it started (quietly, best effort)."""
    headers = {"Authorization": f"token {token}"}
    with contextlib.suppress(OSError, ValueError):
        with urllib.request.urlopen(urllib.request.Request(f"{base}/api/kernels", headers=headers),
                                    timeout=5) as reply:
            kernels = json.load(reply)
        for kernel in kernels:
            request = urllib.request.Request(f"{base}/api/kernels/{kernel['id']}", method="DELETE",
                                             headers=headers)
            with contextlib.suppress(OSError):
                urllib.request.urlopen(request, timeout=10).close()


def explorer_notebook(folder: Path) -> tuple[Path, bool]:
    """Copy the phase-4 notebook into `folder` (or write a stand-in); (path, is_the_real_one)."""
    folder.mkdir(parents=True, exist_ok=True)
    if PHASE_4.exists() and "loss_explorer(" in PHASE_4.read_text():
        target = folder / PHASE_4.name
        shutil.copy(PHASE_4, target)
        return target, True
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from course_helpers.widgets import loss_explorer\n\nexplorer = loss_explorer()")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    target = folder / "explorer.ipynb"
    nbformat.write(notebook, target)
    return target, False


def open_and_run_all(page, base: str, token: str, notebook_name: str, timeout_ms: int = 60_000):
    """Open a notebook in JupyterLab, run all cells, wait until the kernel is idle again."""
    page.goto(f"{base}/lab/tree/{notebook_name}?token={token}", timeout=timeout_ms)
    page.wait_for_function(
        "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " return w && w.sessionContext && w.sessionContext.session"
        " && w.sessionContext.session.kernel && w.sessionContext.session.kernel.status === 'idle'; }",
        timeout=timeout_ms)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        "() => { const w = window.jupyterapp.shell.currentWidget;"
        " const busy = w.sessionContext.session.kernel.status !== 'idle';"
        " const queued = [...document.querySelectorAll('.jp-InputArea-prompt')]"
        "   .some(p => p.textContent.includes('*'));"
        " return !busy && !queued && document.querySelector('.loss-explorer-image') !== null; }",
        timeout=timeout_ms, polling=250)


def image_source(page) -> str:
    return page.eval_on_selector(".loss-explorer-image", "img => img.src")


def wait_for_new_image(page, old_source: str, timeout_ms: int = 20_000) -> str:
    page.wait_for_function(
        "old => { const img = document.querySelector('.loss-explorer-image');"
        " return img && img.src !== old && img.complete; }", arg=old_source, timeout=timeout_ms)
    return image_source(page)


def drag_slider_to(page, css_class: str, fraction: float):
    """Drag a slider's handle to `fraction` of its track and release it (a real mouse drag)."""
    handle = page.locator(f".{css_class} .noUi-handle").first
    track = page.locator(f".{css_class} .noUi-base, .{css_class} .noUi-target").first
    handle.scroll_into_view_if_needed()
    start, box = handle.bounding_box(), track.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    target_x = box["x"] + fraction * box["width"]
    page.mouse.move(target_x, start["y"] + start["height"] / 2, steps=5)
    page.mouse.up()


def shown_settings(page):
    """The explorer's settings as the page shows them, rebuilt as a Settings object."""
    from course_helpers.widgets.curves_explorer import BUGS
    from course_helpers.widgets.toy_training import Settings

    shown = page.evaluate(
        "() => { const text = c => document.querySelector(`.${c} .widget-readout`).textContent.trim()"
        "         || document.querySelector(`.${c} .widget-readout`).value;"
        " const box = c => document.querySelector(`.${c} input`).checked;"
        " return { lr: text('loss-explorer-lr'), epochs: text('loss-explorer-epochs'),"
        "   batch: text('loss-explorer-batch-size'),"
        "   optimizer: document.querySelector('.loss-explorer-optimizer .mod-active').textContent.trim(),"
        "   bugs: Object.fromEntries(['skip-zero-grad', 'step-before-backward', 'validate-in-train-mode']"
        "     .map(b => [b, box('loss-explorer-' + b)])) }; }")
    bugs = {field: shown["bugs"][field.replace("_", "-")] for field in BUGS.values()}
    return Settings(learning_rate=float(shown["lr"]), epochs=int(shown["epochs"]),
                    batch_size=int(shown["batch"]), optimizer=shown["optimizer"], **bugs)


def expected_kind(settings) -> str:
    from course_helpers.widgets.curves_explorer import describe
    from course_helpers.widgets.toy_training import train_toy

    return describe(train_toy(settings)).kind


def readout_kind(page) -> str:
    classes = page.eval_on_selector(".loss-explorer-readout p", "p => p.className")
    return classes.replace("verdict-", "")


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_loss_explorer_in_jupyterlab(tmp_path):
    chromium, sync_playwright = browser_or_skip()
    notebook, is_phase_4 = explorer_notebook(tmp_path / "course")
    print(f"notebook under test: {'the phase-4 notebook' if is_phase_4 else 'a stand-in (no phase-4 notebook yet)'}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    with running_lab(notebook.parent, tmp_path / "jupyterlab.log") as (base, token), \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            open_and_run_all(page, base, token, notebook.name)
            page.locator(".loss-explorer").first.scroll_into_view_if_needed()
            first_image = image_source(page)
            assert first_image, "the explorer shows no image after running all cells"
            assert readout_kind(page) == expected_kind(shown_settings(page))

            # Tick "skip zero_grad()": the loop now keeps old gradients.
            page.locator(".loss-explorer-skip-zero-grad input").check()
            second_image = wait_for_new_image(page, first_image)
            settings = shown_settings(page)
            assert settings.skip_zero_grad
            page.wait_for_function("k => document.querySelector('.loss-explorer-readout p')"
                                   ".className === 'verdict-' + k", arg=expected_kind(settings),
                                   timeout=20_000)

            # Drag the learning rate to the top of its range: training must blow up.
            drag_slider_to(page, "loss-explorer-lr", 1.0)
            wait_for_new_image(page, second_image)
            page.wait_for_function("() => document.querySelector('.loss-explorer-readout p')"
                                   ".className === 'verdict-diverged'", timeout=20_000)
            assert shown_settings(page).learning_rate >= 5
            readout = page.inner_text(".loss-explorer-readout")
            assert readout.startswith(("Diverged", "Diverging")), readout

            shot = page.locator(".loss-explorer").first.screenshot()
        finally:
            browser.close()
    for folder in (ARTIFACTS, tmp_path):
        (folder / "loss_explorer.png").write_bytes(shot)
    (ARTIFACTS / "loss_explorer.json").write_text(json.dumps(
        {"notebook": "phase 4" if is_phase_4 else "stand-in", "readout": readout}, indent=1))
