"""Examples of the documents curation dropped, a few per reason, from the curate stage's
``dropped/*.jsonl.gz`` (one ``herd.core.records.DroppedRecord`` per line), reasons in the
order of the funnel's steps. The text is shortened here; the report's writers escape it."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any, Iterator

from herd.core.errors import InputError
from herd.core.records import DroppedRecord

PER_REASON = 3
MAX_CHARS = 240


def collect_dropped(inputs: dict[str, Path], funnel: list[dict[str, Any]]) -> dict[str, list[DroppedRecord]]:
    """Up to ``PER_REASON`` records per drop reason, reasons in funnel order; reading stops
    once every reason the funnel counted has its examples."""
    folder = inputs.get("curate")
    if folder is None or not (folder / "dropped").is_dir():
        return {}
    known = [reason for row in funnel for reason in (row.get("drops") or {})]
    found: dict[str, list[DroppedRecord]] = {}
    for record in _records(folder / "dropped"):
        picked = found.setdefault(record.reason, [])
        if len(picked) < PER_REASON:
            picked.append(record)
        if known and all(len(found.get(r, [])) >= PER_REASON for r in known):
            break
    rank = {reason: i for i, reason in enumerate(known)}
    return {r: found[r] for r in sorted(found, key=lambda r: (rank.get(r, len(rank)), r))}


def _records(folder: Path) -> Iterator[DroppedRecord]:
    for path in sorted(folder.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                try:
                    yield DroppedRecord(**json.loads(line))
                except (json.JSONDecodeError, TypeError) as exc:
                    raise InputError(f"{path} line {number}: not a dropped record ({exc}); "
                                     "re-run the curate stage") from exc


def dropped_section(examples: dict[str, list[DroppedRecord]]) -> tuple[str, list[str], list[list[str]], None] | None:
    if not examples:
        return None
    rows = [[reason, record.id, record.detail, excerpt(record.text)]
            for reason, records in examples.items() for record in records]
    return ("Dropped documents (examples)", ["reason", "document", "detail", "text (start)"], rows, None)


def excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS] + "…"
