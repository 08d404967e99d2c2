"""One function per route: a parsed request in, an ``Answer`` out (a JSON body, or the
events of a server-sent stream), with the request's token counts for the log.

Answers follow OpenAI's formats: ``text_completion`` / ``chat.completion`` bodies, and
for ``stream: true`` chunks with the same ids (for chat, a first chunk per choice with the
assistant role, then content deltas, then one with the finish reason); with
``stream_options.include_usage`` every chunk carries ``"usage": null`` and a last chunk
with no choices carries the usage. ``usage`` counts token ids: the rendered prompt's,
and every token sampled (a terminating stop token included).
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import torch

from herd.core.records import ChatMessage
from herd.lib.chat.format import PYTHON_TAG
from herd.lib.chat.openai_wire import to_wire
from herd.plugins.posttrain.serving.requests import ChatRequest, CompletionRequest, EmbeddingRequest
from herd.plugins.posttrain.serving.service import Decoding, ModelService
from herd.plugins.posttrain.serving.text import SampleText


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def body(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens}


@dataclass
class Answer:
    """``body`` (a JSON answer) or ``events`` (the chunks of a stream, usage filled in as
    they are produced; ``cancel``, safe from any thread, ends them when the client goes)."""

    usage: Usage
    body: dict[str, Any] | None = None
    events: Iterator[dict[str, Any]] | None = None
    cancel: Callable[[], None] | None = None


def _head(kind: str, service: ModelService, prefix: str) -> dict[str, Any]:
    return {"id": f"{prefix}-{uuid.uuid4().hex}", "object": kind, "created": int(time.time()), "model": service.name}


# ----- /v1/completions ----------------------------------------------------------------


def completions(service: ModelService, request: CompletionRequest, deadline: float) -> Answer:
    prompts = [service.completion_prompt(p, i) for i, p in enumerate(request.prompts)]
    usage = Usage(prompt_tokens=sum(len(p) for p in prompts))
    decoding = service.decode(prompts, request.generation.params, deadline)
    if request.generation.stream:
        return Answer(usage, events=_completion_events(service, decoding, usage, request.generation.include_usage),
                      cancel=decoding.cancel)
    choices = [{"index": i, "text": sample.text, "logprobs": None, "finish_reason": sample.finish}
               for i, sample in enumerate(decoding.run())]
    usage.completion_tokens = decoding.completion_tokens
    return Answer(usage, body={**_head("text_completion", service, "cmpl"), "choices": choices,
                               "usage": usage.body()})


def _completion_events(service: ModelService, decoding: Decoding, usage: Usage,
                       include_usage: bool) -> Iterator[dict[str, Any]]:
    """Choice ``p * n + s`` is sample ``s`` of prompt ``p``, as in the whole answer."""
    head = _head("text_completion", service, "cmpl")
    extra = {"usage": None} if include_usage else {}
    for row, delta in decoding.deltas():
        yield {**head, "choices": [{"index": row, "text": delta, "logprobs": None, "finish_reason": None}], **extra}
    for row, sample in enumerate(decoding.samples):
        yield {**head, "choices": [{"index": row, "text": "", "logprobs": None, "finish_reason": sample.finish}],
               **extra}
    usage.completion_tokens = decoding.completion_tokens
    if include_usage:
        yield {**head, "choices": [], "usage": usage.body()}


# ----- /v1/chat/completions -----------------------------------------------------------

# ChatReply.finish -> OpenAI's finish_reason (a turn that calls a tool says "tool_calls").
FINISH_REASONS = {"end_of_turn": "stop", "end_of_message": "tool_calls", "length": "length", "stop": "stop"}


def chat_message(service: ModelService, sample: SampleText) -> tuple[ChatMessage, str]:
    """A finished sample as the assistant's message and OpenAI's finish reason: read back by
    the chat format (tool calls parsed), or, when a stop string cut it, its text up to there."""
    if sample.finish == "stop" and sample.end_id is None:
        return ChatMessage("assistant", sample.text.split(PYTHON_TAG)[0]), "stop"
    reply = service.chat.read_reply(sample.ids + ([] if sample.end_id is None else [sample.end_id]))
    return reply.message, "tool_calls" if reply.message.tool_calls else FINISH_REASONS[reply.finish]


def chat_completions(service: ModelService, request: ChatRequest, deadline: float) -> Answer:
    prompt = service.chat_prompt(request.messages)
    usage = Usage(prompt_tokens=len(prompt))
    decoding = service.decode([prompt], request.generation.params, deadline)
    if request.generation.stream:
        return Answer(usage, events=_chat_events(service, decoding, usage, request.generation.include_usage),
                      cancel=decoding.cancel)
    choices = []
    for i, sample in enumerate(decoding.run()):
        message, finish = chat_message(service, sample)
        choices.append({"index": i, "message": to_wire([message])[0], "logprobs": None, "finish_reason": finish})
    usage.completion_tokens = decoding.completion_tokens
    return Answer(usage, body={**_head("chat.completion", service, "chatcmpl"), "choices": choices,
                               "usage": usage.body()})


def _holding(text: str) -> bool:
    """Text that may turn out to be a tool call (a built-in call after ``<|python_tag|>``, a
    custom one as a JSON object) is held back until the turn ends, as vLLM's Llama 3 JSON
    tool parser does, so that a call never streams out as content."""
    return PYTHON_TAG in text or not text.strip() or text.lstrip().startswith("{")


def _chat_events(service: ModelService, decoding: Decoding, usage: Usage,
                 include_usage: bool) -> Iterator[dict[str, Any]]:
    head = _head("chat.completion.chunk", service, "chatcmpl")
    extra = {"usage": None} if include_usage else {}

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**head, "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}],
                **extra}

    sent = [""] * len(decoding.samples)
    for i in range(len(sent)):
        yield chunk(i, {"role": "assistant", "content": ""})
    for row, _ in decoding.deltas():
        text = decoding.samples[row].text
        if not _holding(text) and len(text) > len(sent[row]):
            delta, sent[row] = text[len(sent[row]):], text
            yield chunk(row, {"content": delta})
    for i, sample in enumerate(decoding.samples):
        message, finish = chat_message(service, sample)
        if message.content.startswith(sent[i]) and len(message.content) > len(sent[i]):
            yield chunk(i, {"content": message.content[len(sent[i]):]})
        if message.tool_calls:
            calls = to_wire([message])[0]["tool_calls"]
            yield chunk(i, {"tool_calls": [{"index": k, **call} for k, call in enumerate(calls)]})
        yield chunk(i, {}, finish)
    usage.completion_tokens = decoding.completion_tokens
    if include_usage:
        yield {**head, "choices": [], "usage": usage.body()}


# ----- /v1/embeddings -----------------------------------------------------------------


def embeddings(service: ModelService, request: EmbeddingRequest, deadline: float) -> Answer:
    ids = [service.embedding_ids(item, i) for i, item in enumerate(request.inputs)]
    vectors = service.embed(ids, deadline)
    tokens = sum(len(x) for x in ids)
    data = [{"object": "embedding", "index": i, "embedding": _encode(v, request.encoding_format)}
            for i, v in enumerate(vectors)]
    return Answer(Usage(prompt_tokens=tokens), body={"object": "list", "data": data, "model": service.name,
                                                     "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


def _encode(vector: torch.Tensor, encoding_format: str) -> list[float] | str:
    if encoding_format == "base64":  # OpenAI's: little-endian float32 bytes, base64
        return base64.b64encode(vector.to(torch.float32).numpy().astype("<f4").tobytes()).decode()
    return vector.tolist()


def models(service: ModelService) -> dict[str, Any]:
    return {"object": "list", "data": [{"id": name, "object": "model", "created": 0, "owned_by": "herd",
                                        "max_model_len": service.context} for name in service.names]}


def stats(service: ModelService) -> dict[str, Any]:
    """How the model's worker batched requests so far, and how many wait now."""
    return {**service.batcher.stats.body(), "queued": service.batcher.queued,
            "max_batch_rows": service.batcher.max_batch_rows}
