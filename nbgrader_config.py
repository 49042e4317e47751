"""nbgrader's configuration for the course: run instructors' commands from this folder.

`source/<phase>/` holds the source of each assignment (one phase = one assignment), with
solutions and hidden tests. `notebooks/<phase>/` holds what learners open: the student
versions that `nbgrader generate_assignment` writes there (`make student-notebooks`
regenerates them all; they are committed, never edited by hand), and that
`nbgrader release_assignment` hands out.
"""
from pathlib import Path

c = get_config()  # noqa: F821 (nbgrader provides get_config)

c.CourseDirectory.course_id = "training-loop"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
# What a notebook writes while it runs is not part of an assignment.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            "runs", "checkpoints", "*.pt"]

# The exchange (release, fetch, submit, collect, feedback). On a JupyterHub it is
# nbgrader's system-wide folder, shared by every user (docs/jupyterhub/ sets it up);
# on one machine without it, a folder next to this file (`make lab` creates it).
SHARED_EXCHANGE = Path("/usr/local/share/nbgrader/exchange")
if not SHARED_EXCHANGE.is_dir():
    c.Exchange.root = str(Path(__file__).resolve().parent / "exchange")

# Stubs go inside function bodies so a release notebook always runs top to bottom.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Training cells take longer than nbgrader's 30 s default; a hang still ends.
c.Execute.timeout = 120

# nbgrader scores a grade cell 0 when it writes anything to stderr. A warning from
# correct code (a torch UserWarning, say) must not cost marks: drop warning lines.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"\w*Warning: "

# A test cell a learner deleted is put back and run (nbgrader's default would leave
# it for manual grading); `python -m autograder grade` follows this setting too.
c.OverwriteCells.add_missing_cells = True

# nbgrader's own autograde steps, with the course's isolated execution step in place of
# `Execute` and the explaining step last: plain `nbgrader autograde` and formgrader's
# Autograde button then run every submission walled in (no course folder, no network,
# time and memory limits, tamper checks) and leave `<notebook>.grading.json`, the
# reason for every lost point, beside each autograded notebook. `python -m autograder
# grade` does the same in parallel. Limits: c.GradingLimits.* (autograder/grade/course/settings.py).
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades)

from autograder.grade.steps import ExplainScores, IsolatedExecute  # noqa: E402

c.Autograde.autograde_preprocessors = [IsolatedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       SaveAutoGrades, AssignLatePenalties, CheckCellMetadata, ExplainScores]
