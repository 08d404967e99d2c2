"""A pool of warm sandboxes, each running ``runner.serve`` as its supervisor: shared by the
Docker backend (one container per worker) and the bubblewrap backend (one long-lived set of
namespaces per worker).

Per program the host writes one JSON job line to an idle worker's supervisor and reads one
JSON result line back; the supervisor forks the program inside with rlimits, a timeout and
an output cap, then kills every process left and wipes the writable places. Starting the
isolation (a container, new namespaces and mounts) happens once per worker, not once per
program. A worker whose supervisor does not answer in time (it was OOM-killed, or hung) is
destroyed and replaced; its program is reported as failed with the worker's diagnosis.
"""

from __future__ import annotations

import queue
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from herd.core.protocols import ExecutionResult, Program, Sandbox
from herd.lib.sandbox.config import SandboxConfig

# What a worker runs as ``python3 -c``: the stdlib-only supervisor.
RUNNER_SOURCE = (Path(__file__).resolve().parent / "runner.py").read_text(encoding="utf-8")
# How much longer than a program's own timeout the host waits for the supervisor's answer
# before it declares the worker broken and replaces it.
HOST_GRACE_S = 5.0


def run_in_threads(sandbox: Sandbox, programs: list[Program], threads: int) -> list[ExecutionResult]:
    """``programs`` through ``sandbox.run`` on ``threads`` threads, results in order."""
    if not programs:
        return []
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        return list(pool.map(lambda p: sandbox.run(p.files, p.command, p.timeout_s), programs))


class Worker(Protocol):
    """One warm sandbox whose supervisor answers jobs (``runner.serve``'s protocol)."""

    def execute(self, job: dict, wait_s: float) -> dict | None:
        """Send one job; the result dict, or None when the supervisor did not answer."""

    def diagnose(self) -> str:
        """Why the supervisor stopped answering (after ``execute`` returned None)."""

    def destroy(self) -> None: ...


class WarmPool:
    """``protocols.Sandbox`` over up to ``cfg.pool_size`` workers; subclasses say how one
    worker starts (``start_worker``), what limits a program gets (``job_limits``), and how a
    lost worker's diagnosis reads as a status (``failure_status``)."""

    worker_kind = "sandbox worker"  # how an error message names one worker

    def __init__(self, cfg: SandboxConfig | None = None):
        self.cfg = cfg or SandboxConfig()
        self._idle: queue.Queue[Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._workers: list[Worker] = []
        self._starting = 0
        self._closed = False
        # Workers of a sandbox nobody closed still go when it is garbage-collected.
        weakref.finalize(self, _destroy_all, self._workers)

    # -- what a backend provides ------------------------------------------------------
    def start_worker(self) -> Worker:
        raise NotImplementedError

    def job_limits(self, timeout: float) -> dict[str, int]:
        return {**self.cfg.limits(), "cpu_s": int(timeout) + 1}

    def failure_status(self, diagnosis: str) -> str:
        return "sandbox_error"

    # -- the Sandbox protocol ---------------------------------------------------------
    def run(self, files: dict[str, str], command: list[str], timeout_s: float | None = None) -> ExecutionResult:
        timeout = float(timeout_s if timeout_s is not None else self.cfg.timeout_s)
        job = {
            "files": files,
            "command": list(command),
            "timeout_s": timeout,
            "output_limit": self.cfg.output_limit_bytes,
            "limits": self.job_limits(timeout),
        }
        worker = self._acquire()
        started = time.monotonic()
        result = worker.execute(job, wait_s=timeout + HOST_GRACE_S)
        if result is None:
            reason = worker.diagnose()
            self._discard(worker)
            return ExecutionResult(status=self.failure_status(reason), exit_code=None, stdout="",
                                   stderr=f"{self.worker_kind} failed: {reason}", seconds=time.monotonic() - started)
        if result.pop("retire", False):  # its supervisor could not wipe what the program left
            self._discard(worker)
        else:
            self._idle.put(worker)
        return ExecutionResult(**result)

    def run_many(self, programs: list[Program]) -> list[ExecutionResult]:
        return run_in_threads(self, programs, self.cfg.pool_size)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            worker.destroy()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the pool ---------------------------------------------------------------------
    def _acquire(self) -> Worker:
        """An idle worker, a new one while the pool is below ``pool_size``, or wait."""
        while True:
            self._check_open()
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
            with self._lock:
                self._check_open()
                grow = self._starting + len(self._workers) < self.cfg.pool_size
                if grow:
                    self._starting += 1
            if grow:
                try:
                    worker = self.start_worker()
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

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"the {type(self).__name__} is closed")

    def _discard(self, worker: Worker) -> None:
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)
        worker.destroy()


def _destroy_all(workers: list[Worker]) -> None:
    for worker in list(workers):
        worker.destroy()
    workers.clear()
