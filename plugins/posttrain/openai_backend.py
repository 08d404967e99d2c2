"""The ``openai`` generation backend: any OpenAI-compatible HTTP endpoint (vLLM, llama.cpp
server, NIM, ``herd serve``).

Requests run concurrently on one ``aiohttp`` session, at most ``concurrency`` at a time;
each one is retried with exponential back-off on connection errors, timeouts, HTTP 429
and 5xx, and on answers that are not a valid completion. Every successful answer is
stored on disk under a hash of the request, so re-running a round does not pay for the
same generations twice. A prompt that still fails after the retries yields no
completions, and ``last_failures`` says why (the loop drops and counts it).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from herd.core.errors import ConfigError, InputError
from herd.core.protocols import ChatReply, SamplingParams
from herd.core.records import ChatMessage
from herd.lib.chat.openai_wire import from_wire, to_wire
from herd.lib.chat.tools import BUILTIN_TOOLS


@dataclass
class OpenAIGeneratorConfig:
    """``[generators.openai]``."""

    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "herd"
    endpoint: str = "completions"  # "completions" (prompts are text) or "chat" (prompts are user messages)
    api_key_env: str = "OPENAI_API_KEY"  # the key is read from this environment variable, if set
    concurrency: int = 8
    timeout_s: float = 120.0
    retries: int = 3
    backoff_s: float = 0.5
    cache_dir: str = ".cache/herd/openai"  # empty: no cache


@dataclass
class Failure:
    index: int
    reason: str


class ResponseError(Exception):
    """An answer that is not a usable completion; ``retry`` says whether to try again."""

    def __init__(self, reason: str, retry: bool):
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


class OpenAIGenerator:
    def __init__(self, cfg: OpenAIGeneratorConfig | None):
        cfg = cfg or OpenAIGeneratorConfig()
        if cfg.endpoint not in ("completions", "chat"):
            raise ConfigError(f"[generators.openai] endpoint {cfg.endpoint!r}: use 'completions' or 'chat'")
        if cfg.concurrency < 1:
            raise ConfigError("[generators.openai] concurrency must be at least 1")
        self.cfg = cfg
        self.cache = Path(cfg.cache_dir) if cfg.cache_dir else None
        self.last_failures: list[Failure] = []
        self.stats = {"requests": 0, "cache_hits": 0, "retries": 0, "failures": 0}

    # ----- protocols.Generator --------------------------------------------------------

    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[str]]:
        """``params.n`` completions per prompt; ``[]`` for a prompt that failed (see
        ``last_failures``)."""
        bodies = [self._body(p, params) for p in prompts]
        results = self._ask(self._url, bodies, self._parse_texts, "texts")
        return [r if isinstance(r, list) else [] for r in results]

    def chat(self, conversations: list[list[ChatMessage]], params: SamplingParams) -> list[list[ChatReply]]:
        """``params.n`` assistant turns per conversation from the server's
        ``/chat/completions`` (rendered with the server's own template). Tool calls travel
        in OpenAI's format both ways (``herd.lib.chat.openai_wire``); ``[]`` for a
        conversation that failed (see ``last_failures``)."""
        bodies = [{**self._sampling(params), "messages": to_wire(c)} for c in conversations]
        url = f"{self.cfg.base_url.rstrip('/')}/chat/completions"
        results = self._ask(url, bodies, self._parse_choices, "choices")
        return [[_reply(c) for c in r] if isinstance(r, list) else [] for r in results]

    # ----- requests -------------------------------------------------------------------

    def _ask(self, url: str, bodies: list[dict[str, Any]], parse, field: str) -> list[list | str]:
        results = _run(self._all(url, bodies, parse, field))
        self.last_failures = [Failure(i, r) for i, r in enumerate(results) if isinstance(r, str)]
        self.stats["failures"] += len(self.last_failures)
        return results

    def _sampling(self, params: SamplingParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.cfg.model,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "n": params.n,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        return body

    def _body(self, prompt: str, params: SamplingParams) -> dict[str, Any]:
        body = self._sampling(params)
        if self.cfg.endpoint == "chat":
            body["messages"] = [{"role": "user", "content": prompt}]
        else:
            body["prompt"] = prompt
        return body

    @property
    def _url(self) -> str:
        path = "chat/completions" if self.cfg.endpoint == "chat" else "completions"
        return f"{self.cfg.base_url.rstrip('/')}/{path}"

    async def _all(self, url: str, bodies: list[dict[str, Any]], parse, field: str) -> list[list | str]:
        import aiohttp

        limit = asyncio.Semaphore(self.cfg.concurrency)
        timeout = aiohttp.ClientTimeout(total=self.cfg.timeout_s)
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.cfg.api_key_env, "") if self.cfg.api_key_env else ""
        if key:
            headers["Authorization"] = f"Bearer {key}"
        async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
            return await asyncio.gather(*(self._one(session, limit, url, b, parse, field) for b in bodies))

    async def _one(self, session, limit: asyncio.Semaphore, url: str, body: dict[str, Any], parse,
                   field: str) -> list | str:
        """The parsed answer (a JSON-able list, as the cache stores it) or why it failed."""
        import aiohttp

        cached = self._cached(url, body, field)
        if cached is not None:
            self.stats["cache_hits"] += 1
            return cached
        reason = ""
        for attempt in range(self.cfg.retries + 1):
            if attempt:
                self.stats["retries"] += 1
                await asyncio.sleep(self.cfg.backoff_s * 2 ** (attempt - 1))
            try:
                async with limit:
                    self.stats["requests"] += 1
                    async with session.post(url, json=body) as resp:
                        text = await resp.text()
                        status = resp.status
                answer = parse(status, text, body["n"])
            except ResponseError as exc:
                reason = exc.reason
                if not exc.retry:
                    return reason
                continue
            except asyncio.TimeoutError:
                reason = f"timeout after {self.cfg.timeout_s}s"
                continue
            except aiohttp.ClientError as exc:
                reason = f"connection error: {type(exc).__name__}: {exc}"
                continue
            self._store(url, body, field, answer)
            return answer
        return f"{reason} (after {self.cfg.retries + 1} attempts)"

    def _choices(self, status: int, text: str, n: int) -> list[dict[str, Any]]:
        if status == 429 or status >= 500:
            raise ResponseError(f"HTTP {status}: {text[:200]}", retry=True)
        if status >= 400:
            raise ResponseError(f"HTTP {status}: {text[:200]}", retry=False)
        try:
            choices = json.loads(text)["choices"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ResponseError(f"garbage answer ({type(exc).__name__}): {text[:200]!r}", retry=True) from None
        if not isinstance(choices, list) or len(choices) != n or not all(isinstance(c, dict) for c in choices):
            raise ResponseError(f"garbage answer: expected {n} choices, got {text[:200]!r}", retry=True)
        return choices

    def _parse_texts(self, status: int, text: str, n: int) -> list[str]:
        choices = self._choices(status, text, n)
        try:
            if self.cfg.endpoint == "chat":
                texts = [c["message"]["content"] for c in choices]
            else:
                texts = [c["text"] for c in choices]
        except (KeyError, TypeError) as exc:
            raise ResponseError(f"garbage answer ({type(exc).__name__}): {text[:200]!r}", retry=True) from None
        if not all(isinstance(t, str) for t in texts):
            raise ResponseError(f"garbage answer: expected {n} text choices, got {text[:200]!r}", retry=True)
        return texts

    def _parse_choices(self, status: int, text: str, n: int) -> list[dict[str, Any]]:
        """The choices as ``{"message", "finish_reason"}``, each message checked readable."""
        kept = []
        for i, choice in enumerate(self._choices(status, text, n)):
            try:
                from_wire(choice.get("message"), i)
            except InputError as exc:
                raise ResponseError(f"garbage answer: choice {exc}", retry=True) from None
            kept.append({"message": choice["message"], "finish_reason": choice.get("finish_reason")})
        return kept

    # ----- disk cache -----------------------------------------------------------------

    def _key(self, url: str, body: dict[str, Any]) -> str:
        blob = json.dumps({"url": url, "body": body}, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def _cached(self, url: str, body: dict[str, Any], field: str) -> list | None:
        if self.cache is None:
            return None
        path = self.cache / (self._key(url, body) + ".json")
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))[field]
        except (json.JSONDecodeError, KeyError):
            return None  # a damaged entry is simply asked again

    def _store(self, url: str, body: dict[str, Any], field: str, answer: list) -> None:
        if self.cache is None:
            return
        self.cache.mkdir(parents=True, exist_ok=True)
        path = self.cache / (self._key(url, body) + ".json")
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"request": body, field: answer}), encoding="utf-8")
        tmp.replace(path)


# OpenAI's finish reasons; "tool_calls" ends with <|eom_id|> for a built-in tool and
# <|eot_id|> for a custom one, as the Llama 3.1 format does (herd.lib.chat.tools).
FINISH = {"stop": "end_of_turn", "length": "length", "content_filter": "end_of_turn"}


def _reply(choice: dict[str, Any]) -> ChatReply:
    message = from_wire(choice["message"], 0)
    message.role = "assistant"
    reason = choice.get("finish_reason") or "stop"
    if reason == "tool_calls" or (reason == "stop" and message.tool_calls):
        builtin = any(c.name in BUILTIN_TOOLS for c in message.tool_calls)
        return ChatReply(message, "end_of_message" if builtin else "end_of_turn")
    return ChatReply(message, FINISH.get(reason, "end_of_turn"))


def _run(coro):
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Called from inside a running event loop (a notebook): run on a private loop thread.
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
