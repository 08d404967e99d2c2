"""Text documents on disk as the plugins that search or quote a corpus read them: JSON
Lines records (``text``, and ``id`` when present; ``.gz`` too), as the curate stage's
``kept/`` files hold them, or text files split at blank lines."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from herd.core.errors import InputError

_BLANK_LINE = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class TextDocument:
    id: str
    text: str


def read_documents(path: Path, what: str) -> Iterator[TextDocument]:
    """The documents of ``path``; ``what`` names the setting that pointed at it, for errors.
    A JSONL line that is not JSON is an error naming the file and line; records without a
    non-empty string ``text`` are skipped."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what}: document file {path} does not exist")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        if ".jsonl" not in path.suffixes:
            blocks = [b.strip() for b in _BLANK_LINE.split(handle.read()) if b.strip()]
            for i, block in enumerate(blocks, 1):
                yield TextDocument(f"{path.name}:{i}", block)
            return
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{line_no} is not JSON: {exc.msg}") from None
            text = record.get("text") if isinstance(record, dict) else None
            if isinstance(text, str) and text.strip():
                yield TextDocument(str(record.get("id", f"{path.name}:{line_no}")), text.strip())
