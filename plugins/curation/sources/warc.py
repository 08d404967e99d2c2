"""WARC files (plain or gzip-compressed per record), read with fastwarc.

Every HTTP ``response`` record whose content type is HTML becomes a ``Document`` with
``html``, ``url`` (``WARC-Target-URI``), ``fetch_time`` (``WARC-Date``) and ``id``
(``WARC-Record-ID``); other records (requests, metadata, images) are not documents and are
skipped without counting. A record shorter than its ``Content-Length`` or a gzip member cut
off at the end of the file is reported as ``read.truncated`` with its byte offset; the
records before it are kept.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Iterator

from herd.core.protocols import Malformed
from herd.core.records import Document
from herd.plugins.curation.sources.records import without_surrogates

HTML_TYPES = ("text/html", "application/xhtml+xml")


def _split_http(block: bytes) -> tuple[int | None, dict[str, str], bytes]:
    head, sep, body = block.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = block.partition(b"\n\n")
    if not sep:
        return None, {}, b""
    lines = head.decode("iso-8859-1").splitlines()
    status: int | None = None
    if lines and lines[0].startswith("HTTP/"):
        parts = lines[0].split()
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return status, headers, body


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def _decode(body: bytes, declared: str | None) -> str | None:
    """The page's text in its declared charset, else UTF-8, else the detected one; lone
    surrogates (a UTF-7 page can encode them) become U+FFFD, as no writer can store them."""
    text = _decode_any(body, declared)
    return without_surrogates(text) if text is not None else None


def _decode_any(body: bytes, declared: str | None) -> str | None:
    candidates = [declared] if declared else []
    candidates.append("utf-8")
    for encoding in candidates:
        try:
            return body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    try:  # resiliparse guesses the encoding of undeclared legacy pages (cp1252, gbk...)
        from resiliparse.parse.encoding import detect_encoding

        return body.decode(detect_encoding(body))
    except (ImportError, UnicodeDecodeError, LookupError):
        return None


def _gzip_tail_complete(path: Path, offset: int) -> bool:
    """Whether the gzip members from ``offset`` to the end of the file are complete."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read()
    while data:
        decompressor = zlib.decompressobj(wbits=31)
        try:
            decompressor.decompress(data)
        except zlib.error:
            return False
        if not decompressor.eof:
            return False
        data = decompressor.unused_data
    return True


class WarcSource:
    def __init__(self, config: object = None):
        self.config = config

    def read(self, path: Path) -> Iterator[Document | Malformed]:
        from fastwarc.warc import ArchiveIterator, WarcRecordType

        path = Path(path)
        last_pos = 0
        last_truncated = False
        try:
            with open(path, "rb") as handle:
                records = ArchiveIterator(handle, record_types=WarcRecordType.response, parse_http=False)
                for record in records:
                    last_pos = record.stream_pos
                    item = self._record(record, f"{path}: record at byte offset {record.stream_pos}")
                    last_truncated = isinstance(item, Malformed) and item.reason == "read.truncated"
                    if item is not None:
                        yield item
        except Exception as exc:
            yield Malformed(f"{path}: after byte offset {last_pos}", "read.unreadable", f"{type(exc).__name__}: {exc}")
            return
        if path.name.endswith(".gz") and not last_truncated and not _gzip_tail_complete(path, last_pos):
            yield Malformed(
                f"{path}: after the record at byte offset {last_pos}",
                "read.truncated",
                "the file ends inside a gzip member (truncated download or copy)",
            )

    @staticmethod
    def _record(record, where: str) -> Document | Malformed | None:
        headers = record.headers
        declared = headers.get("Content-Length")
        block = record.reader.read()
        if not declared or not declared.strip().isdigit() or int(declared) != len(block):
            return Malformed(where, "read.truncated", f"Content-Length {declared!r}, {len(block)} bytes present")
        status, http, body = _split_http(block)
        content_type = http.get("content-type", "").lower()
        if not any(content_type.startswith(t) for t in HTML_TYPES):
            return None  # not a web page (image, PDF, robots.txt...)
        record_id = (headers.get("WARC-Record-ID") or "").strip("<>")
        if not record_id:
            return Malformed(where, "read.missing_id", "")
        if status is not None and status != 200:
            return Malformed(where, "read.http_status", f"HTTP status {status}", id=record_id)
        html = _decode(body, _charset(content_type))
        if html is None:
            return Malformed(where, "read.invalid_encoding", f"{body[:200]!r}", id=record_id)
        if not html.strip():
            return Malformed(where, "read.empty", "", id=record_id)
        return Document(
            id=record_id,
            html=html,
            url=without_surrogates(headers.get("WARC-Target-URI") or "") or None,
            fetch_time=headers.get("WARC-Date") or None,
        )
