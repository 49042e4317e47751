"""nbgrader's execution step, run walled in: the step an instructor names in place of `Execute`.

Why a subclass of nbgrader's `Execute`: everything nbgrader and an instructor say about
execution still applies to it: `c.Execute.timeout` (or `ExecutePreprocessor.timeout`),
`skip_cells_with_tag`, `--no-execute` (it turns `Execute` off), and the kernelspec the
notebook names must exist, as nbgrader checks when it starts a kernel (a missing one
fails the submission, as under nbgrader). What changes is where the cells run: for a
Python kernel, in a fork of a warm worker that already holds torch, behind the walls
of grade/kernel/sandbox.py (no course folder, no network, no other process, time and
memory limits), checked after every cell for tampering. The worker's record of each
cell goes where nbgrader's own step would have put its outputs, so nbgrader's next
steps score it exactly as they score their own. A cell that never ran (the process
died before it, tampering was found) gets an error output, so nbgrader scores a test
there 0; why it did not run travels on in the run's record (resources["autograder"]),
for explain_scores.py. A notebook for another language runs in nbgrader's own kernel.
"""
import os

import nbformat
from nbgrader import utils
from nbgrader.preprocessors import Execute

from autograder.grade.course.folders import secret_paths
from autograder.grade.course.settings import GradingLimits
from autograder.grade.reasons.causes import subject
from autograder.grade.steps.runs import converter_of, session_of
from autograder.record.run import Job, JobCell, Run, StopKind

FOLDER_BYTES = 50 * 1024 ** 2  # at most this much of the notebook's folder goes with the job


class IsolatedExecute(Execute):

    def preprocess(self, nb, resources):
        if self._kernel_language(nb) != "python":
            return super().preprocess(nb, resources)
        folder = resources.get("metadata", {}).get("path") or "."
        job = job_for(nb, folder_files(folder), GradingLimits(parent=self).for_job(self.timeout),
                      self.skip_cells_with_tag)
        ids = resources.get("nbgrader", {})
        where = (ids.get("assignment"), ids.get("student"), ids.get("notebook"))
        run = session_of(self).run(job, self._cover(resources), where)
        nb = with_outputs(nb, job, run)
        for name, content in run.files.items():  # what the notebook wrote, where nbgrader's kernel would have
            _write_inside(folder, name, content)
        resources.setdefault("autograder", {})["run"] = run
        return nb, resources

    def _kernel_language(self, nb) -> str:
        """The language of the kernel the notebook names, found as nbclient finds it
        (NoSuchKernel when there is none, as under nbgrader)."""
        self.nb, named = nb, self.kernel_name
        try:
            return self.create_kernel_manager().kernel_spec.language
        finally:
            self.kernel_name, self.km = named, None

    def _cover(self, resources) -> list[str]:
        converter = converter_of(self)
        coursedir = getattr(converter, "coursedir", None)
        if coursedir is not None:
            return secret_paths(coursedir, converter.config)
        return [os.getcwd()]  # on its own: nbgrader's converters work from the course root


def job_for(nb, files: dict[str, bytes], limits, skip_tag: str) -> Job:
    """The code cells nbgrader's execution step would run (not empty, not tagged to be
    skipped), with the notebook's folder and the limits."""
    cells = tuple(JobCell(index, cell.source, _is_instructor_cell(cell), utils.is_grade(cell))
                  for index, cell in enumerate(nb.cells)
                  if cell.cell_type == "code" and cell.source.strip() and skip_tag not in cell.metadata.get("tags", []))
    return Job(cells, files, limits)


def folder_files(folder: str) -> dict[str, bytes]:
    """What a kernel started in `folder` would find there: every file but the notebooks
    (one holds the hidden tests nbgrader just put back) and the grader's own records."""
    found, total = {}, 0
    for path, folders, names in os.walk(folder):
        folders.sort()
        for name in sorted(names):
            full = os.path.join(path, name)
            if name.endswith((".ipynb", ".grading.json")) or os.path.islink(full) or not os.path.isfile(full):
                continue
            size = os.path.getsize(full)
            if total + size > FOLDER_BYTES:
                continue
            with open(full, "rb") as handle:
                found[os.path.relpath(full, folder)] = handle.read()
            total += size
    return found


def with_outputs(nb, job: Job, run: Run):
    """The notebook with the run's outputs in the cells it ran; a cell that never ran gets
    an error output (nbgrader scores a test there 0), saying why, for whoever reads the
    autograded notebook; so do the tests from the cell where tampering was found on."""
    tampered = run.stop.cell if run.stop is not None and run.stop.kind is StopKind.TAMPERING else None
    stops = run.process_stops
    for cell in job.cells:
        target = nb.cells[cell.index]
        record = run.cells.get(cell.index)
        if record is not None:
            target.outputs = [nbformat.from_dict(output) for output in record.outputs]
            target.execution_count = record.count
        else:
            target.outputs = [_not_run(f"not run: {_why_not_run(nb, cell.index, run, stops, tampered)}")]
            target.execution_count = None
        if record is not None and tampered is not None and cell.index >= tampered and cell.grade:
            target.outputs.append(_not_run(f"tampering detected: {run.stop.words}"))
    return nb


def _why_not_run(nb, index: int, run: Run, stops: dict, tampered: int | None) -> str:
    if tampered is not None and index > tampered:
        return f"tampering was detected after {subject(nb, tampered)} ran ({run.stop.words})"
    if index in stops:
        return f"{subject(nb, index)} {stops[index].words}"
    if run.stop is not None:
        return run.stop.words if run.stop.cell is None else f"{subject(nb, run.stop.cell)} {run.stop.words}"
    return "the notebook stopped before this cell"


def _not_run(words: str):
    return nbformat.from_dict({"output_type": "error", "ename": "GradingStopped", "evalue": words,
                               "traceback": [f"GradingStopped: {words}"]})


def _is_instructor_cell(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("locked") or (meta.get("grade") and not meta.get("solution")))


def _write_inside(folder: str, name: str, content: bytes) -> None:
    path = os.path.normpath(os.path.join(folder, name))
    if os.path.commonpath([os.path.abspath(path), os.path.abspath(folder)]) != os.path.abspath(folder):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):  # an earlier run's, read-only as nbgrader leaves its files
        os.remove(path)
    with open(path, "wb") as handle:
        handle.write(content)
