"""``herd serve``: an OpenAI-compatible HTTP server on the standard library.

``errors`` (OpenAI's error body), ``requests`` (typed, validated request bodies: what is
served, refused or ignored), ``text`` (incremental detokenisation with stop strings),
``service`` (the model: prompts to token ids, sampling step by step, embeddings),
``responses`` (OpenAI's response and stream-chunk bodies), ``endpoints`` (one function per
route) and ``http`` (the threaded server: bounds, server-sent events, the request log).
"""
