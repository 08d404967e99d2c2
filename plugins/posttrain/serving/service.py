"""The served model: prompts as token ids, samples decoded step by step under one lock
(one model on one device runs one batch at a time), and embeddings."""

from __future__ import annotations

import threading
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import torch
import torch.nn.functional as F

from herd.core.errors import InputError
from herd.core.protocols import SamplingParams
from herd.core.records import ChatMessage
from herd.lib.llama.generate import LocalGenerator, stream_ids
from herd.lib.llama.tokenizer import BEGIN_OF_TEXT
from herd.plugins.posttrain.serving.errors import ApiError, bad_request
from herd.plugins.posttrain.serving.text import SampleText


def timeout_error(what: str) -> ApiError:
    return ApiError(504, f"{what} ran past the per-request timeout (herd serve --timeout-s)", "timeout_error", None,
                    "timeout")


class ModelService:
    """A ``LocalGenerator``'s model, tokenizer and chat format, served under ``names``
    (as vLLM's ``--served-model-name``: requests may name any; answers name the first)."""

    def __init__(self, generator: LocalGenerator, names: tuple[str, ...]):
        self.generator = generator
        self.model = generator.model
        self.tokenizer = generator.tokenizer
        self.chat = generator.chat_format
        self.names = names
        self.name = names[0]
        self.stop_ids = frozenset(self.chat.stop_ids)  # <|eot_id|>, <|eom_id|>, <|end_of_text|>
        self.lock = threading.Lock()

    @classmethod
    def load(cls, path: Path, device: str = "cpu", dtype: str = "float32",
             names: tuple[str, ...] = ()) -> "ModelService":
        """``names`` default to the directory's name and ``herd`` (the model id herd's own
        ``openai`` backend sends by default)."""
        from herd.lib.llama.config import LocalGeneratorConfig

        generator = LocalGenerator.from_config(LocalGeneratorConfig(model_path=str(path), device=device, dtype=dtype))
        return cls(generator, tuple(names) or (Path(path).name, "herd"))

    @property
    def context(self) -> int:
        return self.model.cfg.max_seq_len

    def completion_prompt(self, prompt: str, index: int) -> list[int]:
        """As ``LocalGenerator.generate`` encodes it: special-token strings honoured, BOS added
        unless the prompt starts with it."""
        ids = self.tokenizer.encode(prompt, bos=not prompt.startswith(BEGIN_OF_TEXT), allow_special=True)
        return self._fits(ids, f"prompt {index}", "prompt")

    def chat_prompt(self, messages: list[ChatMessage]) -> list[int]:
        try:
            ids = self.chat.encode_prompt(messages).ids
        except InputError as err:  # an unknown role, named with its message's index
            raise bad_request(str(err), "messages") from None
        return self._fits(ids, "the rendered conversation", "messages")

    def _fits(self, ids: list[int], what: str, param: str) -> list[int]:
        if len(ids) >= self.context:
            raise bad_request(f"{what} is {len(ids)} tokens; this model's maximum context length is {self.context} "
                              "tokens and leaves no room to generate", param, "context_length_exceeded")
        return ids

    @contextmanager
    def turn(self, deadline: float) -> Iterator[None]:
        """The model, waited for until ``deadline`` (``time.monotonic``)."""
        if not self.lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise ApiError(503, "the model stayed busy with other requests past the per-request timeout",
                           "server_error", None, "busy")
        try:
            yield
        finally:
            self.lock.release()

    def decode(self, prompt: list[int], params: SamplingParams, deadline: float) -> "Decoding":
        return Decoding(self, prompt, params, deadline)

    @torch.inference_mode()
    def embed(self, inputs: list[list[int]], deadline: float) -> list[torch.Tensor]:
        """Per input, its last hidden states mean-pooled over its tokens, L2-normalised
        (float32), so that a dot product is the cosine similarity."""
        out = []
        with self.turn(deadline):
            device = next(self.model.parameters()).device
            for ids in inputs:
                if time.monotonic() > deadline:
                    raise timeout_error("embedding")
                hidden = self.model.hidden_states(torch.tensor([ids], device=device))
                out.append(F.normalize(hidden[0].float().mean(dim=0), dim=0).cpu())
        return out

    def embedding_ids(self, item: str | list[int], index: int) -> list[int]:
        ids = self.tokenizer.encode(item, bos=True) if isinstance(item, str) else list(item)
        vocab = self.model.cfg.vocab_size
        if any(t >= vocab for t in ids):
            raise bad_request(f"input {index}: token ids must be below the vocabulary size {vocab}", "input")
        if len(ids) > self.context:
            raise bad_request(f"input {index} is {len(ids)} tokens; this model's maximum context length is "
                              f"{self.context} tokens", "input", "context_length_exceeded")
        return ids


@dataclass
class Decoding:
    """``params.n`` samples of one prompt, decoded as they are sampled (``deltas``)."""

    service: ModelService
    prompt: list[int]
    params: SamplingParams
    deadline: float
    samples: list[SampleText] = field(init=False)

    def __post_init__(self):
        budget = min(self.params.max_tokens, self.service.context - len(self.prompt))
        self.samples = [SampleText(self.service.tokenizer.decode, self.params.stop, self.service.stop_ids, budget)
                        for _ in range(self.params.n)]

    def deltas(self) -> Iterator[tuple[int, str]]:
        """``(sample, text)`` as text becomes certain; every sample is done at the end."""
        s, p = self.service, self.params
        with s.turn(self.deadline):
            steps = stream_ids(s.model, self.prompt, p.n, p.max_tokens, p.temperature, p.top_p,
                               tuple(sorted(s.stop_ids)), p.seed)
            with closing(steps):
                for live in steps:
                    for row, token in live:
                        delta = self.samples[row].add(token)
                        if delta:
                            yield row, delta
                    if all(x.done for x in self.samples):
                        break
                    if time.monotonic() > self.deadline:
                        raise timeout_error("generation")
        for row, sample in enumerate(self.samples):
            delta = sample.end()
            if delta:
                yield row, delta

    def run(self) -> list[SampleText]:
        for _ in self.deltas():
            pass
        return self.samples

    @property
    def completion_tokens(self) -> int:
        return sum(x.tokens for x in self.samples)
