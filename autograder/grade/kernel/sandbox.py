"""Walls around a submission's process: what it cannot see, reach or use up.

Why namespaces and not just a temporary folder: a grading process runs as the
grader's user, so a plain `cwd` change still lets learner code open
`../../../gradebook.db` by absolute path. On Linux, when we may (root, or
unprivileged user namespaces), each submission gets

- a private *mount* namespace: the course folder is covered by an empty tmpfs
  (only the Python environment and the course's code packages are bound back),
  `/tmp` and `/dev/shm` are fresh and private, so the gradebook, the source
  notebooks, `.git`, other students' submissions and work folders are gone;
- a private *network* namespace: no interface but a down loopback, so no network;
- a private *pid* namespace with its own `/proc`: no other process (the grader,
  another student's run) can be seen, signalled or read through `/proc/<pid>`;
- resource limits: address space (a memory bomb gets MemoryError, not a dead
  machine), CPU seconds, no core files.

Where namespaces are refused (macOS, a locked-down container) we fall back to a
temporary folder plus a socket guard, and say so: `Walls.description` ends up in
the summary so an instructor knows how strong the isolation was.
"""
import ctypes
import os
import resource
import signal
import socket

CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_SET_PDEATHSIG = 1

try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - no libc (Windows)
    _libc = None


def _check(result: int) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


def _unshare(flags: int) -> None:
    if os.environ.get("AUTOGRADER_NO_NAMESPACES"):
        raise OSError("namespaces turned off by AUTOGRADER_NO_NAMESPACES")
    if _libc is None or not hasattr(_libc, "unshare"):
        raise OSError("unshare is not available on this system")
    _check(_libc.unshare(flags))


def _mount(source, target: str, fstype, flags: int, data=None) -> None:
    encode = lambda s: s.encode() if s is not None else None  # noqa: E731
    _check(_libc.mount(encode(source), encode(target), encode(fstype),
                       ctypes.c_ulong(flags), encode(data)))


def hide_paths(cover: list[str], keep: list[str]) -> None:
    """Cover each folder in `cover` with an empty tmpfs (a file with /dev/null),
    then bind every `keep` folder that lay underneath back in place.

    Called once by a worker before it runs anything: every submission it forks
    inherits the covered view. Paths that do not exist are skipped.
    """
    global _KEPT_FOLDERS
    _unshare(CLONE_NEWNS)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _KEPT_FOLDERS = [k for k in keep if os.path.isdir(k)]
    kept = _open_kept(cover)
    for path in cover:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
        elif os.path.isfile(path):
            _mount("/dev/null", path, None, MS_BIND)
    _bind_back(kept)


# The folders the learner's code needs (the venv, the course packages, the data): kept
# visible under every cover, including the fresh /tmp of each submission, because a
# checkout (CI's clean clone, say) may itself lie under /tmp.
_KEPT_FOLDERS: list[str] = []


def _open_kept(cover: list[str]) -> list[tuple[str, int]]:
    """Open each kept folder lying under a folder about to be covered, to bind it back."""
    return [(k, os.open(k, os.O_RDONLY | os.O_DIRECTORY)) for k in _KEPT_FOLDERS
            if any(_is_inside(k, c) for c in cover)]


def _bind_back(kept: list[tuple[str, int]]) -> None:
    for path, fd in kept:
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        os.close(fd)


def _is_inside(path: str, folder: str) -> bool:
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def enter_private_world(memory_bytes: int, cpu_seconds: int, tmp_bytes: int) -> str:
    """Move the calling (freshly forked) process into its own walls.

    Returns a one-line description of the isolation reached. Forks once more when
    a pid namespace is available: the caller of this function then only waits, and
    the process that returns is pid 1 of the new namespace. If that process dies,
    the kernel kills everything it started (a fork bomb included).
    """
    try:
        _unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID)
    except OSError as error:
        description = f"weak (no namespaces: {error}); socket guard only"
        _guard_sockets()
        _enter_work_folder_in_tmp()
    else:
        _fork_into_pid_namespace()
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        kept = _open_kept(["/tmp", "/dev/shm"])
        _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_bytes},mode=1777")
        if os.path.isdir("/dev/shm"):
            _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
        _bind_back(kept)
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        os.makedirs("/tmp/work", exist_ok=True)
        os.chdir("/tmp/work")
        description = "namespaces (mount, network, pid), private /tmp"
    _limit_resources(memory_bytes, cpu_seconds)
    return description


def _fork_into_pid_namespace() -> None:
    """After unshare(CLONE_NEWPID) only the *next* child lives in the new namespace:
    fork it, make it die with us, and have this process mirror its exit."""
    child = os.fork()
    if child == 0:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        return
    for fd in range(3, 1024):  # hold no pipe open: the worker must see EOF when pid 1 ends
        try:
            os.close(fd)
        except OSError:
            pass
    _, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _enter_work_folder_in_tmp() -> None:
    import tempfile
    os.chdir(tempfile.mkdtemp(prefix="agrade-work-"))


def _limit_resources(memory_bytes: int, cpu_seconds: int) -> None:
    """Address space = what the warm worker already maps + the memory allowance."""
    resource.setrlimit(resource.RLIMIT_AS, (_mapped_bytes() + memory_bytes,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _mapped_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _guard_sockets() -> None:
    """Fallback when there is no network namespace: refuse to open connections.
    Learner code could undo this; the summary says the isolation was weak."""
    def refuse(*args, **kwargs):
        raise OSError("network access is disabled while grading")
    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    socket.socket.sendto = refuse
    socket.create_connection = refuse
