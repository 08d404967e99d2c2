"""``herd serve --model PATH --port N``: an OpenAI-compatible HTTP server for a herd or
Hugging Face Llama checkpoint, so that any OpenAI client (and herd's ``openai`` backend)
can generate from it.

Endpoints: ``POST /v1/completions`` (text prompts), ``POST /v1/chat/completions``
(messages, tool calls included, answered by the generator's ``chat`` in the Llama 3.1 chat
format; a turn that calls a tool comes back with ``tool_calls`` and finish reason
``"tool_calls"``) and ``GET /v1/models``. Requests are
served by a thread each; generation itself is serialised by a lock, since one model on
one device runs one batch at a time.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from herd.core.protocols import ChatReply, SamplingParams
from herd.core.records import ChatMessage
from herd.lib.chat.format import ChatFormat
from herd.lib.chat.openai_wire import from_wire, to_wire


class BadRequest(Exception):
    pass


class ModelService:
    """A generator plus the chat format and token counter of its tokenizer."""

    def __init__(self, generator, tokenizer, name: str):
        self.generator = generator
        self.chat = ChatFormat.from_tokenizer(tokenizer)
        self.tokenizer = tokenizer
        self.name = name
        self.lock = threading.Lock()

    @classmethod
    def load(cls, path: Path, device: str = "cpu", dtype: str = "float32") -> "ModelService":
        from herd.lib.llama.config import LocalGeneratorConfig
        from herd.lib.llama.generate import LocalGenerator

        generator = LocalGenerator.from_config(LocalGeneratorConfig(model_path=str(path), device=device, dtype=dtype))
        return cls(generator, generator.tokenizer, Path(path).name)

    def count(self, text: str) -> int:
        return len(self.chat.encode_text(text))

    def complete(self, prompts: list[str], params: SamplingParams) -> list[list[str]]:
        with self.lock:
            return self.generator.generate(prompts, params)

    def reply(self, conversation: list[ChatMessage], params: SamplingParams) -> list[ChatReply]:
        with self.lock:
            return self.generator.chat([conversation], params)[0]


def _params(body: dict[str, Any]) -> SamplingParams:
    try:
        stop = body.get("stop") or []
        if isinstance(stop, str):
            stop = [stop]
        params = SamplingParams(
            temperature=float(body.get("temperature", 1.0)),
            top_p=float(body.get("top_p", 1.0)),
            max_tokens=int(body.get("max_tokens") or 256),
            n=int(body.get("n", 1)),
            stop=[str(s) for s in stop],
            seed=None if body.get("seed") is None else int(body["seed"]),
        )
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"invalid sampling parameter: {exc}") from None
    if params.n < 1 or params.max_tokens < 1:
        raise BadRequest("n and max_tokens must be at least 1")
    return params


def _finish(service: ModelService, text: str, params: SamplingParams) -> str:
    return "length" if service.count(text) >= params.max_tokens else "stop"


def completions(service: ModelService, body: dict[str, Any]) -> dict[str, Any]:
    prompt = body.get("prompt")
    prompts = [prompt] if isinstance(prompt, str) else prompt
    if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) for p in prompts):
        raise BadRequest("'prompt' must be a string or a non-empty list of strings")
    params = _params(body)
    outputs = service.complete(prompts, params)
    choices = []
    for p, texts in enumerate(outputs):
        for text in texts:
            choices.append({"index": len(choices), "text": text, "logprobs": None,
                            "finish_reason": _finish(service, text, params)})
    return _envelope("text_completion", service, choices, prompts, [c["text"] for c in choices])


# ChatReply.finish -> OpenAI's finish_reason (a turn that calls a tool says "tool_calls").
FINISH_REASONS = {"end_of_turn": "stop", "end_of_message": "tool_calls", "length": "length", "stop": "stop"}


def chat_completions(service: ModelService, body: dict[str, Any]) -> dict[str, Any]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty list")
    try:
        chat = [from_wire(m, i) for i, m in enumerate(messages)]
        prompt = service.chat.prompt_text(chat)
    except Exception as exc:  # a malformed message or an unknown role: InputError naming the message
        raise BadRequest(str(exc)) from None
    params = _params(body)
    replies = service.reply(chat, params)
    choices = []
    for i, reply in enumerate(replies):
        message = to_wire([reply.message])[0]
        finish = "tool_calls" if reply.message.tool_calls else FINISH_REASONS[reply.finish]
        choices.append({"index": i, "message": message, "finish_reason": finish})
    return _envelope("chat.completion", service, choices, [prompt], [r.message.content for r in replies])


def _envelope(kind: str, service: ModelService, choices, prompts: list[str], texts: list[str]) -> dict[str, Any]:
    prompt_tokens = sum(service.count(p) for p in prompts)
    completion_tokens = sum(service.count(t) for t in texts)
    return {
        "id": f"herd-{uuid.uuid4().hex[:16]}",
        "object": kind,
        "created": int(time.time()),
        "model": service.name,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


ROUTES = {"/v1/completions": completions, "/v1/chat/completions": chat_completions}


def make_server(service: ModelService, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # keep test and CLI output quiet
            return

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: HTTPStatus, message: str) -> None:
            self._send(status, {"error": {"message": message, "type": status.phrase, "code": status.value}})

        def do_GET(self):
            if self.path.rstrip("/") == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": service.name, "object": "model", "owned_by": "herd"}]})
            else:
                self._error(HTTPStatus.NOT_FOUND, f"no route {self.path}")

        def do_POST(self):
            route = ROUTES.get(self.path.rstrip("/"))
            if route is None:
                self._error(HTTPStatus.NOT_FOUND, f"no route {self.path}")
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(body, dict):
                    raise BadRequest("the request body must be a JSON object")
                self._send(200, route(service, body))
            except (BadRequest, json.JSONDecodeError) as exc:
                self._error(HTTPStatus.BAD_REQUEST, str(exc))
            except Exception as exc:  # a generation failure must not kill the server
                self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(exc).__name__}: {exc}")

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


# ----- the CLI command -------------------------------------------------------------------


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, help="herd or Hugging Face Llama model directory")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default loopback only)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")


def run(args, app) -> int:
    service = ModelService.load(Path(args.model), args.device, args.dtype)
    server = make_server(service, args.host, args.port)
    host, port = server.server_address[:2]
    print(f"serving {args.model} on http://{host}:{port}/v1 (completions, chat/completions); Ctrl-C stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
