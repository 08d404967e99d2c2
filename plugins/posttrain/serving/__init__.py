"""``herd serve``: an OpenAI-compatible HTTP server on FastAPI and uvicorn (ASGI).

``errors`` (OpenAI's error body), ``requests`` (typed, validated request bodies: what is
served, refused or ignored), ``text`` (incremental detokenisation with stop strings),
``batcher`` (the model's one worker thread: queued requests decoded together as one batch),
``service`` (the model: prompts to token ids, decodings, embeddings), ``endpoints`` (one
function per route, OpenAI's response and stream-chunk bodies), ``request_log`` (a line
per request), ``app`` (the ASGI app: routes, bounds, server-sent events) and ``server``
(uvicorn on a bound socket, graceful shutdown).
"""
