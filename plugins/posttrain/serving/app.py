"""The ASGI application (FastAPI): routes, bounds (body size, per-request timeout),
server-sent events, OpenAI's error body for every error, and one log line per request.

Request bodies are read and checked by ``requests`` (not by pydantic models), so that what
is served, refused and ignored is decided in one place and errors keep OpenAI's shape. The
model work runs on the model's worker thread (``batcher``); a request waits for it on
Starlette's thread pool, so the event loop keeps accepting and queueing requests meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, AsyncIterator, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from herd.plugins.posttrain.serving import endpoints
from herd.plugins.posttrain.serving.errors import ApiError, bad_request
from herd.plugins.posttrain.serving.request_log import RequestLog
from herd.plugins.posttrain.serving.requests import Limits, check_model, parse_chat, parse_completion, parse_embedding
from herd.plugins.posttrain.serving.service import ModelService

log = logging.getLogger("herd.serve")

Route = Callable[[ModelService, dict[str, Any], Limits, float], endpoints.Answer]

ROUTES: dict[str, Route] = {
    "/v1/completions": lambda s, body, lim, dl: endpoints.completions(s, parse_completion(body, lim), dl),
    "/v1/chat/completions": lambda s, body, lim, dl: endpoints.chat_completions(s, parse_chat(body, lim), dl),
    "/v1/embeddings": lambda s, body, lim, dl: endpoints.embeddings(
        s, parse_embedding(body, lim, s.model.cfg.dim), dl),
}

_DONE = object()
DRAIN_BYTES = 64 << 20  # the most of a refused body read and dropped before the connection closes


class EventStream(StreamingResponse):
    """Server-sent events whose iterator is closed as soon as the response ends, a client
    gone included (Starlette leaves that to the garbage collector), so that the request
    leaves its batch and its log line is written at once."""

    def __init__(self, content: AsyncIterator[bytes]):
        super().__init__(content, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.body_iterator.aclose()


def _error(err: ApiError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, headers=headers)


def _not_found(method: str, path: str) -> ApiError:
    return ApiError(404, f"no route {method} {path}; herd serve offers GET /v1/models and POST "
                    f"{', '.join(ROUTES)}", "invalid_request_error", None, "not_found")


def make_app(service: ModelService, limits: Limits | None = None, request_log: RequestLog | None = None) -> FastAPI:
    limits = limits or Limits()
    request_log = request_log or RequestLog()
    app = FastAPI(title="herd serve", docs_url=None, redoc_url=None, openapi_url=None)

    def record(request: Request, status: int, usage: endpoints.Usage, start: float) -> None:
        request_log.record(request.method, request.url.path, status, usage, 1000 * (time.monotonic() - start))

    async def body_of(request: Request, deadline: float) -> dict[str, Any]:
        try:
            length = int(request.headers.get("content-length") or 0)
        except ValueError:
            raise bad_request("the Content-Length header is not a number") from None

        async def too_large(size: str, chunks: AsyncIterator[bytes]) -> ApiError:
            # Read and drop what the client is still sending (up to a bound), as nginx's
            # lingering close does: closing on unread data resets the connection, and the
            # client would see a broken pipe instead of the 413.
            dropped = 0
            try:
                async with asyncio.timeout(min(5.0, max(0.0, deadline - time.monotonic()))):
                    async for chunk in chunks:
                        dropped += len(chunk)
                        if dropped > DRAIN_BYTES:
                            break
            except (TimeoutError, ClientDisconnect):
                pass
            return ApiError(413, f"the request body is {size} bytes; at most {limits.max_body_bytes} (herd serve "
                            "--max-body-bytes)", "invalid_request_error", None, "request_too_large")

        async def read() -> bytes:
            data = bytearray()
            chunks = request.stream()
            if length > limits.max_body_bytes:
                raise await too_large(str(length), chunks)
            async for chunk in chunks:
                data += chunk
                if len(data) > limits.max_body_bytes:  # a chunked body, sent without its length
                    raise await too_large("over", chunks)
            return bytes(data)

        try:  # a client that stalls while sending its request is answered, not waited for
            raw = await asyncio.wait_for(read(), timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise ApiError(408, "the request body did not arrive within the per-request timeout (herd serve "
                           "--timeout-s)", "invalid_request_error", None, "request_timeout") from None
        try:
            body = json.loads(raw or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise bad_request(f"the request body is not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object")
        return body

    def events(request: Request, answer: endpoints.Answer, start: float) -> AsyncIterator[bytes]:
        async def stream() -> AsyncIterator[bytes]:
            status = 499  # unless the stream is sent to its end: the client went away (nginx's code)
            it = iter(answer.events)
            try:
                try:
                    while (event := await run_in_threadpool(next, it, _DONE)) is not _DONE:
                        yield b"data: " + json.dumps(event).encode() + b"\n\n"
                except ApiError as err:  # headers are gone: the error travels as an event, as vLLM sends it
                    yield b"data: " + json.dumps(err.body()).encode() + b"\n\n"
                except Exception as exc:
                    log.exception("%s %s failed mid-stream", request.method, request.url.path)
                    yield b"data: " + json.dumps(ApiError(500, f"{type(exc).__name__}: {exc}", "server_error")
                                                 .body()).encode() + b"\n\n"
                yield b"data: [DONE]\n\n"
                status = 200
            finally:
                if status != 200 and answer.cancel is not None:
                    answer.cancel()
                record(request, status, answer.usage, start)

        return stream()

    async def serve(request: Request, run: Callable[[float], Any]) -> Any:
        start = time.monotonic()
        deadline = start + limits.timeout_s
        usage, status = endpoints.Usage(), 200
        try:
            answer = await run(deadline)
            if isinstance(answer, dict):
                return JSONResponse(answer)
            if answer.events is not None:
                status = 0  # the stream logs its own line when it ends
                return EventStream(events(request, answer, start))
            usage = answer.usage
            return JSONResponse(answer.body)
        except ApiError as err:
            status = err.status
            # an unread body must not be taken for the next request
            return _error(err, {"Connection": "close"} if err.status == 413 else None)
        except Exception as exc:  # a generation failure must not kill the server
            status = 500
            log.exception("%s %s failed", request.method, request.url.path)
            return _error(ApiError(500, f"{type(exc).__name__}: {exc}", "server_error"))
        finally:
            if status:
                record(request, status, usage, start)

    @app.get("/v1/models")
    async def models(request: Request):
        async def run(deadline: float):
            return endpoints.models(service)

        return await serve(request, run)

    @app.get("/stats")
    async def stats(request: Request):
        """Not OpenAI's: how requests were batched (``herd serve --max-batch-rows``)."""
        return JSONResponse(endpoints.stats(service))

    def post(path: str, route: Route) -> None:
        async def handler(request: Request):
            async def run(deadline: float):
                body = await body_of(request, deadline)
                check_model(body, service.names)
                return await run_in_threadpool(route, service, body, limits, deadline)

            return await serve(request, run)

        app.add_api_route(path, handler, methods=["POST"])

    for path, route in ROUTES.items():
        post(path, route)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        # unknown routes and methods: OpenAI's error body, logged as every request is
        start = time.monotonic()
        err = _not_found(request.method, request.url.path) if exc.status_code == 404 else ApiError(
            exc.status_code, f"{request.method} {request.url.path}: {exc.detail}", "invalid_request_error")
        record(request, err.status, endpoints.Usage(), start)
        return _error(err)

    return app
