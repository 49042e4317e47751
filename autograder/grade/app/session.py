"""One run of the grading command, seen from the isolated steps: where jobs run, and what came of them.

nbgrader's converter grades one notebook after another; when its isolated step asks
for a notebook's run (`run`), this session tops up the back-end with the jobs of the
notebooks after it (ahead.py: at most AHEAD per worker), then waits. So the workers
never idle, the parent never holds more than a few prepared notebooks however big the
class, and everything that touches the gradebook still happens in nbgrader's order,
in this one thread. The session also collects each explained notebook (`graded`),
each submission nbgrader could not grade (`failed`) and each notebook that was
never submitted (`missing`), for the summary and the reports.
"""
from autograder.record.outcome import SubmissionOutcome
from autograder.record.run import Job, Run

AHEAD = 2  # jobs waiting per worker


class GradingSession:
    def __init__(self, open_runner, progress=None):
        """`open_runner(size, cover)` gives the back-end (backends/local.Pool or dask.DaskRunner)."""
        self.open_runner, self.progress = open_runner, progress
        self.runner, self.ahead = None, None
        self.outcomes: list[SubmissionOutcome] = []
        self.failures: list[tuple[str, str, str, str]] = []  # student, assignment, notebook, why
        self.sent: dict[str, list[int]] = {}  # job key -> the places in the plan it was sent for (-1: asked for)
        self.done: dict[str, list[tuple[int, Run]]] = {}  # runs made ahead, not yet asked for
        self.in_flight = 0
        self.next = 0  # the next planned job to send
        self.asked = 0  # the place of the notebook nbgrader asked for last
        self.predicted = self.hits = 0

    def plan(self, ahead) -> None:
        """What nbgrader will ask for (app/ahead.py), known once its converter has started."""
        self.ahead = ahead
        if self.progress is not None:
            self.progress.set_total(len(ahead.entries))

    def run(self, job: Job, cover: list[str], where: tuple[str, str, str] | None = None) -> Run:
        """The Run of `job`, which nbgrader's step for notebook `where` (assignment, student,
        notebook) asks for now: made ahead of time if it was predicted, else made now."""
        if self.runner is None:
            size = len(self.ahead.entries) if self.ahead is not None else 1
            self.runner = self.open_runner(max(1, size), cover)
        place = self._place(where)
        for key in list(self.done):  # runs made for notebooks nbgrader has passed by (it skipped them)
            self.done[key] = [(at, run) for at, run in self.done[key] if at >= place]
            if not self.done[key]:
                del self.done[key]
        self.next = max(self.next, place)
        self._top_up()  # this notebook's own job first, if it was not predicted yet
        key = job.key
        if self.done.get(key):
            self.hits += 1
            return self._take(self.done, key)[1]
        if self.sent.get(key):
            self.hits += 1
            self.sent[key][self.sent[key].index(min(self.sent[key]))] = -1  # the earliest one is this notebook's
        else:
            self._send(key, job, -1)
        while True:
            finished, run = self.runner.results.get()
            self.in_flight -= 1
            at = self._take(self.sent, finished) if self.sent.get(finished) else -1
            if at < 0 and finished == key:
                return run
            self.done.setdefault(finished, []).append((at, run))
            self._top_up()

    @staticmethod
    def _take(table: dict, key: str):
        """The earliest entry of `key` (in plan order; -1, what is asked for now, first)."""
        entries = table[key]
        first = min(entries, key=lambda entry: entry[0] if isinstance(entry, tuple) else entry)
        entries.remove(first)
        if not entries:
            del table[key]
        return first

    def _place(self, where) -> int:
        """Where in the plan nbgrader is now (it goes in the plan's order, skipping some)."""
        if self.ahead is not None and where is not None:
            for number in range(self.asked, len(self.ahead.entries)):
                if self.ahead.entries[number][:3] == where:
                    self.asked = number
                    return number
        return self.asked

    def _top_up(self) -> None:
        most = AHEAD * getattr(self.runner, "capacity", 1)
        while self.ahead is not None and self.next < len(self.ahead.entries) and self.in_flight < most:
            number, self.next = self.next, self.next + 1
            try:
                job = self.ahead.job(*self.ahead.entries[number])
            except Exception:  # an unreadable notebook, say: nbgrader will fail it, nothing to run ahead
                continue
            self.predicted += 1
            self._send(job.key, job, number)

    def _send(self, key: str, job: Job, place: int) -> None:
        self.sent.setdefault(key, []).append(place)
        self.in_flight += 1
        self.runner.submit(key, job)

    def graded(self, outcome: SubmissionOutcome) -> None:
        self.outcomes.append(outcome)
        if self.progress is not None:
            self.progress(outcome.student)

    def failed(self, student: str, assignment: str, notebook: str, why: str) -> None:
        self.failures.append((student, assignment, notebook, why))
        if self.progress is not None:
            self.progress(student)

    def missing(self, outcome: SubmissionOutcome) -> None:
        self.outcomes.append(outcome)

    @property
    def walls(self) -> str:
        return getattr(self.runner, "walls", "") if self.runner is not None else ""

    def close(self) -> None:
        if self.runner is not None:
            self.runner.close()
