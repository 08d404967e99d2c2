"""Docker backend: a pool of warm, locked-down containers, each running ``runner.serve``.

Every container has no network, a read-only root filesystem with tmpfs ``/work`` and
``/tmp`` (noexec), a non-root user (65534), no capabilities, ``no-new-privileges``, and
memory, swap, pids and CPU limits; it gets no host environment variables. Its pid 1 is the
stdlib-only supervisor in ``runner.py`` (sent as ``python3 -c``), which runs one program at
a time with rlimits, a wall-clock timeout and an output cap, then kills every leftover
process and wipes the work dir. Programs talk to nothing but their own pipes; the host
talks to the supervisor over the container's attached stdin/stdout, one JSON line each
way. Reusing warm containers avoids a container start (about 1 s) per program.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import socket
import struct
import threading
import time
import uuid
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from herd.core.errors import ConfigError
from herd.core.protocols import ExecutionResult, Program
from herd.lib.sandbox.config import SandboxConfig
from herd.plugins.sandbox import runner

RUNNER_SOURCE = (Path(__file__).resolve().parent / "runner.py").read_text(encoding="utf-8")
LABEL = "herd.sandbox"  # every sandbox container: `docker rm -f $(docker ps -aq -f label=herd.sandbox)`
POOL_LABEL = "herd.sandbox.pool"  # the DockerSandbox instance it belongs to
# The herd process (the run) that owns it: ``host:pid:start``, the start time (in clock
# ticks since boot) telling a live owner from a later process that reuses its pid.
OWNER_LABEL = "herd.sandbox.owner"
_log = logging.getLogger("herd.sandbox")
# How much longer than a program's own timeout the host waits for the supervisor's answer
# before it declares the container broken and replaces it.
_HOST_GRACE_S = 5.0


class _Worker:
    """One warm container and the attached socket to its supervisor."""

    def __init__(self, client, cfg: SandboxConfig, pool_id: str):
        import docker.types

        self.container = client.containers.create(
            cfg.image,
            command=["python3", "-c", RUNNER_SOURCE],
            user="65534:65534",
            working_dir="/work",
            environment={},
            network_mode="none",
            read_only=True,
            tmpfs={
                "/work": f"size={cfg.workdir_mb}m,mode=1777,noexec,nosuid,nodev",
                "/tmp": f"size={runner.SCRATCH_MB}m,mode=1777,noexec,nosuid,nodev",
            },
            mem_limit=f"{cfg.memory_mb + 64}m",
            memswap_limit=f"{cfg.memory_mb + 64}m",
            pids_limit=cfg.pids,
            nano_cpus=int(cfg.cpus * 1e9),
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            ulimits=[docker.types.Ulimit(name="nofile", soft=256, hard=256)],
            ipc_mode="private",
            hostname="sandbox",
            stdin_open=True,
            labels={LABEL: "1", POOL_LABEL: pool_id, OWNER_LABEL: owner_id()},
        )
        self._buffer = b""
        self._lines: list[bytes] = []
        self.diagnostics = b""  # what the supervisor itself wrote to stderr
        self._sock = None
        try:
            self._sock = self.container.attach_socket(
                params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )._sock
            self.container.start()
            ready = self._read_line(deadline=time.monotonic() + 60)
            if ready is None or not json.loads(ready).get("ready"):
                raise RuntimeError(
                    f"sandbox container {self.container.short_id} did not start its supervisor: "
                    f"{self.diagnostics.decode(errors='replace')[-500:]}"
                )
        except Exception:
            self.destroy()
            raise

    def execute(self, job: dict, wait_s: float) -> dict | None:
        """Send one job; the result dict, or None when the supervisor did not answer."""
        try:
            self._sock.sendall(json.dumps(job).encode() + b"\n")
        except OSError:
            return None
        line = self._read_line(deadline=time.monotonic() + wait_s)
        return json.loads(line) if line is not None else None

    def _read_line(self, deadline: float) -> bytes | None:
        """Read frames of Docker's multiplexed attach stream until one stdout line."""
        while not self._lines:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._sock.settimeout(left)
            try:
                header = self._recv_exactly(8)
                stream, size = header[0], struct.unpack(">I", header[4:])[0]
                payload = self._recv_exactly(size)
            except (OSError, EOFError, socket.timeout):
                return None
            if stream == 2:
                self.diagnostics = (self.diagnostics + payload)[-4000:]
                continue
            self._buffer += payload
            *lines, self._buffer = self._buffer.split(b"\n")
            self._lines.extend(lines)
        return self._lines.pop(0)

    def _recv_exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self._sock.recv(size - len(data))
            if not chunk:
                raise EOFError("sandbox container closed its stream")
            data += chunk
        return data

    def destroy(self) -> None:
        try:
            if self._sock is not None:
                self._sock.close()
        except OSError:
            pass
        try:
            self.container.remove(force=True)
        except Exception:  # already gone: nothing left to clean
            pass


