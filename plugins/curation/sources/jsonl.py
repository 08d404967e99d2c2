"""JSON Lines, plain or compressed with gzip, zstandard, bzip2 or xz.

Lines are read as bytes and decoded one by one, so invalid UTF-8 or broken JSON on one line
drops that line only. A truncated compressed file keeps every complete line read before
the damage and reports the truncation as one ``Malformed`` naming the file and offset.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
from pathlib import Path
from typing import IO, Iterator

from herd.core.protocols import Malformed
from herd.core.records import Document
from herd.plugins.curation.sources.records import preview, to_document

try:  # orjson is 3-5x faster at parsing; the standard library is the fallback
    import orjson

    _loads = orjson.loads
    _JSONError: tuple[type[Exception], ...] = (orjson.JSONDecodeError, ValueError)
except ImportError:  # pragma: no cover - depends on the environment
    _loads = json.loads
    _JSONError = (ValueError,)

CHUNK = 1 << 20


def _open(path: Path) -> IO[bytes]:
    name = path.name
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".zst") or name.endswith(".zstd"):
        return _ZstdReader(path)
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    if name.endswith(".xz"):
        return lzma.open(path, "rb")
    return open(path, "rb")


class _ZstdReader:
    """Decompresses zstandard frames one after another; unlike ``stream_reader`` it raises
    when the file ends inside a frame (zstandard's reader just stops there)."""

    def __init__(self, path: Path):
        import zstandard

        self._new = zstandard.ZstdDecompressor().decompressobj
        self._file = open(path, "rb")
        self._frame = self._new()

    def read1(self, size: int = CHUNK) -> bytes:
        while True:
            data = self._file.read(size)
            if not data:
                if not self._frame.eof:
                    raise EOFError("the file ends inside a zstandard frame")
                return b""
            out = b""
            while data:
                out += self._frame.decompress(data)
                data = b""
                if self._frame.eof and self._frame.unused_data:
                    data = self._frame.unused_data
                    self._frame = self._new()
            if out:
                return out

    def __enter__(self) -> "_ZstdReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()


def _lines(handle: IO[bytes]) -> Iterator[tuple[bytes, int]]:
    """Yield (line without newline, byte offset in the decompressed stream); raises the
    decompressor's error after the last complete line when the file is damaged."""
    offset = 0
    pending = b""
    # read1 returns what one decompression step gives: a damaged file loses only the
    # bytes after the damage, where read(n) would raise before returning any of them
    read = getattr(handle, "read1", None) or handle.read
    while True:
        chunk = read(CHUNK)
        if not chunk:
            break
        pending += chunk
        start = 0
        while True:
            end = pending.find(b"\n", start)
            if end < 0:
                break
            yield pending[start:end], offset + start
            start = end + 1
        offset += start
        pending = pending[start:]
    if pending:
        yield pending, offset


class JsonlSource:
    """Reads ``.jsonl``/``.json``/``.ndjson`` files, plain or ``.gz``/``.zst``/``.bz2``/``.xz``.
    Only the file's own failures (decompression, I/O) end the reading; anything one line
    does to the parser drops that line alone."""

    def __init__(self, config: object = None):
        self.config = config

    def read(self, path: Path) -> Iterator[Document | Malformed]:
        path = Path(path)
        line_no = 0
        last_offset = 0
        try:
            with _open(path) as handle:
                for raw, offset in _lines(handle):
                    line_no += 1
                    last_offset = offset
                    if not raw.strip():
                        continue  # blank lines are not records
                    yield self._parse(raw, f"{path}:{line_no}")
        except Exception as exc:  # gzip: EOFError/BadGzipFile; zstandard: ZstdError
            yield Malformed(
                f"{path}: after line {line_no} (decompressed byte offset {last_offset})",
                "read.truncated",
                f"{type(exc).__name__}: {exc}",
            )

    @classmethod
    def _parse(cls, raw: bytes, where: str) -> Document | Malformed:
        try:
            return cls._parse_line(raw, where)
        except Exception as exc:  # RecursionError, MemoryError...: this record, not the file
            return Malformed(where, "read.bad_record", f"{type(exc).__name__}: {exc}; line starts {raw[:200]!r}")

    @staticmethod
    def _parse_line(raw: bytes, where: str) -> Document | Malformed:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Malformed(where, "read.invalid_utf8", f"{exc}; line starts {raw[:200]!r}")
        try:
            record = _loads(raw)
        except _JSONError as exc:
            return Malformed(where, "read.malformed_json", f"{exc}; line: {preview(raw.decode('utf-8'))}")
        return to_document(record, where)
