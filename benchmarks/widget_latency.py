"""How long from releasing the loss explorer's learning-rate slider to the new picture in a browser.

Starts JupyterLab (127.0.0.1, a temporary folder) and Debian's Chromium through Playwright,
opens a one-cell notebook with `loss_explorer()`, then drags the learning-rate slider to a
new place and releases it, --moves times (default 24, after 2 warm-up moves). Each time is
measured inside the page: from the `pointerup` event to the `load` event of the new image.
It also asks the kernel how that time split into training, drawing and sending.

    PATH=.venv/bin:$PATH python benchmarks/widget_latency.py [--moves 24]

The last line is the figure: median and 95th percentile in milliseconds.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_browser import CHROMIUM_ARGS, chromium_path, running_lab  # noqa: E402

NOTEBOOK = "from course_helpers.widgets import loss_explorer\n\nexplorer = loss_explorer()"
TIMER = """() => {
  window.__bench = {start: null, times: []};
  document.addEventListener('pointerup', () => { window.__bench.start = performance.now(); }, true);
  const img = document.querySelector('.loss-explorer-image');
  img.addEventListener('load', () => {
    if (window.__bench.start !== null) {
      window.__bench.times.push(performance.now() - window.__bench.start);
      window.__bench.start = null;
    }
  });
}"""
ASK_KERNEL = """async code => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  let text = '';
  const future = kernel.requestExecute({code, store_history: false});
  future.onIOPub = msg => { if (msg.header.msg_type === 'stream') text += msg.content.text; };
  await future.done;
  return text;
}"""


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def place_for(move: int) -> float:
    """Where on the track move number `move` releases the handle: spread out, never repeating twice."""
    return 0.35 + 0.3 * ((move * 7) % 23) / 22  # learning rates from about 0.002 to 0.3


def measure(moves: int, warmup: int = 2) -> tuple[list[float], list[dict]]:
    from playwright.sync_api import sync_playwright

    from test_browser import drag_slider_to, open_and_run_all

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "course"
        folder.mkdir()
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(NOTEBOOK)])
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(notebook, folder / "bench.ipynb")
        with running_lab(folder, Path(scratch) / "lab.log") as (base, token), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                open_and_run_all(page, base, token, "bench.ipynb")
                page.evaluate(TIMER)
                for move in range(warmup + moves):
                    before = page.evaluate("() => window.__bench.times.length")
                    drag_slider_to(page, "loss-explorer-lr", place_for(move))
                    page.wait_for_function("n => window.__bench.times.length > n", arg=before,
                                           timeout=20_000)
                    page.wait_for_timeout(150)  # let the page settle, as a person would
                times = page.evaluate("() => window.__bench.times")[warmup:]
                report = page.evaluate(ASK_KERNEL, "import json; print(json.dumps(explorer.timing_log))")
                kernel = json.loads(report)[-moves:]
            finally:
                browser.close()
    return times, kernel


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=24, help="measured slider moves (at least 20)")
    args = parser.parse_args()
    if chromium_path() is None:
        sys.exit("Debian's chromium is needed: apt-get install chromium")
    load_before = os.getloadavg()[0]
    times, kernel = measure(max(args.moves, 20))
    print(f"machine: {os.cpu_count()} CPUs, load average {load_before:.1f} before and "
          f"{os.getloadavg()[0]:.1f} after (other work on the machine slows every figure below)")
    for part in ("train", "draw", "send"):
        wall = [entry[f"{part}_ms"] for entry in kernel]
        cpu = [entry[f"{part}_cpu_ms"] for entry in kernel]
        print(f"kernel {part:>5}: median {statistics.median(wall):6.1f} ms wall "
              f"({statistics.median(cpu):5.1f} ms CPU), p95 {percentile(wall, 95):6.1f} ms")
    inside = [entry["train_ms"] + entry["draw_ms"] + entry["send_ms"] for entry in kernel]
    rest = statistics.median(times) - statistics.median(inside)
    print(f"kernel total: median {statistics.median(inside):6.1f} ms; the remaining ~{rest:.0f} ms is "
          "the messages both ways and the browser decoding and showing the PNG")
    print(f"slider release -> new image: median {statistics.median(times):.0f} ms, "
          f"p95 {percentile(times, 95):.0f} ms over {len(times)} moves")


if __name__ == "__main__":
    main()
