"""JSONL in and out for the math commands: every input line becomes one output row.

A line that is not a JSON object is reported with its file and line number and written
out as ``{"line": N, "error": ...}``; a row missing a field keeps its content and gets
an ``error``. Nothing is dropped, so output line N answers input line N.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from herd.core.errors import InputError


@dataclass
class Row:
    """One input line: ``data`` is the parsed object, or empty with ``error`` set."""

    line: int
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def text(self, key: str) -> str | None:
        """The string field ``key``, or ``None`` (with ``error`` set) when it is missing."""
        value = self.data.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str):
            return value
        self.error = self.error or f"missing field '{key}' (a string)"
        return None


def read_rows(path: Path) -> Iterator[Row]:
    if not path.is_file():
        raise InputError(f"{path}: no such file (give a JSONL file with --input)")
    with path.open(encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as err:
                yield Row(number, error=f"{path}:{number}: not valid JSON ({err.msg})")
                continue
            if not isinstance(data, dict):
                yield Row(number, error=f"{path}:{number}: expected a JSON object, got {type(data).__name__}")
                continue
            yield Row(number, data)


def write_rows(path: Path, rows: Iterator[dict[str, Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count
