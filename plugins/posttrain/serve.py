"""``herd serve --model PATH --port N``: an OpenAI-compatible HTTP server for a herd or
Hugging Face Llama checkpoint, so that any OpenAI client (and herd's ``openai`` backend)
can generate from it.

Endpoints: ``POST /v1/completions``, ``POST /v1/chat/completions`` (typed messages, tool
calls included, in the Llama 3.1 chat format; a turn that calls a tool comes back with
``tool_calls`` and finish reason ``"tool_calls"``), both with ``stream: true`` as
server-sent events, ``POST /v1/embeddings``, ``GET /v1/models`` and ``GET /stats`` (how
requests were batched). FastAPI on uvicorn serves the HTTP side; the model runs on one
worker thread, and requests that arrive while it is busy are queued and decoded together
as one batch when they can share it (``--max-batch-rows``; ``serving.batcher``). What is
served, refused and ignored: ``herd.plugins.posttrain.serving.requests``.
"""

from __future__ import annotations

from pathlib import Path

from herd.plugins.posttrain.serving.request_log import RequestLog
from herd.plugins.posttrain.serving.requests import Limits
from herd.plugins.posttrain.serving.server import make_server
from herd.plugins.posttrain.serving.service import ModelService

__all__ = ["Limits", "ModelService", "RequestLog", "add_arguments", "make_server", "run"]


def add_arguments(parser) -> None:
    defaults = Limits()
    parser.add_argument("--model", required=True, help="herd or Hugging Face Llama model directory")
    parser.add_argument("--served-model-name", nargs="+", default=[],
                        help="model ids clients may name; answers carry the first (default: the model "
                             "directory's name, then 'herd')")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default loopback only)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--max-tokens", type=int, default=defaults.max_tokens,
                        help="most tokens one sample may generate (also the default)")
    parser.add_argument("--max-n", type=int, default=defaults.max_n, help="most samples per request")
    parser.add_argument("--max-body-bytes", type=int, default=defaults.max_body_bytes)
    parser.add_argument("--timeout-s", type=float, default=defaults.timeout_s,
                        help="a request's limit, waiting for the model included")
    parser.add_argument("--max-batch-rows", type=int, default=64,
                        help="most rows (prompts x n) decoded in one batch when concurrent requests share one "
                             "(1: every request alone)")
    parser.add_argument("--request-log", type=Path, default=None, help="also append the request log to this file")


def run(args, app) -> int:
    if args.max_batch_rows < 1:
        raise SystemExit(f"herd serve: --max-batch-rows is {args.max_batch_rows}; it must be at least 1")
    service = ModelService.load(Path(args.model), args.device, args.dtype, tuple(args.served_model_name),
                                args.max_batch_rows)
    limits = Limits(max_body_bytes=args.max_body_bytes, max_tokens=args.max_tokens, max_n=args.max_n,
                    timeout_s=args.timeout_s)
    server = make_server(service, args.host, args.port, limits, RequestLog(args.request_log))
    host, port = server.server_address[:2]
    print(f"serving {args.model} as `{service.name}` on http://{host}:{port}/v1 (completions, chat/completions, "
          f"embeddings, models; batches of up to {args.max_batch_rows} rows); Ctrl-C stops")
    try:
        server.serve_forever()  # SIGINT/SIGTERM: uvicorn lets the requests in flight finish
    except KeyboardInterrupt:  # uvicorn re-raises the signal it handled once it has stopped
        pass
    finally:
        server.server_close()
        service.close()
    return 0
