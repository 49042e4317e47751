"""`python -m autograder VERB ...`: one verb per folder of the workflow.

  check  PATH --exercise NAME   run one exercise's checks on a learner's .py or .ipynb
  grade  ASSIGNMENT [--jobs N]  grade every submission of an assignment, in parallel
  feedback ASSIGNMENT           feedback pages and reports (after plain `nbgrader autograde`)
"""
import importlib
import sys

VERBS = {
    "check": "autograder.self_check.cli",
    "grade": "autograder.grade.cli",
    "feedback": "autograder.report.cli",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in VERBS:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    verb_module = importlib.import_module(VERBS[argv[0]])
    return verb_module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
