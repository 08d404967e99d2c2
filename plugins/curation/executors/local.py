"""Every core of this machine: a forked process pool per pass.

The pool is forked after the driver has built the pass's steps (and finalized its corpus
step), so workers inherit them instead of unpickling them: steps holding models or
memory-mapped indexes need not be picklable. With one worker or one task the tasks run in
the driver itself.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any, Callable, Iterable, Iterator

_WORK: dict[str, Any] = {}


def _call(item: tuple[Callable[..., Any], Any]) -> Any:
    fn, task = item
    return fn(task, _WORK["work"])


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int = 0):
        self.workers = workers if workers > 0 else (os.cpu_count() or 1)

    def map(self, fn: Callable[..., Any], tasks: Iterable[Any], work: Any) -> Iterator[Any]:
        tasks = list(tasks)
        processes = min(self.workers, len(tasks))
        if hasattr(work, "steps"):
            work.steps()  # build in the driver: errors surface here, workers inherit the steps
        if processes <= 1:
            for task in tasks:
                yield fn(task, work)
            return
        _WORK["work"] = work
        try:
            context = multiprocessing.get_context("fork")
            with context.Pool(processes) as pool:
                yield from pool.imap_unordered(_call, [(fn, t) for t in tasks])
        finally:
            _WORK.pop("work", None)
