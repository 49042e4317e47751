"""nbgrader's own autograde steps, as the course configures them, split around the run.

Why nbgrader's objects and not a copy of them: the scores and the manual-grading
flags must be the ones `nbgrader autograde` writes. So we take nbgrader's
configured `Autograde` converter (its `sanitize_preprocessors`, its
`autograde_preprocessors`, its `exporter_class`: an instructor's `c.Autograde.*`
included) and run those lists through the same nbconvert exporter, in the same two
passes, with the same resources. The only step we replace is the execution one
(nbgrader's `Execute`, or any ExecutePreprocessor in the list): the isolated worker
runs the cells instead, and its outputs are put in that step's place.

    sanitize()  pass 1 (sanitize list), the notebook written and read back as nbgrader
                writes it to autograded/, then pass 2's steps before execution
    finish()    pass 2's steps from execution on, with the worker's outputs
"""
import copy

import nbformat
from nbconvert.preprocessors import ExecutePreprocessor, Preprocessor
from traitlets.utils.importstring import import_item

from autograder.grade import config as settings


def resources_for(course, student: str, assignment: str, notebook: str, folder: str) -> dict:
    """What nbgrader's converter hands its exporter for one notebook."""
    return {"unique_key": notebook, "output_files_dir": f"{notebook}_files",
            "nbgrader": {"student": student, "assignment": assignment, "notebook": notebook,
                         "db_url": course.db_url},
            "metadata": {"name": notebook, "path": folder}}


def executes(course) -> bool:
    """Whether the configured autograde list runs the notebook at all."""
    return _execution_index(_steps(course)[1]) is not None


def execution_step(course):
    """The configured execution preprocessor, instantiated (its timeout, its skip tag)."""
    steps = _steps(course)[1]
    index = _execution_index(steps)
    return None if index is None else _instance(steps[index], course.config)


def sanitize(course, nb, resources: dict):
    """nbgrader's sanitizing pass, then the autograde steps that come before execution.
    Each pass starts from fresh resources, as nbgrader's does (it reads the file again)."""
    sanitizing, grading = _steps(course)
    nb, _ = _export(course, sanitizing, nb, copy.deepcopy(resources))
    before = grading[:_execution_index(grading)] if executes(course) else grading
    return _export(course, before, nb, copy.deepcopy(resources))


def finish(course, nb, resources: dict, outputs: Preprocessor):
    """The autograde steps from execution on; `outputs` stands in for the execution step.
    When the configured list has no execution step, sanitize() already ran it all."""
    grading = _steps(course)[1]
    index = _execution_index(grading)
    if index is None:
        return nb, resources
    return _export(course, [outputs] + grading[index + 1:], nb, resources)


def _steps(course) -> tuple[list, list]:
    converter = settings.autograde_converter(course.config, course.coursedir)
    return list(converter.sanitize_preprocessors), list(converter.autograde_preprocessors)


def _execution_index(steps: list) -> int | None:
    for index, step in enumerate(steps):
        step = import_item(step) if isinstance(step, str) else step
        kind = step if isinstance(step, type) else type(step)
        if issubclass(kind, ExecutePreprocessor):
            return index
    return None


def _instance(step, config):
    step = import_item(step) if isinstance(step, str) else step
    return step(config=config) if isinstance(step, type) else step


def _export(course, steps: list, nb, resources: dict):
    """One exporter pass, as nbgrader's converter runs it; the result is read back
    from the text nbgrader would write, so both passes see what nbgrader's see."""
    converter = settings.autograde_converter(course.config, course.coursedir)
    exporter = converter.exporter_class(parent=converter, config=converter.config)
    for step in steps:
        exporter.register_preprocessor(step)
    text, resources = exporter.from_notebook_node(nb, resources=resources)
    return nbformat.reads(text, as_version=4), resources
