"""The threaded HTTP server: routes, bounds (body size, per-request timeout), server-sent
events over chunked transfer encoding, and one log line per request."""

from __future__ import annotations

import json
import logging
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

from herd.plugins.posttrain.serving import endpoints
from herd.plugins.posttrain.serving.errors import ApiError, bad_request
from herd.plugins.posttrain.serving.requests import Limits, check_model, parse_chat, parse_completion, parse_embedding
from herd.plugins.posttrain.serving.service import ModelService

log = logging.getLogger("herd.serve")


class RequestLog:
    """``METHOD PATH STATUS prompt_tokens=P completion_tokens=C ms=T``, per request, to the
    ``herd.serve`` logger and, when ``path`` is given, appended to that file."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, method: str, route: str, status: int, usage: endpoints.Usage, ms: float) -> None:
        line = (f"{method} {route} {status} prompt_tokens={usage.prompt_tokens} "
                f"completion_tokens={usage.completion_tokens} ms={ms:.0f}")
        log.info(line)
        if self.path is not None:
            with self._lock, self.path.open("a", encoding="utf-8") as f:
                f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")


Route = Callable[[ModelService, dict[str, Any], Limits, float], endpoints.Answer]

ROUTES: dict[str, Route] = {
    "/v1/completions": lambda s, body, lim, dl: endpoints.completions(s, parse_completion(body, lim), dl),
    "/v1/chat/completions": lambda s, body, lim, dl: endpoints.chat_completions(s, parse_chat(body, lim), dl),
    "/v1/embeddings": lambda s, body, lim, dl: endpoints.embeddings(
        s, parse_embedding(body, lim, s.model.cfg.dim), dl),
}


def make_server(service: ModelService, host: str = "127.0.0.1", port: int = 8000, limits: Limits | None = None,
                request_log: RequestLog | None = None) -> ThreadingHTTPServer:
    limits = limits or Limits()
    request_log = request_log or RequestLog()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = limits.timeout_s  # a client that stalls while sending its request is dropped

        def log_message(self, fmt, *args):  # RequestLog writes one line per request instead
            return

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def _stream(self, answer: endpoints.Answer) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for event in answer.events:
                    self._chunk(b"data: " + json.dumps(event).encode() + b"\n\n")
            except ApiError as err:  # headers are gone: the error travels as an event, as vLLM sends it
                self._chunk(b"data: " + json.dumps(err.body()).encode() + b"\n\n")
            self._chunk(b"data: [DONE]\n\n")
            self._chunk(b"")

        def _serve(self, method: str, run: Callable[[float], endpoints.Answer | dict[str, Any]]) -> None:
            start = time.monotonic()
            usage, status = endpoints.Usage(), 200
            try:
                answer = run(start + limits.timeout_s)
                if isinstance(answer, dict):
                    self._send(200, answer)
                else:
                    usage = answer.usage
                    self._stream(answer) if answer.events is not None else self._send(200, answer.body)
            except ApiError as err:
                status = err.status
                self._send(err.status, err.body())
            except (BrokenPipeError, ConnectionResetError):
                status = 499  # the client went away mid-answer (nginx's code for it)
            except Exception as exc:  # a generation failure must not kill the server
                status = 500
                log.exception("%s %s failed", method, self.path)
                self._send(500, ApiError(500, f"{type(exc).__name__}: {exc}", "server_error").body())
            finally:
                request_log.record(method, self.path, status, usage, 1000 * (time.monotonic() - start))

        def _not_found(self) -> ApiError:
            return ApiError(404, f"no route {self.command} {self.path}; herd serve offers GET /v1/models and POST "
                            f"{', '.join(ROUTES)}", "invalid_request_error", None, "not_found")

        def do_GET(self):
            def run(deadline: float):
                if self.path.rstrip("/") != "/v1/models":
                    raise self._not_found()
                return endpoints.models(service)

            self._serve("GET", run)

        def do_POST(self):
            def run(deadline: float):
                route = ROUTES.get(self.path.rstrip("/"))
                if route is None:
                    raise self._not_found()
                body = self._body()
                check_model(body, service.names)
                return route(service, body, limits, deadline)

            self._serve("POST", run)

        def _body(self) -> dict[str, Any]:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                raise bad_request("the Content-Length header is not a number") from None
            if length > limits.max_body_bytes:
                self.close_connection = True  # the unread body must not be taken for the next request
                raise ApiError(413, f"the request body is {length} bytes; at most {limits.max_body_bytes} "
                               "(herd serve --max-body-bytes)", "invalid_request_error", None, "request_too_large")
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise bad_request(f"the request body is not JSON: {exc}") from None
            if not isinstance(body, dict):
                raise bad_request("the request body must be a JSON object")
            return body

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
