"""Hugging Face datasets saved with ``Dataset.save_to_disk`` (a folder, read with
``datasets.load_from_disk``). A ``DatasetDict`` is read split by split."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from herd.core.protocols import Malformed
from herd.core.records import Document
from herd.plugins.curation.sources.records import to_document

# ``save_to_disk`` writes these; a folder holding them is one dataset, not a folder of files.
MARKERS = ("dataset_info.json", "dataset_dict.json", "state.json")


def is_saved_dataset(path: Path) -> bool:
    return path.is_dir() and any((path / marker).is_file() for marker in MARKERS)


class HFDiskSource:
    def __init__(self, config: object = None):
        self.config = config

    def read(self, path: Path) -> Iterator[Document | Malformed]:
        try:
            import datasets

            loaded = datasets.load_from_disk(str(path))
        except Exception as exc:
            yield Malformed(str(path), "read.unreadable", f"{type(exc).__name__}: {exc}")
            return
        splits = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [("", loaded)]
        for split, dataset in splits:
            label = f"{path}[{split}]" if split else str(path)
            row = 0
            try:
                for row, record in enumerate(dataset):
                    yield to_document(record, f"{label}: row {row}")
            except Exception as exc:
                yield Malformed(f"{label}: at row {row}", "read.unreadable", f"{type(exc).__name__}: {exc}")
