"""The set-up cell that opens every notebook, and the one place that names the release.

The cell is the one piece of code every notebook repeats, because it must run before the
course package can be imported: in a checkout it puts the repository on `sys.path`;
in Google Colab it installs the course package (data included) pinned to this release,
with `--no-deps`, so Colab's own torch, numpy and ipywidgets stay as they are.

`VERSION` is the package's version (pyproject.toml reads it from here), and the address
of its tagged source; the set-up cell, the README's "Open in Colab" badges and the
release steps (`python scripts/set_version.py`) all follow it.
"""

VERSION = "0.1.0"
REPOSITORY = "https://github.com/training-loop-course/course"
RELEASE_TAG = f"v{VERSION}"
PACKAGE_SOURCE = f"git+{REPOSITORY}@{RELEASE_TAG}"
COLAB_BASE = "https://colab.research.google.com/github/" + REPOSITORY.removeprefix("https://github.com/")


def colab_url(assignment: str) -> str:
    """Where an "Open in Colab" badge points: a phase's student notebook in this release."""
    return f"{COLAB_BASE}/blob/{RELEASE_TAG}/notebooks/{assignment}/{assignment}.ipynb"


FIRST_CELL = f'''\
# Set-up: run this cell first. It finds the course package (or installs it in Colab).
import importlib.util, os, pathlib, subprocess, sys
package = os.environ.get("COURSE_PACKAGE", "{PACKAGE_SOURCE}")
if importlib.util.find_spec("course_helpers") is None:
    root = next((p for p in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents] if (p / "course_helpers").is_dir()), None)
    if root is not None:
        sys.path.insert(0, str(root))
    elif "google.colab" not in sys.modules:
        raise ModuleNotFoundError(f"The course package is missing: open this notebook inside the course folder, or run  pip install --no-deps {{package}}")
    else:
        pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", package], capture_output=True, text=True)
        if pip.returncode:
            log = pip.stderr.lower()
            why = ("it needs another Python version: pick another runtime (Runtime > Change runtime type)" if "requires a different python" in log
                   else "there is no network: connect the runtime to the internet, then run this cell again" if "connection" in log or "resolve" in log
                   else "it was not found: open the notebook from the course's README, which links this release" if "not found" in log or "404" in log or "does not exist" in log
                   else f"pip said: {{pip.stderr.strip().splitlines()[-1] if log else pip.returncode}}")
            raise RuntimeError(f"Could not install the course package ({{package}}) because {{why}}.") from None
        importlib.invalidate_caches()
from course_helpers import start
device = start()'''
