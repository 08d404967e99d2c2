"""A model's responses to BFCL questions: greedy, one per question, written back as the
raw text BFCL's result files hold."""

from __future__ import annotations

from dataclasses import dataclass

from herd.core.protocols import Generator, SamplingParams
from herd.core.records import ChatMessage
from herd.lib.chat.format import PYTHON_TAG
from herd.lib.chat.tools import render_call
from herd.plugins.tools.bfcl.prompting import conversation
from herd.plugins.tools.bfcl.rows import BfclQuestion, BfclResponse


@dataclass(frozen=True)
class Generated:
    """``unanswered``: ids the backend returned nothing for (a prompt longer than the
    model's context); their response is empty text, which scores as no call."""

    responses: dict[str, BfclResponse]
    unanswered: list[str]


def reply_text(message: ChatMessage) -> str:
    """The raw text of a generated turn: calls the backend already parsed are written back
    in the format they came in."""
    if not message.tool_calls:
        return message.content
    rendered = [render_call(call) for call in message.tool_calls]
    if all(r.builtin for r in rendered):
        return message.content + PYTHON_TAG + "\n".join(r.text for r in rendered)
    return message.content + "\n".join(r.text for r in rendered)


def generate_responses(generator: Generator, questions: list[BfclQuestion], max_tokens: int) -> Generated:
    params = SamplingParams(temperature=0.0, max_tokens=max_tokens, n=1, seed=0)
    replies = generator.chat([conversation(q) for q in questions], params)
    responses = {q.id: BfclResponse(q.id, reply_text(r[0].message) if r else "") for q, r in zip(questions, replies)}
    return Generated(responses, [q.id for q, r in zip(questions, replies) if not r])
