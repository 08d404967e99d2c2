"""``Generator.chat`` for a backend that only completes text.

A third-party generator that implements ``generate(prompts, params)`` gets ``chat`` by
inheriting ``TextChatMixin`` (or by calling ``chat_via_generate``): each conversation is
rendered with the one Llama 3.1 format (``render_text``, generation prompt included) and
each completion is read back as a typed assistant turn.

A text backend does not say which token ended a completion, so the finish reason is read
from the text: a built-in tool call (after ``<|python_tag|>``) ends with ``<|eom_id|>``
(``"end_of_message"``), anything else is taken as ``"end_of_turn"``. A backend that knows
better (herd's ``local`` and ``hf`` generators, an OpenAI chat endpoint) implements
``chat`` itself.
"""

from __future__ import annotations

from typing import Callable, Sequence

from herd.core.protocols import ChatReply, SamplingParams
from herd.core.records import ChatMessage
from herd.lib.chat.checked import TextGenerator, generate_checked
from herd.lib.chat.format import PYTHON_TAG, render_text, reply_message



def read_text_reply(text: str) -> ChatReply:
    """A completion (terminator already cut) as a typed assistant turn."""
    if PYTHON_TAG in text:
        content, call = text.split(PYTHON_TAG, 1)
        message = reply_message(content, call)
        return ChatReply(message, "end_of_message")
    return ChatReply(reply_message(text, None), "end_of_turn")


def chat_via_generate(generator: TextGenerator, conversations: list[list[ChatMessage]], params: SamplingParams,
                      render: Callable[[Sequence[ChatMessage]], str] = render_text) -> list[list[ChatReply]]:
    """``params.n`` replies per conversation through ``generator.generate``; a
    conversation the backend cannot answer (no completions) gets an empty list."""
    prompts = [render(conversation) for conversation in conversations]
    outputs = generate_checked(generator, prompts, params)
    return [[read_text_reply(text) for text in texts] for texts in outputs]


class TextChatMixin:
    """Gives a class with ``generate`` the ``chat`` method of ``protocols.Generator``."""

    def chat(self, conversations: list[list[ChatMessage]], params: SamplingParams) -> list[list[ChatReply]]:
        return chat_via_generate(self, conversations, params)  # type: ignore[arg-type]
