"""Run one untrusted program with limits; and the loop a warm sandbox container runs.

This file is self-contained (standard library only) because the Docker backend sends its
source into the container as ``python3 -c <source>``: there it runs as pid 1, reads one
JSON job per line on stdin and answers one JSON result per line on stdout. The bubblewrap
and unisolated backends import ``execute`` from it and call it on the host.

What ``execute`` enforces, whatever isolation surrounds it: a wall-clock timeout (the
whole process group is killed), an output cap (stdout + stderr; killed when exceeded),
rlimits (address space, processes, file size, CPU seconds, no core files), a clean
environment, a fresh work directory, and stdin from /dev/null.
"""

import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import time

# Size of every backend's /tmp (and bubblewrap's /dev/shm) tmpfs; the work dir's is
# ``sandbox.workdir_mb``.
SCRATCH_MB = 16
CLEAN_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
}
# What interpreters print when an allocation fails under RLIMIT_AS.
_OOM_MARKERS = ("MemoryError", "not enough memory", "Out of memory!", "Cannot allocate memory")


def write_files(workdir, files):
    """Write ``files`` (relative name -> text) under ``workdir``; refuse escaping names."""
    root = os.path.realpath(workdir)
    for name, text in files.items():
        if not name or os.path.isabs(name) or ".." in name.replace("\\", "/").split("/"):
            raise ValueError(f"file name {name!r} must be relative and stay inside the work dir")
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)


# Each limit: its key in the limits dict, its prlimit option, its resource.
_RLIMITS = (
    ("memory_bytes", "as", resource.RLIMIT_AS),
    ("nproc", "nproc", resource.RLIMIT_NPROC),
    ("file_bytes", "fsize", resource.RLIMIT_FSIZE),
    ("cpu_s", "cpu", resource.RLIMIT_CPU),
)


def limit_prefix(limits):
    """``_limiter``'s limits as a command prefix, for a caller too large to fork cheaply: a
    ``preexec_fn`` makes Python fork (copy the page tables of) the whole parent before the
    exec, 111 ms per program from a process holding 1.5 GB (herd's, with its models)
    against 1 ms for the ``vfork`` it uses without one. ``choom`` and ``prlimit`` set
    the values on themselves and exec the command, so the program gets the same limits
    and no extra process stands between it and this supervisor."""
    args = ["prlimit", *(f"--{option}={int(limits[key])}" for key, option, _ in _RLIMITS if limits.get(key))]
    # The kernel's OOM killer should pick the program, never its supervisor.
    return ["choom", "-n", "1000", "--", *args, "--core=0", "--"]


def _limiter(limits):
    values = [(which, int(limits[key])) for key, _, which in _RLIMITS if limits.get(key)]

    def apply():
        for which, value in values:
            resource.setrlimit(which, (value, value))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        try:  # the kernel's OOM killer should pick the program, never its supervisor
            with open("/proc/self/oom_score_adj", "w") as handle:
                handle.write("1000")
        except OSError:
            pass

    return apply


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _decode(data):
    return data.decode("utf-8", errors="replace")


def execute(command, workdir, timeout_s, output_limit, limits, env=None, kill_all=False, limits_by_prefix=False):
    """Run ``command`` in ``workdir``; return a result dict (the ``ExecutionResult`` fields).

    ``kill_all``: after the program, SIGKILL every process this user can signal (only
    safe as the pid-1 supervisor of a container, where it reaps daemonised leftovers).
    ``limits_by_prefix``: apply ``limits`` with util-linux's ``choom`` and ``prlimit`` in
    front of the command instead of in the forked child (see ``limit_prefix``).
    """
    start = time.monotonic()
    oom_before = _oom_kills() if kill_all else None
    if limits_by_prefix:
        command = [*limit_prefix(limits), *command]
    try:
        proc = subprocess.Popen(
            command,
            cwd=workdir,
            env=dict(env if env is not None else CLEAN_ENV),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            close_fds=True,
            preexec_fn=None if limits_by_prefix else _limiter(limits),
        )
    except OSError as exc:
        return _result("error", None, b"", f"cannot start {command[0]!r}: {exc}".encode(), start)
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    chunks = {out_fd: [], err_fd: []}
    open_fds = {out_fd, err_fd}
    total = 0
    status = None
    deadline = start + timeout_s
    while open_fds:
        left = deadline - time.monotonic()
        if left <= 0:
            status = "timeout"
            break
        ready, _, _ = select.select(list(open_fds), [], [], min(left, 0.5))
        if not ready and proc.poll() is not None:
            # The program is gone but a leftover child holds its pipes open: end it.
            _kill_group(proc.pid)
            break
        for fd in ready:
            data = os.read(fd, 65536)
            if not data:
                open_fds.discard(fd)
                continue
            total += len(data)
            chunks[fd].append(data)
            if total > output_limit:
                status = "output_limit"
                open_fds.clear()
                break
    if status is not None:
        _kill_group(proc.pid)
    try:
        code = proc.wait(timeout=max(0.0, deadline - time.monotonic()) + 1.0)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        code = proc.wait()
        status = status or "timeout"
    if kill_all:
        _kill_everything_else()
    proc.stdout.close()
    proc.stderr.close()
    out, err = b"".join(chunks[out_fd]), b"".join(chunks[err_fd])
    if len(out) + len(err) > output_limit:
        out, err = out[:output_limit], err[: max(0, output_limit - len(out))]
    if status is None and oom_before is not None and code != 0 and (_oom_kills() or 0) > oom_before:
        status = "oom"  # the container's memory limit was hit (by several processes together)
    if status is None:
        status = _status_of(code, err)
        if code < 0:  # a signal this supervisor did not send (the OOM killer, the program itself)
            err += f"\n[sandbox] program killed by signal {signal.Signals(-code).name}".encode()
    return _result(status, code, out, err, start)


