"""SFT and preference rows as JSONL: what the posttrain stage writes (its round data and
each ``PostTrainJob``'s data file) and what trainer processes read, without the posttrain
plugin. Messages are ``ChatMessage.to_dict``; a one-message plain response is its text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from herd.core.errors import InputError
from herd.core.records import ChatMessage, PreferenceRow, SFTRow, ToolCall, text_response


def message_from_dict(data: dict[str, Any]) -> ChatMessage:
    calls = [ToolCall(name=c["name"], arguments=dict(c.get("arguments") or {}), id=c.get("id"))
             for c in data.get("tool_calls") or []]
    return ChatMessage(role=data["role"], content=data["content"], name=data.get("name"), tool_calls=calls)


# The typed labels of an SFT row, written only when set (a row no judge has seen has none).
_SFT_LABELS = ("language", "source", "topic", "quality", "difficulty")


def sft_row_to_dict(row: SFTRow) -> dict[str, Any]:
    out = {"id": row.id, "messages": [m.to_dict() for m in row.messages], "capability": row.capability,
           "category": row.category, "scores": row.scores, "metadata": row.metadata}
    out.update({key: getattr(row, key) for key in _SFT_LABELS if getattr(row, key) is not None})
    return out


def preference_row_to_dict(row: PreferenceRow) -> dict[str, Any]:
    return {"id": row.id, "prompt": [m.to_dict() for m in row.prompt],
            "responses": [_response_to_json(turns) for turns in row.responses], "margin": row.margin,
            "capability": row.capability, "round": row.round, "metadata": row.metadata}


def _response_to_json(turns: list[ChatMessage]) -> str | list[dict[str, Any]]:
    if len(turns) == 1 and turns[0].role == "assistant" and not turns[0].tool_calls and turns[0].name is None:
        return turns[0].content
    return [m.to_dict() for m in turns]


def sft_row_from_dict(data: dict[str, Any]) -> SFTRow:
    return SFTRow(id=str(data["id"]), messages=[message_from_dict(m) for m in data["messages"]],
                  capability=data.get("capability", "general"), category=data.get("category", "general"),
                  scores=dict(data.get("scores") or {}), metadata=dict(data.get("metadata") or {}),
                  language=data.get("language"), source=data.get("source"), topic=data.get("topic"),
                  quality=_optional_int(data.get("quality")), difficulty=_optional_int(data.get("difficulty")))


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def preference_row_from_dict(data: dict[str, Any]) -> PreferenceRow:
    responses = [text_response(r) if isinstance(r, str) else [message_from_dict(m) for m in r]
                 for r in data["responses"]]
    return PreferenceRow(id=str(data["id"]), prompt=[message_from_dict(m) for m in data["prompt"]],
                         responses=responses, margin=int(data.get("margin", 1)),
                         capability=data.get("capability", "general"), round=int(data.get("round", 0)),
                         metadata=dict(data.get("metadata") or {}))


def write_rows(path: Path, rows: Sequence[SFTRow | PreferenceRow]) -> Path:
    """``rows`` (all SFT or all preference rows) as a job's JSONL data file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            record = sft_row_to_dict(row) if isinstance(row, SFTRow) else preference_row_to_dict(row)
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def read_sft_rows(path: Path) -> list[SFTRow]:
    return [sft_row_from_dict(r) for r in _records(path, "messages")]


def read_preference_rows(path: Path) -> list[PreferenceRow]:
    return [preference_row_from_dict(r) for r in _records(path, "responses")]


def _records(path: Path, required: str) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"post-training job data {path} does not exist")
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} line {number}: invalid JSON ({exc.msg})") from None
        if not isinstance(record, dict) or required not in record or "id" not in record:
            raise InputError(f"{path} line {number}: expected a row with 'id' and '{required}' "
                             "(write job data with herd.lib.posttraining.rows.write_rows)")
        out.append(record)
    return out
