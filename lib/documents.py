"""Documents on disk as the plugins that read a corpus see them: ``read_kept``, the curate
stage's ``kept/`` (and the mix's ``mixed/``) folders as full ``Document`` records (domain,
language, scores: what a miner filters on); ``read_documents``, plain text documents:
JSON Lines records (``text``, and ``id`` when present; ``.gz`` too) or text files split at
blank lines."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from herd.core.errors import InputError
from herd.core.records import Document

_BLANK_LINE = re.compile(r"\n\s*\n")


try:  # orjson parses curated lines ~3x faster; json is the fallback with the same result
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - orjson is in the curation extra
    _loads = json.loads

# Rows of a kept/ parquet file read at a time (the curate stage writes them in such batches).
PARQUET_BATCH = 1000


def read_kept(directory: Path) -> Iterator[Document]:
    """Every document of a curate stage's ``kept/`` (or the mix's ``mixed/``) folder, in
    file-name order. A line that is not a curated document is an error naming file and line."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: no such folder of curated documents (a curate stage's kept/ or a mix's mixed/)")
    for path in sorted(directory.iterdir()):
        if path.name.endswith(".jsonl.gz"):
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    try:
                        yield Document(**_loads(line))
                    except (ValueError, TypeError) as err:
                        raise InputError(f"{path}:{number}: not a curated document ({err})") from None
        elif path.name.endswith(".parquet"):
            yield from _parquet_documents(path)


def _parquet_documents(path: Path) -> Iterator[Document]:
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH):
        for row in batch.to_pylist():
            row["metadata"] = json.loads(row["metadata"]) if row.get("metadata") else {}
            row["scores"] = dict(row["scores"]) if row.get("scores") else {}
            yield Document(**row)


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
