"""Plain text files (``.txt``): one document per file, or one per non-blank line
(``[sources.text] unit``). UTF-8 is required; a file or line that is not UTF-8 is dropped
with ``read.invalid_utf8`` naming it. A document's id is the file's path (plus ``:<line>``
per line), so it is the same on every run over the same files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Iterator

from herd.core.errors import ConfigError
from herd.core.protocols import Malformed
from herd.core.records import Document

UNITS = ("file", "line")


@dataclass
class TextSourceConfig:
    """``unit``: ``file`` (the whole file is one document) or ``line`` (every non-blank line
    is one). ``max_file_bytes``: a larger file is dropped unread (``read.too_large``) rather
    than loaded whole into memory in ``file`` mode."""

    unit: str = "file"
    max_file_bytes: int = 50_000_000

    PROFILES: ClassVar[dict[str, dict]] = {}


class TextSource:
    def __init__(self, config: TextSourceConfig | None = None):
        self.config = config or TextSourceConfig()
        if self.config.unit not in UNITS:
            raise ConfigError(f"[sources.text] unit must be one of {UNITS}, got {self.config.unit!r}")

    def read(self, path: Path) -> Iterator[Document | Malformed]:
        path = Path(path)
        if self.config.unit == "line":
            yield from self._lines(path)
            return
        size = path.stat().st_size
        if size > self.config.max_file_bytes:
            yield Malformed(str(path), "read.too_large",
                            f"{size} bytes > [sources.text] max_file_bytes = {self.config.max_file_bytes}")
            return
        yield _document(path.read_bytes(), str(path), str(path))

    @staticmethod
    def _lines(path: Path) -> Iterator[Document | Malformed]:
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if raw.strip():
                    yield _document(raw.rstrip(b"\r\n"), f"{path}:{number}", f"{path}:{number}")


def _document(raw: bytes, doc_id: str, where: str) -> Document | Malformed:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Malformed(where, "read.invalid_utf8", f"{exc}; starts {raw[:200]!r}", id=doc_id)
    if not text.strip():
        return Malformed(where, "read.empty", "", id=doc_id)
    return Document(id=doc_id, text=text.removeprefix("\ufeff"))
