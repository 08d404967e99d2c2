"""Append-only numpy columns on disk, so corpus steps keep O(1) state in memory while observing.

``observe`` runs before the runner hands a step its ``workdir`` (``finalize(workdir)``), so rows
are first spilled to a private temporary directory (``spill_dir`` in the step's config, or the
system temp dir), and ``finalize`` moves what it keeps under ``workdir``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np


class Spill:
    """Named columns of fixed dtypes, buffered in memory up to ``buffer_rows`` then appended to
    one raw file per column."""

    def __init__(self, name: str, columns: dict[str, np.dtype | type], spill_dir: str = "", buffer_rows: int = 65536):
        self.name = name
        self.columns = {k: np.dtype(v) for k, v in columns.items()}
        self.spill_dir = spill_dir
        self.buffer_rows = buffer_rows
        self.root: Path | None = None
        self.rows = 0
        self._buffers: dict[str, list[np.ndarray]] = {k: [] for k in self.columns}
        self._buffered = 0

    def _ensure_root(self) -> Path:
        if self.root is None:
            base = self.spill_dir or None
            if base:
                Path(base).mkdir(parents=True, exist_ok=True)
            self.root = Path(tempfile.mkdtemp(prefix=f"herd-{self.name}-", dir=base))
        return self.root

    def append(self, **values: np.ndarray | int | float) -> None:
        """Append rows: every column gets an array (or scalar) of the same length."""
        arrays = {k: np.atleast_1d(np.asarray(values[k], dtype=dt)) for k, dt in self.columns.items()}
        n = len(next(iter(arrays.values())))
        for k, arr in arrays.items():
            if len(arr) != n:
                raise ValueError(f"spill {self.name}: column {k} has {len(arr)} rows, expected {n}")
            self._buffers[k].append(arr)
        self._buffered += n
        self.rows += n
        if self._buffered >= self.buffer_rows:
            self.flush()

    def flush(self) -> None:
        if not self._buffered:
            return
        root = self._ensure_root()
        for k, parts in self._buffers.items():
            with open(root / f"{k}.bin", "ab") as fh:
                np.concatenate(parts).tofile(fh)
            self._buffers[k] = []
        self._buffered = 0

    def column(self, key: str, mmap: bool = True) -> np.ndarray:
        """The whole column (memory-mapped by default: pages are read on use)."""
        self.flush()
        dtype = self.columns[key]
        if self.rows == 0 or self.root is None:
            return np.zeros(0, dtype)
        path = self.root / f"{key}.bin"
        if mmap:
            return np.memmap(path, dtype=dtype, mode="r", shape=(self.rows,))
        return np.fromfile(path, dtype=dtype)

    def close(self) -> None:
        """Delete the temporary files."""
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
        self._buffers = {k: [] for k in self.columns}
        self._buffered = 0
        self.rows = 0


class DropSet:
    """A sorted array of id hashes of documents to drop, saved under the step's workdir."""

    def __init__(self, hashes: np.ndarray):
        self.hashes = np.unique(np.asarray(hashes, dtype=np.uint64))

    def __contains__(self, value: int) -> bool:
        if not len(self.hashes):
            return False
        i = int(np.searchsorted(self.hashes, np.uint64(value)))
        return i < len(self.hashes) and int(self.hashes[i]) == value

    def __len__(self) -> int:
        return len(self.hashes)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, self.hashes)

    @classmethod
    def load(cls, path: Path) -> "DropSet":
        return cls(np.load(path))
