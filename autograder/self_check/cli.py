"""`python -m autograder check PATH --exercise NAME`: check one exercise in a .py or .ipynb file.

Exit status: 0 the function passes, 1 a bug was found, 2 the file cannot be used
(missing, syntax error, no such function, unknown exercise).
"""
import argparse
import sys

from autograder.self_check.loader import UnusableFile, load_function
from autograder.diagnoses import CONCERNS
from autograder.exercises import EXERCISES
from autograder.runner import DEFAULT_TIME_LIMIT, run_exercise
from autograder.render import text, text_diagnoses


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder check",
                                     description="Run one exercise's loop checks on a learner's file.")
    parser.add_argument("path", help="a .py file or an .ipynb notebook")
    parser.add_argument("--exercise", required=True, choices=sorted(EXERCISES))
    parser.add_argument("--function", help="the function's name (default: the exercise's usual name)")
    parser.add_argument("--concern", choices=[c for c in CONCERNS if c != "runs"],
                        help="only this concern (default: all)")
    parser.add_argument("--hidden", action="store_true", help="use the hidden fixtures")
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT,
                        help=f"seconds before the function is stopped (default {DEFAULT_TIME_LIMIT:g})")
    return parser


def main(argv: list[str]) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return 2 if exit_.code else 0
    exercise = EXERCISES[args.exercise]
    name = args.function or exercise.function_name
    try:
        function = load_function(args.path, name)
    except UnusableFile as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    report = run_exercise(args.exercise, function, hidden=args.hidden, time_limit=args.time_limit)
    failing = report.failing(args.concern)
    if args.concern is None:
        print(text(report))
    elif failing:
        print(f"{args.exercise}: {len(failing)} problem(s) found for the concern {args.concern!r}.\n")
        print(text_diagnoses(failing))
    else:
        print(f"{args.exercise}: passed the {args.concern!r} checks.")
    return 1 if failing else 0
