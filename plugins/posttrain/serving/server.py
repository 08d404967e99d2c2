"""uvicorn serving the ASGI app on a socket bound up front (port 0 picks a free port, read
back from ``server_address``), in the calling thread: ``serve_forever`` runs until
``shutdown`` (from another thread) or, on the main thread, SIGINT/SIGTERM; both stop
accepting and let requests in flight finish (for at most the per-request timeout)."""

from __future__ import annotations

import socket
import threading

import uvicorn

from herd.plugins.posttrain.serving.app import make_app
from herd.plugins.posttrain.serving.request_log import RequestLog
from herd.plugins.posttrain.serving.requests import Limits
from herd.plugins.posttrain.serving.service import ModelService


class Server:
    def __init__(self, service: ModelService, host: str, port: int, limits: Limits, request_log: RequestLog):
        self.service = service
        self.socket = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.server_address = self.socket.getsockname()[:2]
        config = uvicorn.Config(make_app(service, limits, request_log), log_config=None, access_log=False,
                                lifespan="off", timeout_graceful_shutdown=int(limits.timeout_s) + 1)
        self._uvicorn = uvicorn.Server(config)
        self._running = threading.Event()
        self._stopped = threading.Event()

    def serve_forever(self) -> None:
        self._running.set()
        try:
            self._uvicorn.run(sockets=[self.socket])
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop serving and wait until ``serve_forever`` has returned."""
        self._uvicorn.should_exit = True
        if self._running.is_set():
            self._stopped.wait()

    def server_close(self) -> None:
        self.socket.close()


def make_server(service: ModelService, host: str = "127.0.0.1", port: int = 8000, limits: Limits | None = None,
                request_log: RequestLog | None = None) -> Server:
    return Server(service, host, port, limits or Limits(), request_log or RequestLog())
