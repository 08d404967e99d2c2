"""The text of an SFT row's parts, as judges and the SFT funnel read them."""

from __future__ import annotations

from herd.core.records import ChatMessage, SFTRow


def user_text(row: SFTRow) -> str:
    """The user's turns of an SFT row, joined (what topic and difficulty judge)."""
    return "\n\n".join(m.content for m in row.messages if m.role == "user")


def last_response(row: SFTRow) -> str:
    for message in reversed(row.messages):
        if message.role == "assistant":
            return message.content
    return ""


def conversation_text(row: SFTRow) -> str:
    return "\n\n".join(f"{m.role}: {m.content}" for m in row.messages)


def turns_text(turns: list[ChatMessage]) -> str:
    """A response's messages as one text (what similarity checks compare): each message's
    content, and its tool calls, in order."""
    parts = []
    for message in turns:
        parts.append(message.content)
        parts.extend(f"{call.name}({call.arguments})" for call in message.tool_calls)
    return "\n".join(parts)
