"""Turning one raw input record (a dict) into a ``Document`` or a ``Malformed``.

Shared by every source so that the rules are the same whatever the file format: a record
needs a non-empty ``id`` and a non-empty ``text`` or ``html``; ``url``, ``fetch_time``,
``language``, ``source``, ``domain``, ``metadata`` and ``scores`` are optional; other fields
are kept in ``metadata``. What the runner must later write is validated here, so that a bad
record is dropped with a reason at read time instead of failing a writer: ``metadata`` (and
the extra fields) must be JSON nested at most ``MAX_NESTING`` deep, ``scores`` must map
names to finite numbers.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from herd.core.protocols import Malformed
from herd.core.records import Document

_STRING_FIELDS = ("url", "fetch_time", "language", "source", "domain")
_TEXT_FIELDS = ("id", "text", "html", *_STRING_FIELDS)
RAW_PREVIEW = 2000  # characters of a bad record kept for inspection in dropped/
# Deeper JSON is no document's metadata; it is an attack on the parser and the writers
# (orjson refuses to write more than 255 levels).
MAX_NESTING = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """``text`` with lone surrogates (what a UTF-7 or a broken UTF-16 page decodes to, and
    no UTF-8 file can hold) replaced by U+FFFD."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def nesting(value: Any, limit: int) -> int:
    """How deep lists and dicts nest in ``value``, counted without recursion and up to
    ``limit + 1`` (enough to know it is too deep)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, (dict, list)):
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


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
        except (ValueError, RecursionError) as exc:
            return Malformed(where, "read.bad_metadata", f"{type(exc).__name__}: {exc}; {preview(record)}", id=doc_id)
        record = {**record, "metadata": metadata}
    if metadata is not None and not isinstance(metadata, dict):
        return Malformed(where, "read.bad_metadata", f"not a JSON object; {preview(record)}", id=doc_id)
    extra = {k: v for k, v in record.items() if k not in _TEXT_FIELDS}
    if nesting(extra, MAX_NESTING) > MAX_NESTING:
        return Malformed(where, "read.bad_metadata", f"metadata nested deeper than {MAX_NESTING} levels", id=doc_id)
    scores, problem = _scores(record.get("scores"))
    if problem:
        return Malformed(where, "read.bad_scores", f"{problem}; {preview(record)}", id=doc_id)
    data = {k: v for k, v in record.items() if v is not None}
    if scores is not None:
        data["scores"] = scores
    data["id"] = doc_id
    data.setdefault("text", "")
    return Document.from_dict(data)


def _scores(scores: Any) -> tuple[dict[str, float] | None, str]:
    """``scores`` as names to floats, or the reason it is not that."""
    if scores is None:
        return None, ""
    if isinstance(scores, list) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in scores):
        scores = dict(scores)  # a Parquet map column (herd's own kept/ files) reads as pairs
    if not isinstance(scores, dict):
        return None, f"scores must be an object of name: number, got {type(scores).__name__}"
    clean = {}
    for name, value in scores.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, f"scores[{str(name)[:100]!r}] = {str(value)[:100]!r} is not a number"
        number = float(value) if isinstance(value, float) or abs(value) < 2**1000 else math.inf
        if not math.isfinite(number):
            return None, f"scores[{str(name)[:100]!r}] = {value} is not a finite number"
        clean[str(name)] = number
    return clean, ""
