"""Reading and writing the runner's files: intermediate shards, ``kept/``, ``dropped/``.

Every file is written under a temporary name and renamed when complete, so a killed run
never leaves a half-written file that resume would take as done.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import pickle
from pathlib import Path
from typing import IO, Any, Iterator

from herd.core.atomic import disk_guard, temp_file
from herd.core.records import Document, DroppedRecord
from herd.plugins.curation.sources.records import without_surrogates

try:
    import orjson

    _fast_dumps = orjson.dumps
    loads = orjson.loads
except ImportError:  # pragma: no cover - depends on the environment

    def _fast_dumps(obj: Any) -> bytes:
        return json.dumps(obj, ensure_ascii=False, allow_nan=False).encode("utf-8")

    loads = json.loads


def dumps(obj: Any) -> bytes:
    """One JSON line's bytes. What orjson refuses (lone surrogates, integers over 64 bits)
    is written anyway, never crashing a writer: surrogates become U+FFFD, other values
    their ``str``. Sources validate records, so this is the rare path."""
    try:
        return _fast_dumps(obj)
    except (TypeError, ValueError):
        return json.dumps(_writable(obj), ensure_ascii=False, default=str).encode("utf-8")


def _writable(value: Any) -> Any:
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, dict):
        return {without_surrogates(str(k)): _writable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_writable(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        return str(value)
    return value


_DOC_FIELDS = tuple(Document.__dataclass_fields__)
PARQUET_BATCH = 1000


def doc_to_dict(doc: Document) -> dict[str, Any]:
    """Like ``Document.to_dict`` without the deep copy (it is on the hot path)."""
    out = {}
    for name in _DOC_FIELDS:
        value = getattr(doc, name)
        if name in ("id", "text") or value not in (None, {}):
            out[name] = value
    return out


class _AtomicFile:
    """A binary file written under a temporary name, renamed into place by ``commit``."""

    def __init__(self, path: Path, compress: bool = False):
        self.path = Path(path)
        fd, self.tmp = temp_file(self.path)
        raw = os.fdopen(fd, "wb")
        self.raw = raw
        self.handle: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=3, mtime=0) if compress else raw

    def write(self, data: bytes) -> None:
        with disk_guard(self.path):
            self.handle.write(data)

    def commit(self) -> None:
        with disk_guard(self.path):
            if self.handle is not self.raw:
                self.handle.close()
            self.raw.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        with contextlib.suppress(OSError):  # a full disk fails the final flush too
            self.handle.close()
        if self.handle is not self.raw:
            with contextlib.suppress(OSError):
                self.raw.close()
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)


class ShardWriter:
    """An intermediate shard: one JSON array ``[source_file, record_key, document]`` per line."""

    def __init__(self, path: Path):
        self.file = _AtomicFile(path)
        self.count = 0

    def write(self, doc: Document, source_file: str, key: str) -> None:
        self.file.write(dumps([source_file, key, doc_to_dict(doc)]) + b"\n")
        self.count += 1

    def commit(self) -> None:
        self.file.commit()

    def abort(self) -> None:
        self.file.abort()


def read_shard(path: Path) -> Iterator[tuple[str, str, Document]]:
    """``(source_file, record_key, document)`` of every line."""
    with open(path, "rb") as handle:
        for line in handle:
            source_file, key, data = loads(line)
            yield source_file, key, Document(**data)


class SketchWriter:
    """A corpus step's per-document sketches for one shard: a stream of pickled
    ``(record_key, sketch)`` pairs beside the shard file."""

    def __init__(self, path: Path):
        self.file = _AtomicFile(path)

    def write(self, record_id: str, sketch: Any) -> None:
        self.file.write(pickle.dumps((record_id, sketch), protocol=pickle.HIGHEST_PROTOCOL))

    def commit(self) -> None:
        self.file.commit()

    def abort(self) -> None:
        self.file.abort()


def read_sketches(path: Path) -> Iterator[tuple[str, Any]]:
    with open(path, "rb") as handle:
        while True:
            try:
                yield pickle.load(handle)
            except EOFError:
                return


class KeptWriter:
    """``kept/part-<shard>.jsonl.gz`` (or ``.parquet``): the surviving documents."""

    def __init__(self, directory: Path, shard: str, fmt: str):
        self.fmt = fmt
        self.count = 0
        if fmt == "parquet":
            self.path = directory / f"part-{shard}.parquet"
            self.rows: list[dict[str, Any]] = []
            self.parquet_writer = None
            fd, self.tmp = temp_file(self.path)
            os.close(fd)
        else:
            self.path = directory / f"part-{shard}.jsonl.gz"
            self.file = _AtomicFile(self.path, compress=True)

    def write(self, doc: Document) -> None:
        self.count += 1
        if self.fmt == "parquet":
            self.rows.append(doc_to_parquet_row(doc))
            if len(self.rows) >= PARQUET_BATCH:
                self._flush()
        else:
            self.file.write(dumps(doc_to_dict(doc)) + b"\n")

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(self.rows, schema=parquet_schema())
        with disk_guard(self.path):
            if self.parquet_writer is None:
                self.parquet_writer = pq.ParquetWriter(self.tmp, parquet_schema(), compression="zstd")
            self.parquet_writer.write_table(table)
        self.rows = []

    def commit(self) -> None:
        if self.fmt != "parquet":
            self.file.commit()
            return
        if self.rows or self.parquet_writer is None:
            self._flush()
        with disk_guard(self.path):
            self.parquet_writer.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        if self.fmt != "parquet":
            self.file.abort()
            return
        if self.parquet_writer is not None:
            self.parquet_writer.close()
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)


def parquet_schema():
    import pyarrow as pa

    text = pa.string()
    return pa.schema(
        [
            ("id", text), ("text", text), ("html", text), ("url", text), ("fetch_time", text),
            ("language", text), ("source", text), ("domain", text),
            ("metadata", text),  # JSON: its keys differ from record to record
            ("scores", pa.map_(text, pa.float64())),
        ]
    )


def doc_to_parquet_row(doc: Document) -> dict[str, Any]:
    row = {name: getattr(doc, name) for name in _DOC_FIELDS}
    row["metadata"] = json.dumps(doc.metadata, ensure_ascii=False, default=str) if doc.metadata else None
    row["scores"] = list(doc.scores.items()) if doc.scores else None
    return row


class DroppedWriter:
    """``dropped/<pass>-<shard>.jsonl.gz``: every removed record with its reason."""

    def __init__(self, path: Path, text_chars: int):
        self.path = path
        self.text_chars = text_chars
        self.file: _AtomicFile | None = None
        self.count = 0

    def write(self, record: DroppedRecord) -> None:
        if self.file is None:
            self.file = _AtomicFile(self.path, compress=True)
        if len(record.text) > self.text_chars:
            record.text = record.text[: self.text_chars]
            record.detail = f"{record.detail} [text truncated to {self.text_chars} characters]".strip()
        self.file.write(dumps(record.to_dict()) + b"\n")
        self.count += 1

    def commit(self) -> None:
        if self.file is not None:
            self.file.commit()

    def abort(self) -> None:
        if self.file is not None:
            self.file.abort()


def read_dropped(directory: Path) -> Iterator[dict[str, Any]]:
    for path in sorted(Path(directory).glob("*.jsonl.gz")):
        with gzip.open(path, "rb") as handle:
            for line in handle:
                yield loads(line)
