"""The model's one worker thread: requests queue up while the model is busy and run together
as one batch when they can share a forward pass.

A generation ``Job`` is one request's prompts, ``n`` samples each. When the worker is free
it takes the oldest waiting job and every later waiting job with the same ``BatchKey``, up to
``max_batch_rows`` rows (prompts x ``n``), and decodes all their prompts with one
``stream_batch`` call. Each row's tokens go to its own ``SampleText`` (its own stop strings
and token budget), and each job gets its deltas on its own queue as they are sampled, so
streamed and whole answers are served by the same loop. A job whose samples are all done,
whose client went away or whose deadline passed leaves the batch; the batch ends when no
job is left in it.

What shares a batch: greedy requests with the same ``n`` (the argmax does not depend on
the batch: left padding is masked, ``generate_batch``'s test checks it); sampled requests
with the same ``n``, ``temperature`` and ``top_p`` and no seed. A seeded sampled request
runs alone: its draws come from its own seeded generator, so that it gets the same answer
every time. Embeddings run alone, on the same thread, so the model runs one thing at a time.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, Callable

from herd.core.protocols import SamplingParams
from herd.lib.llama.generate import stream_batch
from herd.lib.llama.model import Llama
from herd.plugins.posttrain.serving.errors import ApiError
from herd.plugins.posttrain.serving.text import SampleText


def timeout_error(what: str) -> ApiError:
    return ApiError(504, f"{what} ran past the per-request timeout (herd serve --timeout-s)", "timeout_error", None,
                    "timeout")


def busy_error() -> ApiError:
    return ApiError(503, "the model stayed busy with other requests past the per-request timeout",
                    "server_error", None, "busy")


@dataclass(frozen=True)
class BatchKey:
    """Jobs with equal keys decode together. ``solo`` is a job's own number where it must
    not share a batch (a seeded sampled request)."""

    n: int
    temperature: float
    top_p: float
    seed: int | None
    solo: int = 0


_solo = itertools.count(1)


def batch_key(params: SamplingParams) -> BatchKey:
    if params.temperature <= 0:  # greedy: top_p and seed change nothing
        return BatchKey(params.n, 0.0, 1.0, None)
    if params.seed is not None:
        return BatchKey(params.n, params.temperature, params.top_p, params.seed, next(_solo))
    return BatchKey(params.n, params.temperature, params.top_p, None)


END = object()  # a job's queue: (row, delta) pairs, then END or the ApiError/exception that ended it


@dataclass(eq=False)
class Job:
    """One request's decoding: ``samples`` are prompt-major (row ``p * n + s``)."""

    prompts: list[list[int]]
    params: SamplingParams
    samples: list[SampleText]
    deadline: float  # time.monotonic()
    key: BatchKey = field(init=False)
    events: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    started: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    batch_requests: int = 0  # requests in the batch this job ran in

    def __post_init__(self):
        self.key = batch_key(self.params)

    @property
    def rows(self) -> int:
        return len(self.prompts) * self.params.n

    def cancel(self) -> None:
        """The client is gone or its deadline passed: the worker drops the job at its next step."""
        self.cancelled.set()
        self.events.put(END)


@dataclass
class Call:
    """Work that runs alone on the worker thread (embeddings): ``result`` or ``error``."""

    run: Callable[[], Any]
    deadline: float
    done: threading.Event = field(default_factory=threading.Event)
    started: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


@dataclass
class BatchStats:
    """Batches run so far: ``sizes`` maps requests per batch to how many batches had that many."""

    batches: int = 0
    requests: int = 0
    rows: int = 0
    sizes: Counter = field(default_factory=Counter)

    def body(self) -> dict[str, Any]:
        return {"batches": self.batches, "requests": self.requests, "rows": self.rows,
                "largest_batch": max(self.sizes, default=0),
                "batch_sizes": {str(k): v for k, v in sorted(self.sizes.items())}}


