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
import socket
import struct
import time
import uuid

from herd.core.errors import ConfigError
from herd.lib.sandbox.config import SandboxConfig
from herd.plugins.sandbox import runner
from herd.plugins.sandbox.pool import RUNNER_SOURCE, WarmPool

LABEL = "herd.sandbox"  # every sandbox container: `docker rm -f $(docker ps -aq -f label=herd.sandbox)`
POOL_LABEL = "herd.sandbox.pool"  # the DockerSandbox instance it belongs to
# The herd process (the run) that owns it: ``host:pid:start``, the start time (in clock
# ticks since boot) telling a live owner from a later process that reuses its pid.
OWNER_LABEL = "herd.sandbox.owner"
_log = logging.getLogger("herd.sandbox")


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

    def diagnose(self) -> str:
        try:
            self.container.reload()
            state = self.container.attrs.get("State", {})
        except Exception as exc:
            return f"container vanished ({exc})"
        parts = [f"status {state.get('Status')}", f"exit code {state.get('ExitCode')}"]
        if state.get("OOMKilled"):
            parts.append("OOMKilled")
        if self.diagnostics:
            parts.append(self.diagnostics.decode(errors="replace")[-500:])
        return ", ".join(parts)

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


class DockerSandbox(WarmPool):
    """``protocols.Sandbox`` over a pool of warm containers (``cfg.pool_size``)."""

    worker_kind = "sandbox container"

    def __init__(self, cfg: SandboxConfig | None = None):
        super().__init__(cfg)
        self.client = connect()
        require_image(self.client, self.cfg.image)
        reaped = reap_orphans(self.client)
        if reaped:
            _log.info("removed %d sandbox container(s) left by ended herd runs: %s", len(reaped), ", ".join(reaped))
        self.pool_id = uuid.uuid4().hex[:12]

    def start_worker(self) -> _Worker:
        return _Worker(self.client, self.cfg, self.pool_id)

    def failure_status(self, diagnosis: str) -> str:
        # The container's memory cgroup killed the supervisor with the program.
        return "oom" if "OOMKilled" in diagnosis else "sandbox_error"


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
