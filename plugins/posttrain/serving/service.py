"""The served model: prompts as token ids, samples decoded by the model's one worker thread
(``batcher``: concurrent requests that can share a forward pass run as one batch), and
embeddings.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import torch
import torch.nn.functional as F

from herd.core.errors import InputError
from herd.core.protocols import SamplingParams
from herd.core.records import ChatMessage
from herd.lib.llama.generate import LocalGenerator
from herd.lib.llama.tokenizer import BEGIN_OF_TEXT
from herd.plugins.posttrain.serving.batcher import END, Batcher, Job, busy_error, timeout_error
from herd.plugins.posttrain.serving.errors import bad_request
from herd.plugins.posttrain.serving.text import SampleText


class ModelService:
    """A ``LocalGenerator``'s model, tokenizer and chat format, served under ``names``
    (as vLLM's ``--served-model-name``: requests may name any; answers name the first).
    Batches hold up to ``max_batch_rows`` rows (prompts x ``n``; ``herd serve
    --max-batch-rows``). ``close`` stops the model's worker thread."""

    def __init__(self, generator: LocalGenerator, names: tuple[str, ...], max_batch_rows: int = 64):
        self.generator = generator
        self.model = generator.model
        self.tokenizer = generator.tokenizer
        self.chat = generator.chat_format
        self.names = names
        self.name = names[0]
        self.stop_ids = frozenset(self.chat.stop_ids)  # <|eot_id|>, <|eom_id|>, <|end_of_text|>
        self.batcher = Batcher(self.model, self.stop_ids, max_batch_rows)

    @classmethod
    def load(cls, path: Path, device: str = "cpu", dtype: str = "float32",
             names: tuple[str, ...] = (), max_batch_rows: int = 64) -> "ModelService":
        """``names`` default to the directory's name and ``herd`` (the model id herd's own
        ``openai`` backend sends by default)."""
        from herd.lib.llama.config import LocalGeneratorConfig

        generator = LocalGenerator.from_config(LocalGeneratorConfig(model_path=str(path), device=device, dtype=dtype))
        return cls(generator, tuple(names) or (Path(path).name, "herd"), max_batch_rows)

    def close(self) -> None:
        self.batcher.close()

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

    def decode(self, prompts: list[list[int]], params: SamplingParams, deadline: float) -> "Decoding":
        return Decoding(self, prompts, params, deadline)

    def embed(self, inputs: list[list[int]], deadline: float) -> list[torch.Tensor]:
        """Per input, its last hidden states mean-pooled over its tokens, L2-normalised
        (float32), so that a dot product is the cosine similarity."""
        def run() -> list[torch.Tensor]:
            out = []
            device = next(self.model.parameters()).device
            with torch.inference_mode():
                for ids in inputs:
                    if time.monotonic() > deadline:
                        raise timeout_error("embedding")
                    hidden = self.model.hidden_states(torch.tensor([ids], device=device))
                    out.append(F.normalize(hidden[0].float().mean(dim=0), dim=0).cpu())
            return out

        return self.batcher.call(run, deadline)

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
    """``params.n`` samples of each prompt (prompt-major: sample ``s`` of prompt ``p`` is
    ``p * n + s``), decoded by the model's worker as they are sampled (``deltas``),
    possibly in one batch with other requests."""

    service: ModelService
    prompts: list[list[int]]
    params: SamplingParams
    deadline: float
    samples: list[SampleText] = field(init=False)
    job: Job = field(init=False)

    def __post_init__(self):
        s, p = self.service, self.params
        self.samples = [SampleText(s.tokenizer.decode, p.stop, s.stop_ids, min(p.max_tokens, s.context - len(ids)))
                        for ids in self.prompts for _ in range(p.n)]
        self.job = Job(self.prompts, p, self.samples, self.deadline)

    def deltas(self) -> Iterator[tuple[int, str]]:
        """``(sample, text)`` as text becomes certain; every sample is done at the end.
        Closing the iterator early (a client gone) takes the request out of its batch."""
        self.service.batcher.submit(self.job)
        try:
            while True:
                try:
                    event = self.job.events.get(timeout=max(0.0, self.deadline - time.monotonic()))
                except queue.Empty:
                    raise (timeout_error("generation") if self.job.started.is_set() else busy_error()) from None
                if event is END:
                    if self.job.cancelled.is_set():
                        raise timeout_error("generation")  # cancelled from outside: the client is gone
                    return
                if isinstance(event, BaseException):
                    raise event
                yield event
        finally:
            self.job.cancel()

    def cancel(self) -> None:
        self.job.cancel()

    def run(self) -> list[SampleText]:
        for _ in self.deltas():
            pass
        return self.samples

    @property
    def completion_tokens(self) -> int:
        return sum(x.tokens for x in self.samples)
