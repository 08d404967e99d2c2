"""One log line per request."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from herd.plugins.posttrain.serving.endpoints import Usage

log = logging.getLogger("herd.serve")


class RequestLog:
    """``METHOD PATH STATUS prompt_tokens=P completion_tokens=C ms=T``, per request, to the
    ``herd.serve`` logger and, when ``path`` is given, appended to that file."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, method: str, route: str, status: int, usage: Usage, ms: float) -> None:
        line = (f"{method} {route} {status} prompt_tokens={usage.prompt_tokens} "
                f"completion_tokens={usage.completion_tokens} ms={ms:.0f}")
        log.info(line)
        if self.path is not None:
            with self._lock, self.path.open("a", encoding="utf-8") as f:
                f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")
