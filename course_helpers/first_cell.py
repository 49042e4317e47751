"""The set-up cell that opens every notebook, kept here so tests can hold notebooks to it.

It is the one piece of code every notebook repeats, because it must run before the
course package can be imported: in a checkout it puts the repository on `sys.path`;
in Google Colab it installs the course package (data included) with `--no-deps`, so
Colab's own torch, numpy and ipywidgets stay as they are.
"""

PACKAGE_SOURCE = "git+https://github.com/training-loop-course/course"

FIRST_CELL = f'''\
# Set-up: run this cell first. It finds the course package (or installs it in Colab).
import importlib.util, os, pathlib, subprocess, sys
source = os.environ.get("COURSE_PACKAGE", "{PACKAGE_SOURCE}")
if importlib.util.find_spec("course_helpers") is None:
    root = next((p for p in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents] if (p / "course_helpers").is_dir()), None)
    if root is not None:
        sys.path.insert(0, str(root))
    elif "google.colab" in sys.modules:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", source], check=True)
        importlib.invalidate_caches()
    else:
        raise ModuleNotFoundError(f"The course package is missing: open this notebook inside the course folder, or run  pip install --no-deps {{source}}")
from course_helpers import start
device = start()'''
