"""Import of native (human-written, not translated) multilingual SFT data: JSONL, one
conversation a line: ``{"messages": [{"role": ..., "content": ...}], "language": "fr",
"id": ...}`` (``language`` and ``id`` optional). Bad lines raise an error naming the file,
line and reason, since human data is curated and a broken line is a broken export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from herd.core.errors import InputError
from herd.core.records import ChatMessage, SFTRow

ROLES = {"system", "user", "assistant", "ipython"}


def read_native(path: Path) -> Iterator[SFTRow]:
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"native data {path} cannot be opened: {exc}") from None
    with handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield _row(json_line(line, path, number), path, number)


def json_line(line: str, path: Path, number: int) -> dict:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{number}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}:{number}: expected a JSON object, got {type(data).__name__}")
    return data


def _row(data: dict, path: Path, number: int) -> SFTRow:
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InputError(f"{path}:{number}: 'messages' must be a non-empty list")
    parsed = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES or not isinstance(message.get("content"), str):
            raise InputError(
                f"{path}:{number}: message {i} needs a role in {sorted(ROLES)} and a string content, got {message!r}"
            )
        parsed.append(ChatMessage(message["role"], message["content"], message.get("name")))
    if not any(m.role == "assistant" for m in parsed):
        raise InputError(f"{path}:{number}: the conversation has no assistant message")
    metadata = {k: v for k, v in data.items() if k not in ("messages", "language", "id")}
    return SFTRow(
        id=str(data.get("id", f"{path.stem}:{number}")),
        messages=parsed,
        capability="multilingual",
        category=str(data.get("category", "native")),
        language=data.get("language"),
        source=str(path),
        metadata={**metadata, "native": True, "translated": False},
    )
