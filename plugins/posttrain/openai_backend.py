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

from herd.core.errors import ConfigError
from herd.core.protocols import SamplingParams


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
        results = _run(self._all(bodies))
        self.last_failures = [Failure(i, r) for i, r in enumerate(results) if isinstance(r, str)]
        self.stats["failures"] += len(self.last_failures)
        return [r if isinstance(r, list) else [] for r in results]

    # ----- requests -------------------------------------------------------------------

    def _body(self, prompt: str, params: SamplingParams) -> dict[str, Any]:
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
        if self.cfg.endpoint == "chat":
            body["messages"] = [{"role": "user", "content": prompt}]
        else:
            body["prompt"] = prompt
        return body

    @property
    def _url(self) -> str:
        path = "chat/completions" if self.cfg.endpoint == "chat" else "completions"
        return f"{self.cfg.base_url.rstrip('/')}/{path}"

    async def _all(self, bodies: list[dict[str, Any]]) -> list[list[str] | str]:
        import aiohttp

        limit = asyncio.Semaphore(self.cfg.concurrency)
        timeout = aiohttp.ClientTimeout(total=self.cfg.timeout_s)
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.cfg.api_key_env, "") if self.cfg.api_key_env else ""
        if key:
            headers["Authorization"] = f"Bearer {key}"
        async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
            return await asyncio.gather(*(self._one(session, limit, b) for b in bodies))

    async def _one(self, session, limit: asyncio.Semaphore, body: dict[str, Any]) -> list[str] | str:
        import aiohttp

        cached = self._cached(body)
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
                    async with session.post(self._url, json=body) as resp:
                        text = await resp.text()
                        status = resp.status
                texts = self._parse(status, text, body["n"])
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
            self._store(body, texts)
            return texts
        return f"{reason} (after {self.cfg.retries + 1} attempts)"

    def _parse(self, status: int, text: str, n: int) -> list[str]:
        if status == 429 or status >= 500:
            raise ResponseError(f"HTTP {status}: {text[:200]}", retry=True)
        if status >= 400:
            raise ResponseError(f"HTTP {status}: {text[:200]}", retry=False)
        try:
            data = json.loads(text)
            choices = data["choices"]
            if self.cfg.endpoint == "chat":
                texts = [c["message"]["content"] for c in choices]
            else:
                texts = [c["text"] for c in choices]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ResponseError(f"garbage answer ({type(exc).__name__}): {text[:200]!r}", retry=True) from None
        if len(texts) != n or not all(isinstance(t, str) for t in texts):
            raise ResponseError(f"garbage answer: expected {n} text choices, got {text[:200]!r}", retry=True)
        return texts

    # ----- disk cache -----------------------------------------------------------------

    def _key(self, body: dict[str, Any]) -> str:
        blob = json.dumps({"url": self._url, "body": body}, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def _cached(self, body: dict[str, Any]) -> list[str] | None:
        if self.cache is None:
            return None
        path = self.cache / (self._key(body) + ".json")
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))["texts"]
        except (json.JSONDecodeError, KeyError):
            return None  # a damaged entry is simply asked again

    def _store(self, body: dict[str, Any], texts: list[str]) -> None:
        if self.cache is None:
            return
        self.cache.mkdir(parents=True, exist_ok=True)
        path = self.cache / (self._key(body) + ".json")
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"request": body, "texts": texts}), encoding="utf-8")
        tmp.replace(path)


def _run(coro):
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Called from inside a running event loop (a notebook): run on a private loop thread.
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
