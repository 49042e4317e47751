"""The submission's private working folder: what nbgrader's autograded folder holds, and
what the notebook wrote there.

nbgrader runs a notebook inside `autograded/<student>/<assignment>/`: the learner's other
files and the assignment's released files are there, and whatever the notebook writes
stays there. The walled-in process works in a private folder instead; it gets the same
files (from the job) and hands back what the notebook wrote, which the grading parent
puts in the autograded folder.
"""
import os

WRITTEN_BYTES = 50 * 1024 ** 2  # at most this much of what a notebook wrote comes back
WRITTEN_FILES = 1000


def write_files(files: dict[str, bytes]) -> None:
    """The job's files into the current folder (paths that leave it are skipped)."""
    for relative, content in files.items():
        path = os.path.normpath(relative)
        if path.startswith("..") or os.path.isabs(path):
            continue
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(content)


def written_files(given: dict[str, bytes]) -> dict[str, bytes]:
    """Regular files under the current folder that are new or differ from `given`, up to
    the caps (notebooks and links are never handed back)."""
    found, total = {}, 0
    for folder, folders, names in os.walk(".", followlinks=False):
        folders[:] = sorted(name for name in folders if not os.path.islink(os.path.join(folder, name)))
        for name in sorted(names):
            path = os.path.join(folder, name)
            relative = os.path.normpath(path)
            if name.endswith(".ipynb") or os.path.islink(path) or not os.path.isfile(path):
                continue
            size = os.path.getsize(path)
            if len(found) >= WRITTEN_FILES or total + size > WRITTEN_BYTES:
                return found
            with open(path, "rb") as handle:
                content = handle.read()
            if given.get(relative) != content:
                found[relative] = content
                total += size
    return found
