"""Progress for long work that is not a training loop (synthesis, sampling, judging):
a rich bar on an interactive console; elsewhere (a log file, CI) one log line at most every
``every_s`` seconds (and a last one when any was printed), so logs stay readable."""

from __future__ import annotations

import logging
import sys
import time
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")

log = logging.getLogger("herd.progress")


def track(items: Iterable[T], description: str, total: int | None = None, enabled: bool | None = None,
          every_s: float = 30.0) -> Iterator[T]:
    """Yield ``items``, showing how far along they are. ``enabled``: force the rich bar on
    or off (default: on where stderr is a terminal); with it off, progress goes to the
    ``herd.progress`` logger instead (``every_s`` apart; not at all for fewer than 2 items)."""
    show = sys.stderr.isatty() if enabled is None else enabled
    if show:
        yield from _bar(items, description, total)
        return
    yield from _logged(items, description, total, every_s)


def _bar(items: Iterable[T], description: str, total: int | None) -> Iterator[T]:
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task(description, total=total)
        for item in items:
            yield item
            progress.advance(task)


def _logged(items: Iterable[T], description: str, total: int | None, every_s: float) -> Iterator[T]:
    start = last = time.perf_counter()
    done = 0
    for item in items:
        yield item
        done += 1
        now = time.perf_counter()
        if now - last >= every_s:
            log.info("%s: %s", description, _status(done, total, now - start))
            last = now
    if done > 1 and last != start:
        log.info("%s: %s", description, _status(done, total, time.perf_counter() - start))


def _status(done: int, total: int | None, elapsed: float) -> str:
    if not total:
        return f"{done} done in {elapsed:.0f}s"
    eta = elapsed / done * (total - done)
    return f"{done}/{total} ({done / total:.0%}) in {elapsed:.0f}s" + (f", ETA {eta:.0f}s" if done < total else "")
