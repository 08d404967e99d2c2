"""Calls of a ``protocols.Generator`` whose answer is checked to hold one list per prompt
(or conversation): a backend that returns fewer or more would silently pair answers with
the wrong prompts, so the call fails instead, naming the backend."""

from __future__ import annotations

from typing import Protocol

from herd.core.protocols import ChatReply, Generator, SamplingParams
from herd.core.records import ChatMessage


class TextGenerator(Protocol):
    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[str]]: ...


def generate_checked(generator: TextGenerator, prompts: list[str], params: SamplingParams) -> list[list[str]]:
    """``generator.generate(prompts, params)``, one list of completions per prompt."""
    outputs = generator.generate(prompts, params)
    if len(outputs) != len(prompts):
        raise RuntimeError(f"{type(generator).__name__}.generate returned {len(outputs)} results for "
                           f"{len(prompts)} prompts; a Generator returns one list per prompt")
    return outputs


def chat_checked(generator: Generator, conversations: list[list[ChatMessage]],
                 params: SamplingParams) -> list[list[ChatReply]]:
    """``generator.chat(conversations, params)``, one list of replies per conversation."""
    replies = generator.chat(conversations, params)
    if len(replies) != len(conversations):
        raise RuntimeError(f"{type(generator).__name__}.chat returned {len(replies)} results for "
                           f"{len(conversations)} conversations; a Generator returns one list per conversation")
    return replies