class Batcher:
    def __init__(self, model: Llama, stop_ids: frozenset[int], max_batch_rows: int = 64):
        if max_batch_rows < 1:
            raise ValueError(f"max_batch_rows is {max_batch_rows}; it must be at least 1 (herd serve --max-batch-rows)")
        self.model = model
        self.stop_ids = tuple(sorted(stop_ids))
        self.max_batch_rows = max_batch_rows
        self.stats = BatchStats()
        self._waiting: list[Job | Call] = []
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="herd-serve-model", daemon=True)
        self._thread.start()

    # ----- the request side ----------------------------------------------------------

    def submit(self, job: Job | Call) -> None:
        with self._cond:
            if self._closed:
                raise ApiError(503, "the server is shutting down", "server_error", None, "shutting_down")
            self._waiting.append(job)
            self._cond.notify()

    def call(self, run: Callable[[], Any], deadline: float) -> Any:
        """``run()`` on the worker thread, alone; waited for until ``deadline``."""
        work = Call(run, deadline)
        self.submit(work)
        if not work.done.wait(max(0.0, deadline - time.monotonic())):
            work.cancelled.set()
            raise timeout_error("the request") if work.started.is_set() else busy_error()
        if work.error is not None:
            raise work.error
        return work.result

    @property
    def queued(self) -> int:
        with self._cond:
            return len(self._waiting)

    def close(self) -> None:
        """Stop taking work; what is queued is refused, the running batch finishes."""
        with self._cond:
            self._closed = True
            refused, self._waiting = self._waiting, []
            self._cond.notify()
        for work in refused:
            _fail(work, ApiError(503, "the server is shutting down", "server_error", None, "shutting_down"))
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=60)

    # ----- the worker ----------------------------------------------------------------

    def _next(self) -> list[Job] | Call | None:
        with self._cond:
            while True:
                self._waiting = [w for w in self._waiting if not w.cancelled.is_set()]
                if self._waiting or self._closed:
                    break
                self._cond.wait()
            if not self._waiting:
                return None
            first = self._waiting[0]
            if isinstance(first, Call):
                self._waiting.pop(0)
                return first
            batch, rows = [], 0
            for job in self._waiting:
                fits = not batch or rows + job.rows <= self.max_batch_rows  # the oldest goes even if larger
                if isinstance(job, Job) and job.key == first.key and fits:
                    batch.append(job)
                    rows += job.rows
            self._waiting = [w for w in self._waiting if not any(w is j for j in batch)]
            return batch

    def _loop(self) -> None:
        while True:
            work = self._next()
            if work is None:
                return
            if isinstance(work, Call):
                work.started.set()
                try:
                    work.result = work.run()
                except BaseException as exc:  # handed to the request that asked
                    work.error = exc
                work.done.set()
                continue
            try:
                self._decode(work)
            except BaseException as exc:  # a failing batch fails its requests, not the server
                for job in work:
                    _fail(job, exc)

    def _decode(self, jobs: list[Job]) -> None:
        now = time.monotonic()
        live = []
        for job in jobs:
            job.batch_requests = len(jobs)
            job.started.set()
            if now > job.deadline:
                _fail(job, busy_error())
            else:
                live.append(job)
        self.stats.batches += 1
        self.stats.requests += len(jobs)
        self.stats.rows += sum(j.rows for j in jobs)
        self.stats.sizes[len(jobs)] += 1
        if not live:
            return
        # Row r of the batch: job owner[r // n], its row r - first[that job].
        n = jobs[0].params.n
        owner, first = [], {}
        for job in live:
            first[id(job)] = len(owner) * n
            owner.extend([job] * len(job.prompts))
        p = live[0].params
        steps = stream_batch(self.model, [x for job in live for x in job.prompts], n,
                             max(job.params.max_tokens for job in live), p.temperature, p.top_p, self.stop_ids, p.seed)
        with closing(steps):
            for tokens in steps:
                for row, token in tokens:
                    job = owner[row // n]
                    if job.cancelled.is_set():
                        continue
                    local = row - first[id(job)]
                    delta = job.samples[local].add(token)
                    if delta:
                        job.events.put((local, delta))
                now = time.monotonic()
                for job in list(live):
                    if job.cancelled.is_set():
                        live.remove(job)
                    elif all(s.done for s in job.samples):
                        live.remove(job)
                        job.events.put(END)
                    elif now > job.deadline:
                        live.remove(job)
                        _fail(job, timeout_error("generation"))
                if not live:
                    break
        for job in live:  # the decoding ended (the model's context) before these samples finished
            for row, sample in enumerate(job.samples):
                delta = sample.end()
                if delta:
                    job.events.put((row, delta))
            job.events.put(END)


def _fail(work: Job | Call, error: BaseException) -> None:
    if isinstance(work, Call):
        work.error = error
        work.done.set()
    else:
        work.events.put(error)
