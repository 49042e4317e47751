"""`python -m autograder VERB ...`: one verb per folder of the workflow.

  check  PATH --exercise NAME   run one exercise's checks on a learner's .py or .ipynb
  grade  ASSIGNMENT [OPTIONS]   nbgrader's autograde (every option of `nbgrader autograde`),
                                in parallel (--jobs N, --scheduler ADDRESS) and walled in;
                                then feedback pages and reports
  feedback ASSIGNMENT           feedback pages and reports (after plain `nbgrader autograde`)
"""
import re
import sys


def check(argv: list[str]) -> int:
    from autograder.self_check.cli import main
    return main(argv)


def grade(argv: list[str]) -> int:
    # A warm worker starts first (4 s of CPU), while nbgrader is imported and reads the course.
    _without_iri_grammars()
    from autograder.grade.backends.local import Launch
    launch = None if _runs_nothing_here(argv) else Launch(clones=_jobs(argv) - 1)
    from autograder.grade.app.grade_app import main
    from autograder.report.publish import publish
    return main(argv, launch=launch, then=publish)


def feedback(argv: list[str]) -> int:
    _without_iri_grammars()
    from autograder.grade.app.after_nbgrader import main
    from autograder.report.publish import publish
    return main(argv, then=publish)


def _without_iri_grammars() -> None:
    """Where rfc3987-syntax is installed (the Jupyter stack pulls it in), importing jsonschema
    builds its 38 grammars for the `iri` format checks: 1.5 s of CPU at every start of the
    command, more than the rest of nbgrader's imports. No schema the grading parent validates
    (nbformat's notebooks, nbgrader's cell metadata) uses those formats, so it goes without
    them; the workers that run the notebooks import as a kernel would."""
    sys.modules.setdefault("rfc3987_syntax", None)


VERBS = {"check": check, "grade": grade, "feedback": feedback}


def _runs_nothing_here(argv: list[str]) -> bool:
    return any(arg.startswith(("--help", "-h", "--scheduler", "--GradeApp.scheduler")) or arg == "--no-execute"
               for arg in argv)


def _jobs(argv: list[str]) -> int:
    """The number of local workers asked for on the command line (else one per core);
    the configuration may still ask for another number: the app starts or ends workers then."""
    import os
    for number, arg in enumerate(argv):
        given = re.fullmatch(r"(?:--jobs|-j|--GradeApp\.jobs)(?:=(\d+))?", arg)
        if given:
            value = given.group(1) or (argv[number + 1] if number + 1 < len(argv) else "")
            if value.isdigit() and int(value) > 0:
                return int(value)
    return os.cpu_count() or 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in VERBS:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    return VERBS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
