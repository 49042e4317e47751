"""The jobs nbgrader's converter is about to ask for, predicted in its own order.

nbgrader grades one submission after another; the grading command keeps its workers
busy by running the next submissions' jobs before nbgrader reaches them. A job is
predicted with nbgrader's own objects: the converter's list of submissions and
notebooks, its sanitizing steps (run on the submitted notebook exactly as nbgrader's
first pass runs them), the files nbgrader copies into the autograded folder (the
learner's, then the assignment's over them, its `ignore` and `exclude_overwriting`
rules). A prediction only ever saves time: the isolated step asks for the job it
builds itself, and a run made ahead of time is used only when it was made for that
very job (`Job.key`); any other job runs when it is asked for.
"""
import os
import re

import nbformat
from nbconvert.preprocessors import ExecutePreprocessor
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.utils import parse_utc
from traitlets.utils.importstring import import_item

from autograder.grade.steps.isolated_execute import FOLDER_BYTES, job_for
from autograder.record.run import Job, Limits


class Ahead:
    def __init__(self, converter, limits: Limits, skip_tag: str):
        self.converter, self.limits, self.skip_tag = converter, limits, skip_tag
        self.exporter = None
        self.entries = self._plan()

    def _plan(self) -> list[tuple[str, str, str, str]]:
        """(assignment, student, notebook, submitted path) in the order nbgrader grades them."""
        converter, coursedir = self.converter, self.converter.coursedir
        pattern = re.compile(converter._format_source("(?P<assignment_id>.*)", "(?P<student_id>.*)", escape=True))
        entries, known = [], {}
        for folder in sorted(converter.assignments):
            found = pattern.match(folder)
            if found is None:
                continue
            assignment, student = found.group("assignment_id"), found.group("student_id")
            if assignment not in known:
                known[assignment] = _notebooks_in_gradebook(coursedir.db_url, assignment)
            if not self._would_grade(assignment, student):
                continue
            for path in sorted(converter.assignments[folder]):
                name = os.path.splitext(os.path.basename(path))[0]
                if name in known[assignment]:
                    entries.append((assignment, student, name, path))
        return entries

    def _would_grade(self, assignment: str, student: str) -> bool:
        """Whether nbgrader will grade this submission: not excluded, and not autograded
        already unless --force or a newer submission (as its converter decides)."""
        coursedir = self.converter.coursedir
        if coursedir.student_id_exclude and student in coursedir.student_id_exclude.split(","):
            return False
        dest = coursedir.format_path(coursedir.autograded_directory, student, assignment)
        if not os.path.exists(dest) or self.converter.force:
            return True
        if coursedir.notebook_id != "*":
            return True  # a missing notebook of the filtered ones is graded again: let the run decide
        src = coursedir.format_path(coursedir.submitted_directory, student, assignment)
        new, old = _timestamp(src), _timestamp(dest)
        return new is not None and old is not None and new > old

    def job(self, assignment: str, student: str, notebook: str, path: str) -> Job:
        nb = self._sanitized(path)
        return job_for(nb, self._files(assignment, os.path.dirname(path)), self.limits, self.skip_tag)

    def _sanitized(self, path: str):
        """The notebook as nbgrader's execution step will see it: its sanitizing pass, the
        notebook written and read back, then the autograde steps before execution."""
        converter = self.converter
        if self.exporter is None:  # built once per run, as nbgrader's own exporter is
            self.exporter = converter.exporter_class(parent=converter, config=converter.config)
            for step in converter.sanitize_preprocessors:
                self.exporter.register_preprocessor(step)
            self.before = _before_execution(converter.autograde_preprocessors)
        sanitizing = converter._sanitizing
        converter._sanitizing = True  # nbgrader reads the submitted folder in its first pass
        try:
            resources = converter.init_single_notebook_resources(path)
        finally:
            converter._sanitizing = sanitizing
        text, _ = self.exporter.from_filename(path, resources=resources)
        nb = nbformat.reads(text, as_version=4)
        for step in self.before:
            nb, _ = (import_item(step) if isinstance(step, str) else step)(parent=converter)(nb, dict(resources))
        return nb

    def _files(self, assignment: str, submitted: str) -> dict[str, bytes]:
        """The autograded folder's files as nbgrader lays it out (notebooks aside)."""
        coursedir = self.converter.coursedir
        ignore = list(coursedir.ignore) + ["*.ipynb"]
        source = coursedir.format_path(coursedir.source_directory, ".", assignment)
        kept = set(self.converter.exclude_overwriting.get(assignment, []))
        files, total = {}, 0
        for base, skip in ((submitted, set()), (source, kept)):
            for path in sorted(utils.find_all_files(base, ignore)) if os.path.isdir(base) else []:
                relative = os.path.relpath(path, base)
                if relative in skip or relative.endswith(".grading.json") or os.path.islink(path):
                    continue
                size = os.path.getsize(path)
                if total + size > FOLDER_BYTES:
                    continue
                with open(path, "rb") as handle:
                    files[relative] = handle.read()
                total += size
        return files


def _before_execution(steps) -> list:
    """The autograde steps that run before the execution step (none, by default)."""
    found = []
    for step in steps:
        kind = import_item(step) if isinstance(step, str) else step
        if isinstance(kind, type) and issubclass(kind, ExecutePreprocessor):
            return found
        found.append(step)
    return []


def _notebooks_in_gradebook(db_url: str, assignment: str) -> set[str]:
    try:
        with Gradebook(db_url) as gb:
            return {notebook.name for notebook in gb.find_assignment(assignment).notebooks}
    except MissingEntry:
        return set()


def _timestamp(folder: str):
    try:
        with open(os.path.join(folder, "timestamp.txt")) as handle:
            text = handle.read().strip()
        return parse_utc(text) if text else None
    except (OSError, ValueError):
        return None
