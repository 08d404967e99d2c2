"""Request bodies of ``/v1/completions``, ``/v1/chat/completions`` and ``/v1/embeddings``
as typed records, checked against the server's bounds.

What a field gets:

* served: ``model``, ``prompt``/``messages``/``input``, ``stream``, ``stream_options``
  (``include_usage``), ``max_tokens`` and its newer alias ``max_completion_tokens``,
  ``temperature``, ``top_p``, ``n``, ``stop``, ``seed``, ``encoding_format``;
* refused with a 400 (OpenAI defines them and herd does not honour them, so accepting
  them would silently change the answer): ``logprobs``/``top_logprobs``, ``tools``,
  ``tool_choice``, ``functions``/``function_call``, ``response_format`` other than text,
  penalties, ``logit_bias``, ``echo``, ``suffix``, ``best_of``, ``dimensions`` other than
  the model's width, and the audio/prediction/reasoning parameters;
* ignored: ``user`` and the storage/tier hints (no effect on the answer), and fields
  OpenAI does not define — as vLLM does (since vllm-project/vllm#10463 its protocol models
  accept extra fields and log "The following fields were present in the request but
  ignored"), so clients that send their own extras keep working; the server logs them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from herd.core.protocols import SamplingParams
from herd.core.records import ChatMessage
from herd.lib.chat.openai_wire import from_wire
from herd.plugins.posttrain.serving.errors import ApiError, bad_request, unsupported

log = logging.getLogger("herd.serve")


@dataclass(frozen=True)
class Limits:
    """Bounds on every request (``herd serve`` flags of the same names)."""

    max_body_bytes: int = 1 << 20
    max_tokens: int = 1024  # per sample; also the default when a request names none
    max_n: int = 16
    max_inputs: int = 256  # prompts of one completions request, inputs of one embeddings request
    timeout_s: float = 300.0  # a request's whole life: waiting for the model, generating, streaming


@dataclass
class Generation:
    """What both generating endpoints share."""

    params: SamplingParams
    stream: bool = False
    include_usage: bool = False


@dataclass
class CompletionRequest:
    prompts: list[str]
    generation: Generation


@dataclass
class ChatRequest:
    messages: list[ChatMessage]
    generation: Generation


@dataclass
class EmbeddingRequest:
    inputs: list[str | list[int]]
    encoding_format: str = "float"


IGNORED = {"user", "store", "metadata", "service_tier", "parallel_tool_calls"}
SAMPLING = {"model", "stream", "stream_options", "max_tokens", "max_completion_tokens", "temperature", "top_p", "n",
            "stop", "seed"}
# Refused unless the value is one that changes nothing (OpenAI's default).
REFUSED = {
    "logprobs": ((None, False, 0), "token log-probabilities are not returned"),
    "top_logprobs": ((None, 0), "token log-probabilities are not returned"),
    "tools": ((None, []), "tool definitions are not rendered into the prompt; describe custom tools in the "
                          "system message as Llama 3.1 does and read calls back from tool_calls"),
    "tool_choice": ((None, "none", "auto"), "tool definitions are not rendered into the prompt"),
    "functions": ((None, []), "tool definitions are not rendered into the prompt"),
    "function_call": ((None, "none", "auto"), "tool definitions are not rendered into the prompt"),
    "presence_penalty": ((None, 0, 0.0), "the sampler has no penalties"),
    "frequency_penalty": ((None, 0, 0.0), "the sampler has no penalties"),
    "logit_bias": ((None, {}), "the sampler takes no logit bias"),
    "echo": ((None, False), "the prompt is not echoed"),
    "suffix": ((None, ""), "there is no fill-in-the-middle"),
    "audio": ((None,), "the model is text only"),
    "modalities": ((None, ["text"]), "the model is text only"),
    "prediction": ((None,), "predicted outputs are not used"),
    "reasoning_effort": ((None,), "the model has no reasoning effort"),
    "web_search_options": ((None,), "there is no web search"),
}
CHAT_FIELDS = SAMPLING | {"messages", "response_format"}
COMPLETION_FIELDS = SAMPLING | {"prompt", "best_of"}
EMBEDDING_FIELDS = {"model", "input", "encoding_format", "dimensions"}


def check_model(body: dict[str, Any], served: tuple[str, ...]) -> None:
    """A request naming another model is refused as OpenAI and vLLM refuse it (404,
    ``model_not_found``); a request naming none gets the served model."""
    model = body.get("model")
    if model is not None and model not in served:
        names = ", ".join(f"`{n}`" for n in served)
        raise ApiError(404, f"The model `{model}` does not exist; this server serves {names} (see /v1/models).",
                       "invalid_request_error", "model", "model_not_found")


def _screen(body: dict[str, Any], known: set[str], route: str) -> None:
    for name, (harmless, why) in REFUSED.items():
        if name in body and not any(body[name] == h and type(body[name]) is type(h) for h in harmless):
            raise unsupported(name, why)
    extra = sorted(set(body) - known - IGNORED - set(REFUSED))
    if extra:
        log.warning("%s: the following fields were present in the request but ignored: %s", route, extra)


def _number(body: dict[str, Any], name: str, default: float, lo: float, hi: float) -> float:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_request(f"'{name}' must be a number, got {value!r}", name)
    if not lo <= value <= hi:
        raise bad_request(f"'{name}' must be between {lo} and {hi}, got {value}", name)
    return float(value)


def _integer(body: dict[str, Any], name: str, default: int | None, lo: int, hi: int, why: str = "") -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"'{name}' must be an integer, got {value!r}", name)
    if not lo <= value <= hi:
        raise bad_request(f"'{name}' must be between {lo} and {hi}{why}, got {value}", name)
    return value


def _generation(body: dict[str, Any], limits: Limits) -> Generation:
    # max_completion_tokens replaced max_tokens in OpenAI's chat API; like vLLM, it wins.
    name = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    max_tokens = _integer(body, name, limits.max_tokens, 1, limits.max_tokens,
                          f" (the server's cap, herd serve --max-tokens)")
    n = _integer(body, "n", 1, 1, limits.max_n, " (herd serve --max-n)")
    stop = body.get("stop")
    stop = [] if stop is None else [stop] if isinstance(stop, str) else stop
    if not isinstance(stop, list) or len(stop) > 4 or not all(isinstance(s, str) and s for s in stop):
        raise bad_request("'stop' must be a non-empty string or a list of up to 4 of them", "stop")
    seed = _integer(body, "seed", None, -(2**63), 2**63 - 1)
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise bad_request("'stream' must be true or false", "stream")
    options = body.get("stream_options")
    if options is not None and not stream:
        raise bad_request("'stream_options' is only allowed when 'stream' is true", "stream_options")
    if options is not None and (not isinstance(options, dict) or not isinstance(options.get("include_usage", False), bool)):
        raise bad_request("'stream_options' must be {\"include_usage\": true|false}", "stream_options")
    params = SamplingParams(
        temperature=_number(body, "temperature", 1.0, 0.0, 2.0),
        top_p=_number(body, "top_p", 1.0, 1e-9, 1.0),
        max_tokens=int(max_tokens), n=int(n), stop=list(stop),
        seed=None if seed is None else seed % 2**63,  # torch seeds are non-negative
    )
    return Generation(params, stream, bool(options and options.get("include_usage")))


def parse_completion(body: dict[str, Any], limits: Limits) -> CompletionRequest:
    _screen(body, COMPLETION_FIELDS, "/v1/completions")
    best_of = body.get("best_of")
    if best_of not in (None, 1, body.get("n", 1)):
        raise unsupported("best_of", "every sample is returned; ask for n samples instead")
    prompt = body.get("prompt")
    prompts = [prompt] if isinstance(prompt, str) else prompt
    if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) for p in prompts):
        raise bad_request("'prompt' must be a string or a non-empty list of strings", "prompt")
    if len(prompts) > limits.max_inputs:
        raise bad_request(f"{len(prompts)} prompts; at most {limits.max_inputs} per request", "prompt")
    return CompletionRequest(prompts, _generation(body, limits))


def parse_chat(body: dict[str, Any], limits: Limits) -> ChatRequest:
    _screen(body, CHAT_FIELDS, "/v1/chat/completions")
    fmt = body.get("response_format")
    if fmt is not None and fmt != {"type": "text"}:
        raise unsupported("response_format", "there is no constrained decoding (JSON mode or schemas)")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("'messages' must be a non-empty list", "messages")
    try:
        chat = [from_wire(m, i) for i, m in enumerate(messages)]
    except Exception as exc:  # InputError naming the message at fault
        raise bad_request(str(exc), "messages") from None
    return ChatRequest(chat, _generation(body, limits))


def parse_embedding(body: dict[str, Any], limits: Limits, width: int) -> EmbeddingRequest:
    _screen(body, EMBEDDING_FIELDS, "/v1/embeddings")
    dimensions = body.get("dimensions")
    if dimensions not in (None, width):
        raise unsupported("dimensions", f"embeddings have the model's width, {width}")
    fmt = body.get("encoding_format") or "float"
    if fmt not in ("float", "base64"):
        raise bad_request("'encoding_format' must be 'float' or 'base64'", "encoding_format")
    raw = body.get("input")
    # OpenAI's input: a string, a list of strings, a list of token ids, or a list of those.
    if isinstance(raw, str) or (isinstance(raw, list) and raw and all(_is_id(t) for t in raw)):
        raw = [raw]
    if not isinstance(raw, list) or not raw or not all(
            isinstance(x, str) or (isinstance(x, list) and x and all(_is_id(t) for t in x)) for x in raw):
        raise bad_request("'input' must be a string, a list of strings, or token ids (a non-empty list of "
                          "integers, or a list of such lists)", "input")
    if len(raw) > limits.max_inputs:
        raise bad_request(f"{len(raw)} inputs; at most {limits.max_inputs} per request", "input")
    return EmbeddingRequest(raw, fmt)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
