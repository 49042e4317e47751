"""Start a release: `python scripts/set_version.py 0.2.0`.

The version lives in one place, `course_helpers/first_cell.py` (pyproject.toml reads it
from there). Changing it changes what the set-up cell installs in Colab and where the
README's "Open in Colab" badges point, so this script rewrites the constant, the README's
links to the old tag, every source notebook's set-up cell and every student notebook.
The remaining release steps are in README.md ("Releasing").
"""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONSTANT = ROOT / "course_helpers" / "first_cell.py"
VERSION_LINE = re.compile(r'^VERSION = "([^"]+)"$', re.M)


def main(new: str) -> None:
    if not re.fullmatch(r"\d+\.\d+\.\d+", new):
        raise SystemExit(f"{new!r} is not a version like 0.2.0")
    text = CONSTANT.read_text()
    old = VERSION_LINE.search(text).group(1)
    CONSTANT.write_text(VERSION_LINE.sub(f'VERSION = "{new}"', text))
    readme = ROOT / "README.md"
    readme.write_text(readme.read_text().replace(f"/blob/v{old}/", f"/blob/v{new}/").replace(f"@v{old}", f"@v{new}"))
    for script in ("sync_first_cell.py", "make_student_notebooks.py"):
        subprocess.run([sys.executable, str(ROOT / "scripts" / script)], check=True)
    print(f"Version {old} -> {new}. Commit, then tag v{new} (README.md, 'Releasing').")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
