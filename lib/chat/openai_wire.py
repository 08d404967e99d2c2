"""Typed messages in OpenAI's chat JSON (``/v1/chat/completions``) and Hugging Face's
(``apply_chat_template``), and back: the one mapping ``herd serve``, the ``openai``
backend and the chat-template tests share.

A tool call is ``{"id", "type": "function", "function": {"name", "arguments"}}``; OpenAI
sends ``arguments`` as a JSON string, Hugging Face templates take a mapping. A tool's
result is a ``tool`` message whose ``tool_call_id`` names the call it answers: herd pairs
an ``ipython`` message with the latest call before it that has no result yet, and gives a
call without an ``id`` the id ``call_{message index}``.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from herd.core.errors import InputError
from herd.core.records import ChatMessage, ToolCall


def _call_id(call: ToolCall, index: int) -> str:
    return call.id or f"call_{index}"


def to_wire(messages: Sequence[ChatMessage], *, json_arguments: bool = True) -> list[dict[str, Any]]:
    """OpenAI messages (``json_arguments``: arguments as a JSON string) or, without it,
    Hugging Face chat-template messages (arguments as a mapping, ``ipython`` role kept)."""
    out: list[dict[str, Any]] = []
    pending: list[str] = []
    for i, m in enumerate(messages):
        role = "tool" if m.role in ("ipython", "tool") and json_arguments else m.role
        item: dict[str, Any] = {"role": role, "content": m.content}
        if m.tool_calls:
            item["tool_calls"] = [
                {"id": _call_id(c, i), "type": "function",
                 "function": {"name": c.name,
                              "arguments": json.dumps(c.arguments, ensure_ascii=False) if json_arguments
                              else c.arguments}}
                for c in m.tool_calls
            ]
            pending = [_call_id(c, i) for c in m.tool_calls]
        if m.role in ("ipython", "tool"):
            if pending:
                item["tool_call_id"] = pending.pop(0)
            if m.name:
                item["name"] = m.name
        out.append(item)
    return out


def from_wire(item: Any, index: int) -> ChatMessage:
    """One OpenAI / Hugging Face message as a typed ``ChatMessage``; ``InputError`` names
    the message and what is wrong with it."""
    if not isinstance(item, dict) or not isinstance(item.get("role"), str):
        raise InputError(f"message {index} must be an object with a 'role'")
    content = item.get("content")
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise InputError(f"message {index}: 'content' must be a string (herd has no multi-part content)")
    calls = [_tool_call(c, index, j) for j, c in enumerate(item.get("tool_calls") or [])]
    return ChatMessage(item["role"], content, name=item.get("name"), tool_calls=calls)


def _tool_call(raw: Any, index: int, j: int) -> ToolCall:
    where = f"message {index} tool_calls[{j}]"
    function = raw.get("function") if isinstance(raw, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise InputError(f"{where} must be {{'type': 'function', 'function': {{'name': ..., 'arguments': ...}}}}")
    arguments = function.get("arguments") or {}
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: arguments are not valid JSON ({exc})") from None
    if not isinstance(arguments, dict):
        raise InputError(f"{where}: arguments must be a JSON object")
    return ToolCall(function["name"], arguments, raw.get("id"))
