"""nbgrader steps an instructor names in `nbgrader_config.py`, so that plain `nbgrader
autograde` and formgrader's Autograde button grade as `python -m autograder grade` does:

    from autograder.grade.steps import ExplainScores, IsolatedExecute
    c.Autograde.autograde_preprocessors = [IsolatedExecute, IgnorePattern, ClearMetadataPreprocessor,
                                           LimitOutput, SaveAutoGrades, AssignLatePenalties,
                                           CheckCellMetadata, ExplainScores]

    isolated_execute.py  nbgrader's Execute, run walled in on a warm worker (one job per
                         notebook), the worker's outputs put where nbgrader reads them
    explain_scores.py    after nbgrader has saved the scores: a reason for every graded
                         cell, kept as `<notebook>.grading.json` beside the notebook
    runs.py              where a step's jobs run: the grading command's session, or one
                         warm worker this process keeps
"""
from autograder.grade.steps.explain_scores import ExplainScores
from autograder.grade.steps.isolated_execute import IsolatedExecute

__all__ = ["ExplainScores", "IsolatedExecute"]
