"""A Ray cluster (``pip install 'herd[ray]'``): one Ray task per shard.

The driver connects to ``address`` (``""``: the Ray instance this process already started,
or a new local one; ``"auto"``: the cluster this node belongs to; ``"ray://head:10001"``:
a remote cluster). The pass is shipped to the workers once with ``ray.put``; document
steps are rebuilt in each worker from their factory and config, and the finalized corpus
step is pickled with its state. The run folder must be on storage every node sees (NFS,
a mounted bucket), since tasks read and write shard files there; see docs/scaling.md.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable, Iterator

from herd.core.errors import ConfigError


def _remote_call(fn: Callable[..., Any], work: Any, task: Any) -> Any:
    return fn(task, work)


class RayExecutor:
    name = "ray"

    def __init__(self, address: str = "", log: logging.Logger | None = None):
        try:
            import ray
        except ImportError as exc:
            raise ConfigError(
                "curate.executor = 'ray' needs Ray; install it with: pip install 'herd[ray]'"
            ) from exc
        self.ray = ray
        self.log = log or logging.getLogger("herd.curate")
        if not ray.is_initialized():
            ray.init(address=address or None, ignore_reinit_error=True, log_to_driver=False)
        self.workers = int(ray.cluster_resources().get("CPU", 1))
        self._remote = ray.remote(_remote_call)

    def map(self, fn: Callable[..., Any], tasks: Iterable[Any], work: Any) -> Iterator[Any]:
        tasks = list(tasks)
        if not tasks:
            return
        try:
            shared = self.ray.put(work)
        except Exception as exc:  # a corpus step whose state cannot be pickled
            self.log.warning(
                "this pass cannot be shipped to Ray workers (%s: %s); running it in the driver",
                type(exc).__name__,
                exc,
            )
            for task in tasks:
                yield fn(task, work)
            return
        pending = [self._remote.remote(fn, shared, task) for task in tasks]
        while pending:
            done, pending = self.ray.wait(pending, num_returns=1)
            yield self.ray.get(done[0])
