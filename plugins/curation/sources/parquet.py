"""Parquet files, read in record batches so memory stays bounded."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from herd.core.protocols import Malformed
from herd.core.records import Document
from herd.plugins.curation.sources.records import to_document

BATCH = 1024


class ParquetSource:
    def __init__(self, config: object = None):
        self.config = config

    def read(self, path: Path) -> Iterator[Document | Malformed]:
        import pyarrow.parquet as pq

        row = 0
        try:
            parquet = pq.ParquetFile(path)
            for batch in parquet.iter_batches(batch_size=BATCH):
                for record in batch.to_pylist():
                    yield to_document(record, f"{path}: row {row}")
                    row += 1
        except Exception as exc:  # pyarrow raises ArrowInvalid/OSError on damaged files
            yield Malformed(f"{path}: at row {row}", "read.unreadable", f"{type(exc).__name__}: {exc}")
