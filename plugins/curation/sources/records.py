"""Turning one raw input record (a dict) into a ``Document`` or a ``Malformed``.

Shared by every source so that the rules are the same whatever the file format: a record
needs a non-empty ``id`` and a non-empty ``text`` or ``html``; ``url``, ``fetch_time``,
``language``, ``source``, ``domain`` and ``metadata`` are optional; other fields are kept in
``metadata``.
"""

from __future__ import annotations

import json
from typing import Any

from herd.core.protocols import Malformed
from herd.core.records import Document

_STRING_FIELDS = ("url", "fetch_time", "language", "source", "domain")
RAW_PREVIEW = 2000  # characters of a bad record kept for inspection in dropped/


def preview(raw: Any) -> str:
    text = raw if isinstance(raw, str) else repr(raw)
    return text[:RAW_PREVIEW]


def to_document(record: Any, where: str) -> Document | Malformed:
    if not isinstance(record, dict):
        return Malformed(where, "read.not_an_object", preview(record))
    raw_id = record.get("id")
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        return Malformed(where, "read.missing_id", preview(record))
    if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool):
        return Malformed(where, "read.bad_id", preview(record), id=str(raw_id))
    doc_id = str(raw_id)
    text = record.get("text")
    html = record.get("html")
    for name, value in (("text", text), ("html", html)):
        if value is not None and not isinstance(value, str):
            return Malformed(where, f"read.bad_{name}", preview(record), id=doc_id)
    if not (text and text.strip()) and not (html and html.strip()):
        return Malformed(where, "read.empty", preview(record), id=doc_id)
    for name in _STRING_FIELDS:
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            record = {**record, name: str(value)}
    metadata = record.get("metadata")
    if isinstance(metadata, str):  # Parquet files (herd's own kept/ too) hold it as JSON
        try:
            metadata = json.loads(metadata) if metadata.strip() else None
        except ValueError:
            return Malformed(where, "read.bad_metadata", preview(record), id=doc_id)
        record = {**record, "metadata": metadata}
    if metadata is not None and not isinstance(metadata, dict):
        return Malformed(where, "read.bad_metadata", preview(record), id=doc_id)
    scores = record.get("scores")
    if scores is not None and not isinstance(scores, dict):
        return Malformed(where, "read.bad_scores", preview(record), id=doc_id)
    data = {k: v for k, v in record.items() if v is not None}
    data["id"] = doc_id
    data.setdefault("text", "")
    return Document.from_dict(data)
