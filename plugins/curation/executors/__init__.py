"""Executors run the tasks of one pass; the steps never know which one they run on.

An executor has ``name``, ``workers`` and ``map(fn, tasks, work) -> Iterator[result]``
(results in any order); ``fn(task, work)`` is a module-level function.
"""

from __future__ import annotations

from typing import Any

from herd.core.errors import ConfigError

EXECUTORS = ("local", "ray")


def make_executor(name: str, workers: int = 0, ray_address: str = "", log: Any = None) -> Any:
    if name == "local":
        from herd.plugins.curation.executors.local import LocalExecutor

        return LocalExecutor(workers)
    if name == "ray":
        from herd.plugins.curation.executors.ray import RayExecutor

        return RayExecutor(ray_address, log=log)
    raise ConfigError(f"curate.executor = '{name}' is not an executor (use one of: {', '.join(EXECUTORS)})")