class DockerSandbox:
    """``protocols.Sandbox`` over a pool of warm containers (``cfg.pool_size``)."""

    def __init__(self, cfg: SandboxConfig | None = None):
        self.cfg = cfg or SandboxConfig()
        self.client = connect()
        require_image(self.client, self.cfg.image)
        reaped = reap_orphans(self.client)
        if reaped:
            _log.info("removed %d sandbox container(s) left by ended herd runs: %s", len(reaped), ", ".join(reaped))
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._starting = 0
        self.pool_id = uuid.uuid4().hex[:12]
        self._closed = False
        # Containers of a sandbox nobody closed still go when it is garbage-collected.
        weakref.finalize(self, _destroy_all, self._workers)

    # -- the Sandbox protocol -------------------------------------------------------
    def run(self, files: dict[str, str], command: list[str], timeout_s: float | None = None) -> ExecutionResult:
        timeout = float(timeout_s if timeout_s is not None else self.cfg.timeout_s)
        job = {
            "files": files,
            "command": list(command),
            "timeout_s": timeout,
            "output_limit": self.cfg.output_limit_bytes,
            "limits": {**self.cfg.limits(), "cpu_s": int(timeout) + 1},
        }
        worker = self._acquire()
        started = time.monotonic()
        result = worker.execute(job, wait_s=timeout + _HOST_GRACE_S)
        if result is None:
            # The supervisor died or hung (e.g. the container was OOM-killed): replace it.
            reason = self._diagnose(worker)
            self._discard(worker)
            return ExecutionResult(
                status="oom" if "OOMKilled" in reason else "sandbox_error",
                exit_code=None,
                stdout="",
                stderr=f"sandbox container failed: {reason}",
                seconds=time.monotonic() - started,
            )
        self._idle.put(worker)
        return ExecutionResult(**result)

    def run_many(self, programs: list[Program]) -> list[ExecutionResult]:
        if not programs:
            return []
        with ThreadPoolExecutor(max_workers=max(1, self.cfg.pool_size)) as pool:
            return list(pool.map(lambda p: self.run(p.files, p.command, p.timeout_s), programs))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            worker.destroy()

    def __enter__(self) -> "DockerSandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the pool -------------------------------------------------------------------
    def _acquire(self) -> _Worker:
        """An idle worker, a new one while the pool is below ``pool_size``, or wait."""
        while True:
            if self._closed:
                raise RuntimeError("the Docker sandbox is closed")
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
            with self._lock:
                if self._closed:
                    raise RuntimeError("the Docker sandbox is closed")
                grow = self._starting + len(self._workers) < self.cfg.pool_size
                if grow:
                    self._starting += 1
            if grow:
                try:
                    worker = _Worker(self.client, self.cfg, self.pool_id)
                finally:
                    with self._lock:
                        self._starting -= 1
                with self._lock:
                    self._workers.append(worker)
                return worker
            try:  # re-check now and then: a broken worker may have freed a slot
                return self._idle.get(timeout=0.5)
            except queue.Empty:
                continue

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)
        worker.destroy()

    @staticmethod
    def _diagnose(worker: _Worker) -> str:
        try:
            worker.container.reload()
            state = worker.container.attrs.get("State", {})
        except Exception as exc:
            return f"container vanished ({exc})"
        parts = [f"status {state.get('Status')}", f"exit code {state.get('ExitCode')}"]
        if state.get("OOMKilled"):
            parts.append("OOMKilled")
        if worker.diagnostics:
            parts.append(worker.diagnostics.decode(errors="replace")[-500:])
        return ", ".join(parts)


def _destroy_all(workers: list[_Worker]) -> None:
    for worker in list(workers):
        worker.destroy()
    workers.clear()


def owner_id(pid: int | None = None) -> str:
    """``host:pid:start`` of a process (this one by default); start is empty off Linux."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid)}"


def _start_ticks(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]  # field 22, after the command name
    except (OSError, IndexError):
        return ""


def _owner_gone(owner: str) -> bool:
    """Whether the herd process that created a container has ended. Containers of another
    host's processes (a shared daemon) are never judged: their owner cannot be checked."""
    host, _, rest = owner.partition(":")
    pid, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if start:
        return _start_ticks(int(pid)) != start  # "" once the process is gone
    try:  # no /proc here: whether the pid exists is all there is to go on
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    return False


def reap_orphans(client) -> list[str]:
    """Remove the sandbox containers whose herd process has ended (a run killed with
    SIGKILL cannot remove its own), exited or still running, and stopped ones that name no
    owner. Returns the short ids removed."""
    removed = []
    try:
        containers = client.containers.list(all=True, filters={"label": LABEL})
    except Exception:  # listing is best effort: the pool works without it
        return removed
    for container in containers:
        owner = container.labels.get(OWNER_LABEL)
        # one without an owner comes from an older herd: only a stopped one is surely orphaned
        if not (_owner_gone(owner) if owner else container.status != "running"):
            continue
        try:
            container.remove(force=True)
            removed.append(container.short_id)
        except Exception:  # removed meanwhile by another herd process
            continue
    return removed


def connect():
    """A Docker client whose daemon answers, or ``ConfigError`` saying how to get one."""
    try:
        import docker
    except ImportError as exc:
        raise ConfigError("the docker sandbox needs the Docker SDK: pip install 'herd[docker]'") from exc
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:
        raise ConfigError(
            f"sandbox.backend = 'docker' but no Docker daemon answers ({exc}); start one "
            "(e.g. `dockerd > /tmp/dockerd.log 2>&1 &`) or set sandbox.backend = 'bwrap'"
        ) from exc
    return client


def require_image(client, image: str) -> None:
    import docker.errors

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        raise ConfigError(
            f"the sandbox image '{image}' does not exist; build it with "
            "`python cli.py sandbox build-image` (plugins/sandbox/build_image.sh)"
        ) from None


def docker_available(image: str) -> bool:
    """Whether a daemon answers and has ``image`` (what backend = 'auto' checks)."""
    try:
        require_image(connect(), image)
    except ConfigError:
        return False
    return True