def _status_of(code, err):
    if code == 0:
        return "ok"
    if code == -signal.SIGXCPU:
        return "timeout"
    text = _decode(err[-2000:])
    if any(marker in text for marker in _OOM_MARKERS):
        return "oom"
    return "error"


def _result(status, code, out, err, start):
    return {
        "status": status,
        "exit_code": code,
        "stdout": _decode(out),
        "stderr": _decode(err),
        "seconds": round(time.monotonic() - start, 4),
    }


def _oom_kills():
    """The container cgroup's OOM-kill counter (cgroup v2 or v1), or None if unreadable."""
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            with open(path) as handle:
                for line in handle:
                    if line.startswith("oom_kill "):
                        return int(line.split()[1])
        except (OSError, ValueError):
            continue
    return None


def _kill_everything_else():
    """As pid 1 of a container: kill every other process, then reap them all."""
    try:
        os.kill(-1, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _clear(directory):
    """Remove everything under ``directory``; True when it is empty afterwards. A program
    may leave a folder without write or search permission: its owner (this supervisor's
    user) can give them back, so the next program never sees what this one left."""
    if not os.path.isdir(directory):
        return True
    for root, dirs, _ in os.walk(directory):
        for name in dirs:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                try:
                    os.chmod(path, 0o700)
                except OSError:
                    pass
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass
    return not os.listdir(directory)


def _make_undumpable():
    """Programs run as this supervisor's user; a non-dumpable process's /proc entries
    (fds, memory) belong to root, so a program cannot read or write the supervisor's
    pipes to the host through /proc/1/fd."""
    import ctypes

    pr_set_dumpable = 4
    if ctypes.CDLL(None, use_errno=True).prctl(pr_set_dumpable, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")


def serve(workroot="/work", scratch=("/tmp", "/dev/shm")):
    """The warm sandbox's loop: one JSON job per stdin line, one JSON result per line.
    After each program every process left is killed and ``workroot`` and the ``scratch``
    folders are wiped; when one cannot be wiped the result says ``"retire": true`` and
    the supervisor ends, so that the host replaces this sandbox with a fresh one."""
    _make_undumpable()
    # pid 1 ignores signals it has no handler for when they come from inside its pid
    # namespace, so a program cannot kill its supervisor; Python's SIGINT handler must go.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    workdir = os.path.join(workroot, "job")
    out = sys.stdout.buffer
    out.write(b'{"ready": true}\n')
    out.flush()
    for line in sys.stdin.buffer:
        job = json.loads(line)
        os.makedirs(workdir, exist_ok=True)
        try:
            write_files(workdir, job["files"])
        except (ValueError, OSError) as exc:
            result = _result("sandbox_error", None, b"", f"cannot write files: {exc}".encode(), time.monotonic())
        else:
            result = execute(
                job["command"], workdir, job["timeout_s"], job["output_limit"], job["limits"], kill_all=True
            )
        wiped = [_clear(folder) for folder in (workroot, *scratch)]
        if not all(wiped):
            result["retire"] = True
        out.write(json.dumps(result).encode() + b"\n")
        out.flush()
        if not all(wiped):
            return


if __name__ == "__main__":
    serve()
