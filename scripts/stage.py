"""Run one stage of the course check and say how long it took, whether it passed or not.

    python3 scripts/stage.py NAME COMMAND [ARGS...]
    python3 scripts/stage.py --apart NAME COMMAND [ARGS...]

prints `[stage] NAME 12.3 s` when COMMAND ends and exits with COMMAND's status. A stage
marked --apart is timed and shown like the others, but it is not part of the course
check's time budget (benchmarks/ci_time.py adds it up separately). A new stage of
.ci/run or the Makefile is one more command wrapped this way. Where COURSE_STAGE_LOG
names a file, each stage also appends its record there as one JSON line
({"stage", "seconds", "apart", "status"}): benchmarks/ci_time.py reads those, not the text.
"""
import json
import os
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    apart = argv[:1] == ["--apart"]
    if apart:
        argv = argv[1:]
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    name, command = argv[0], argv[1:]
    started = time.monotonic()
    try:
        status = subprocess.call(command)
    except OSError as error:
        print(f"stage {name}: cannot run {command[0]}: {error}", file=sys.stderr)
        status = 127
    seconds = time.monotonic() - started
    notes = [note for note, on in (("apart", apart), (f"failed: exit {status}", status != 0)) if on]
    print(f"[stage] {name} {seconds:.1f} s" + (f" ({', '.join(notes)})" if notes else ""), flush=True)
    log = os.environ.get("COURSE_STAGE_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as records:
            records.write(json.dumps({"stage": name, "seconds": round(seconds, 1), "apart": apart,
                                      "status": status}) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
