"""Run learner code with a time limit, its output captured, and torch's global state restored.

Why a time limit by signal (and not a thread or a child process): a thread cannot stop
Python code that loops forever, and a forked child loses the notebook's stdout, can
deadlock in torch's thread pools, and does not exist on Windows. `SIGALRM` interrupts
a Python loop (and `time.sleep`) in the main thread, which is where notebook cells,
nbgrader and the command line run learner code. The alarm re-fires every half second,
so a learner's `except BaseException:` cannot swallow it for good. Where no alarm is
possible (another thread, Windows) a `sys.settrace` budget checks the clock on every
Python call and on every line of the learner's own file instead. An alarm someone else
had set (pytest-timeout, for one) is put back afterwards with its remaining time.

Global state: grad mode, default dtype, anomaly mode and torch's global hook tables
are compared before and after; anything changed is reported and put back. The random
number generators and the number of CPU threads (the run uses one: the fixtures are
tiny, and extra threads only contend on a busy machine) are put back silently, so a
check never shifts a notebook's randomness.
"""
import contextlib
import io
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field

import torch
from torch.nn.modules import module as module_hooks
from torch.optim import optimizer as optimizer_hooks


class TimeLimit(BaseException):
    """Raised inside learner code when its time is up (a BaseException, so
    `except Exception:` in learner code does not swallow it)."""


@dataclass
class Outcome:
    result: object = None
    error: BaseException | None = None
    timed_out: bool = False
    output: str = ""
    state_changes: list = field(default_factory=list)
    seconds: float = 0.0


_HOOK_TABLES = {
    "global forward pre-hooks": (module_hooks, "_global_forward_pre_hooks"),
    "global forward hooks": (module_hooks, "_global_forward_hooks"),
    "global backward hooks": (module_hooks, "_global_backward_hooks"),
    "global backward pre-hooks": (module_hooks, "_global_backward_pre_hooks"),
    "global optimizer step pre-hooks": (optimizer_hooks, "_global_optimizer_pre_hooks"),
    "global optimizer step post-hooks": (optimizer_hooks, "_global_optimizer_post_hooks"),
}


class GlobalState:
    """A snapshot of the torch settings a learner's function must leave as it found them."""

    def __init__(self):
        self.grad_enabled = torch.is_grad_enabled()
        self.default_dtype = torch.get_default_dtype()
        self.anomaly = torch.is_anomaly_enabled()
        self.hooks = {name: dict(getattr(module, attr, {})) for name, (module, attr) in _HOOK_TABLES.items()}
        self.rng = torch.random.get_rng_state()
        self.cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
        self.threads = torch.get_num_threads()

    def changes_since(self) -> list[str]:
        """What differs now from the snapshot, in words."""
        changes = []
        if torch.is_grad_enabled() != self.grad_enabled:
            changes.append(f"gradient tracking was left {'on' if torch.is_grad_enabled() else 'off'} "
                           f"(it was {'on' if self.grad_enabled else 'off'} before)")
        if torch.get_default_dtype() != self.default_dtype:
            changes.append(f"the default dtype was left at {torch.get_default_dtype()} "
                           f"(it was {self.default_dtype})")
        if torch.is_anomaly_enabled() != self.anomaly:
            changes.append("anomaly detection was left " + ("on" if torch.is_anomaly_enabled() else "off"))
        for name, (module, attr) in _HOOK_TABLES.items():
            added = set(getattr(module, attr, {})) - set(self.hooks[name])
            if added:
                changes.append(f"{len(added)} {name} were left registered")
        return changes

    def restore(self) -> None:
        torch.set_grad_enabled(self.grad_enabled)
        torch.set_default_dtype(self.default_dtype)
        torch.set_anomaly_enabled(self.anomaly)
        for name, (module, attr) in _HOOK_TABLES.items():
            table = getattr(module, attr, None)
            if table is not None:
                table.clear()
                table.update(self.hooks[name])
        torch.random.set_rng_state(self.rng)
        if self.cuda_rng is not None:
            torch.cuda.set_rng_state_all(self.cuda_rng)
        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)


@contextlib.contextmanager
def _alarm(seconds: float):
    """Raise TimeLimit in the main thread after `seconds`, then every 0.5 s until done."""
    def on_alarm(signum, frame):
        raise TimeLimit()

    started = time.monotonic()
    old_handler = signal.signal(signal.SIGALRM, on_alarm)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds, 0.5)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay:
            left = max(old_delay - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, old_interval)


@contextlib.contextmanager
def _trace_budget(seconds: float, learner_file: str):
    """The fallback: check the clock on every call, and on every line of the learner's file."""
    deadline = time.monotonic() + seconds

    def on_line(frame, event, arg):
        if time.monotonic() > deadline:
            raise TimeLimit()
        return on_line

    def on_call(frame, event, arg):
        if time.monotonic() > deadline:
            raise TimeLimit()
        return on_line if frame.f_code.co_filename == learner_file else None

    old = sys.gettrace()
    sys.settrace(on_call)
    try:
        yield
    finally:
        sys.settrace(old)


def _deadline(seconds: float, learner_file: str):
    if hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread():
        return _alarm(seconds)
    return _trace_budget(seconds, learner_file)


@contextlib.contextmanager
def one_thread():
    """Torch on one thread, then the caller's setting back. The fixtures are tiny: on a busy
    machine a second thread waiting for a core makes each small matrix product a thousand
    times slower (55 ms against 20 µs, measured), so a whole check (fixtures, run, reference
    run) runs on one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def run_guarded(function, args: tuple, time_limit: float, seed: int = 0) -> Outcome:
    """Call `function(*args)` with torch seeded; never raise (but KeyboardInterrupt), leave no state changed."""
    outcome = Outcome()
    state = GlobalState()
    captured = io.StringIO()
    learner_file = getattr(getattr(function, "__code__", None), "co_filename", "")
    torch.manual_seed(seed)  # dropout masks repeat from check to check
    torch.set_num_threads(1)  # tiny fixtures: one thread is fastest, and steady on a busy machine
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured), \
                warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            with _deadline(time_limit, learner_file):
                outcome.result = function(*args)
    except TimeLimit:
        outcome.timed_out = True
    except KeyboardInterrupt:
        state.restore()
        raise
    except BaseException as error:  # learner code may raise anything, SystemExit included
        outcome.error = error
    finally:
        outcome.seconds = time.perf_counter() - started
        outcome.output = captured.getvalue()
        outcome.state_changes = state.changes_since()
        state.restore()
    return outcome
